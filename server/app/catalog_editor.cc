#include "server/app/catalog_editor.h"

#include <algorithm>
#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/status_macros.h"

namespace edgepass::server {
namespace {

// Catalog errors read "<where>: <field>: ..." or "<where> (id "x"): <field>:
// ..."; the API names fields with dots ("asset.url_path: ..."), like every
// other call.
absl::Status AsFieldPath(const absl::Status& status, absl::string_view where) {
  absl::string_view m = status.message();
  if (status.ok() || !absl::StartsWith(m, where)) return status;
  m.remove_prefix(where.size());
  if (absl::StartsWith(m, " (id \"")) {
    const size_t end = m.find("\"): ");
    if (end == absl::string_view::npos) return status;
    m.remove_prefix(end + 4);
  } else if (absl::StartsWith(m, ": ")) {
    m.remove_prefix(2);
  } else {
    return status;
  }
  return absl::Status(status.code(), absl::StrCat(where, ".", m));
}

}  // namespace

absl::Status CheckCatalogName(absl::string_view field, absl::string_view value) {
  if (value.empty()) return absl::InvalidArgumentError(absl::StrCat(field, ": required"));
  if (value.size() > kMaxAssetIdLength) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": longer than ", kMaxAssetIdLength, " bytes"));
  }
  return absl::OkStatus();
}

absl::Status SeedSampleCatalog(CatalogStore& store) {
  EDGEPASS_ASSIGN_OR_RETURN(VersionedCatalog stored, store.Load());
  if (stored.version != 0) return absl::OkStatus();
  absl::Status seeded = store
                            .Update([](const Catalog& current) -> absl::StatusOr<Catalog> {
                              if (!current.assets().empty() || !current.policies().empty()) {
                                return absl::AlreadyExistsError("seeded meanwhile");  // store nothing
                              }
                              return Catalog::Parse(SampleCatalogJson(), "sample catalog");
                            })
                            .status();
  return absl::IsAlreadyExists(seeded) ? absl::OkStatus() : seeded;
}

absl::Status CatalogEditor::Write(const CatalogStore::Mutation& mutate) const {
  EDGEPASS_RETURN_IF_ERROR(store_->Update(mutate).status());
  live_->RequestReload(ChangeKind::kCatalog);
  return absl::OkStatus();
}

absl::Status CatalogEditor::CheckTtl(const core::TokenPolicy& policy, absl::string_view field) const {
  if (!policy.exp.relative || policy.exp.after <= max_token_ttl_) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(field, "exp: ", policy.exp.text, " is more than the server's ",
                                                 absl::FormatDuration(max_token_ttl_), " maximum token lifetime"));
}

absl::StatusOr<Asset> CatalogEditor::PutAsset(Asset asset) const {
  EDGEPASS_RETURN_IF_ERROR(CheckCatalogName("asset.id", asset.id));
  if (asset.policy_name.empty()) EDGEPASS_RETURN_IF_ERROR(CheckTtl(asset.policy, "asset.inline_policy."));
  for (const auto& [entitlement, variant] : asset.variants) {
    if (!variant.policy_name.empty()) continue;
    EDGEPASS_RETURN_IF_ERROR(
        CheckTtl(variant.policy, absl::StrCat("asset.variants[\"", entitlement, "\"].inline_policy.")));
  }
  const std::string id = asset.id;
  Catalog stored;
  EDGEPASS_RETURN_IF_ERROR(Write([&](const Catalog& current) -> absl::StatusOr<Catalog> {
    absl::StatusOr<Catalog> next = Catalog::WithAsset(current, asset, "asset");
    if (!next.ok()) return AsFieldPath(next.status(), "asset");
    stored = *next;
    return next;
  }));
  return *stored.Find(id);
}

absl::StatusOr<Asset> CatalogEditor::GetAsset(absl::string_view id) const {
  EDGEPASS_RETURN_IF_ERROR(CheckCatalogName("id", id));
  EDGEPASS_ASSIGN_OR_RETURN(VersionedCatalog c, store_->Load());
  const Asset* asset = c.catalog->Find(id);
  if (asset == nullptr) return absl::NotFoundError(absl::StrCat("id: unknown asset \"", id, "\""));
  return *asset;
}

absl::StatusOr<AssetPage> CatalogEditor::ListAssets(int page_size, absl::string_view page_token) const {
  if (page_size < 0) return absl::InvalidArgumentError("page_size: must be >= 0");
  if (page_token.size() > kMaxAssetIdLength) {
    return absl::InvalidArgumentError("page_token: not a token this service returned");
  }
  const size_t limit = page_size == 0 || page_size > kMaxListPageSize ? kMaxListPageSize : page_size;
  EDGEPASS_ASSIGN_OR_RETURN(VersionedCatalog c, store_->Load());
  std::vector<const Asset*> sorted;
  for (const Asset& a : c.catalog->assets()) {
    if (a.id > page_token) sorted.push_back(&a);
  }
  std::sort(sorted.begin(), sorted.end(), [](const Asset* a, const Asset* b) { return a->id < b->id; });
  AssetPage page;
  for (const Asset* a : sorted) {
    if (page.assets.size() == limit) {
      page.next_page_token = page.assets.back().id;
      break;
    }
    page.assets.push_back(*a);
  }
  return page;
}

absl::Status CatalogEditor::DeleteAsset(absl::string_view id) const {
  EDGEPASS_RETURN_IF_ERROR(CheckCatalogName("id", id));
  return Write([&](const Catalog& current) { return Catalog::WithoutAsset(current, id); });
}

absl::StatusOr<NamedPolicy> CatalogEditor::PutPolicy(absl::string_view name, const core::TokenPolicy& policy) const {
  EDGEPASS_RETURN_IF_ERROR(CheckCatalogName("policy.name", name));
  EDGEPASS_RETURN_IF_ERROR(CheckTtl(policy, "policy.policy."));
  EDGEPASS_RETURN_IF_ERROR(Write([&](const Catalog& current) -> absl::StatusOr<Catalog> {
    absl::StatusOr<Catalog> next = Catalog::WithPolicy(current, name, policy, "policy");
    if (!next.ok()) return AsFieldPath(next.status(), "policy");
    return next;
  }));
  return NamedPolicy{.json = core::TokenPolicyToJson(policy), .policy = policy};
}

absl::StatusOr<NamedPolicy> CatalogEditor::GetPolicy(absl::string_view name) const {
  EDGEPASS_RETURN_IF_ERROR(CheckCatalogName("name", name));
  EDGEPASS_ASSIGN_OR_RETURN(VersionedCatalog c, store_->Load());
  auto it = c.catalog->policies().find(std::string(name));
  if (it == c.catalog->policies().end()) {
    return absl::NotFoundError(absl::StrCat("name: unknown policy \"", name, "\""));
  }
  return it->second;
}

absl::StatusOr<std::map<std::string, NamedPolicy>> CatalogEditor::ListPolicies() const {
  EDGEPASS_ASSIGN_OR_RETURN(VersionedCatalog c, store_->Load());
  return c.catalog->policies();
}

absl::Status CatalogEditor::DeletePolicy(absl::string_view name) const {
  EDGEPASS_RETURN_IF_ERROR(CheckCatalogName("name", name));
  return Write([&](const Catalog& current) { return Catalog::WithoutPolicy(current, name); });
}

}  // namespace edgepass::server
