// The catalog model: lookups and the typed edits. Parsing and writing JSON
// are catalog_json.cc's; the rules an entry must satisfy catalog_rules.h's.
#include "server/state/catalog.h"

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "server/state/catalog_rules.h"

namespace edgepass::server {

using catalog_rules::BadAssetId;
using catalog_rules::CheckAsset;
using catalog_rules::IsValidAssetId;

namespace {

// `*policy` as the catalog file holds it: written as SMD policy JSON
// (`*json`) and read back by the file's rules, so that a catalog stored after
// a typed edit always loads again (a typed policy may hold what the file
// refuses: an nbf of 0, more than kMaxPolicyJsonBytes of paths).
absl::Status AsTheFileHoldsIt(absl::string_view where, absl::string_view prefix, core::TokenPolicy* policy,
                              std::string* json) {
  *json = core::TokenPolicyToJson(*policy);
  absl::StatusOr<core::TokenPolicy> read_back = core::ParseTokenPolicyJson(*json, prefix);
  if (!read_back.ok()) return catalog_rules::Within(where, read_back.status());
  *policy = *std::move(read_back);
  return absl::OkStatus();
}

// A named policy is the catalog's: the asset or variant naming `name` ("":
// an inline policy, left alone) takes its current value from `policies`.
absl::Status ResolveNamed(const std::map<std::string, NamedPolicy>& policies, absl::string_view where,
                          const std::string& name, core::TokenPolicy* policy) {
  if (name.empty()) return absl::OkStatus();
  EDGEPASS_ASSIGN_OR_RETURN(const NamedPolicy* named, catalog_rules::FindNamedPolicy(policies, where, name));
  *policy = named->policy;
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Catalog> Catalog::Merge(const Catalog& base, const Catalog& overlay,
                                       absl::string_view source) {
  std::map<std::string, NamedPolicy> policies = base.policies_;
  for (const auto& [name, p] : overlay.policies_) policies[name] = p;
  std::vector<Asset> assets = base.assets_;
  for (const Asset& a : overlay.assets_) {
    auto it = base.index_.find(a.id);
    if (it != base.index_.end()) {
      assets[it->second] = a;
    } else {
      assets.push_back(a);
    }
  }
  return FromParts(std::move(policies), std::move(assets), source);
}

absl::StatusOr<Catalog> Catalog::WithAsset(const Catalog& base, Asset asset, absl::string_view where_prefix) {
  const std::string where =
      absl::StrCat(where_prefix, " (id \"", absl::string_view(asset.id).substr(0, kMaxAssetIdLength), "\")");
  if (!IsValidAssetId(asset.id)) {
    return BadAssetId(where, "id");
  }
  // A named policy is the catalog's; an inline one is kept as the file will
  // hold it.
  auto resolve = [&](absl::string_view at, const std::string& name, std::string& inline_json,
                     core::TokenPolicy& policy) -> absl::Status {
    if (!name.empty()) {
      inline_json.clear();
      return ResolveNamed(base.policies_, at, name, &policy);
    }
    return AsTheFileHoldsIt(at, "token_policy.", &policy, &inline_json);
  };
  EDGEPASS_RETURN_IF_ERROR(resolve(where, asset.policy_name, asset.inline_policy_json, asset.policy));
  if (asset.variants.size() > kMaxAssetVariants) {
    return core::FieldError(where, absl::StrCat("variants: more than ", kMaxAssetVariants));
  }
  for (auto& [entitlement, v] : asset.variants) {
    const std::string at =
        absl::StrCat(where, ": variants[\"", absl::string_view(entitlement).substr(0, kMaxAssetIdLength), "\"]");
    if (!IsValidAssetId(entitlement)) {
      return BadAssetId(at, "entitlement");
    }
    EDGEPASS_RETURN_IF_ERROR(resolve(at, v.policy_name, v.inline_policy_json, v.policy));
  }
  if (!asset.fallback_asset.empty() && !IsValidAssetId(asset.fallback_asset)) {
    return core::FieldError(where, "fallback_asset: must be an asset id");
  }
  EDGEPASS_RETURN_IF_ERROR(CheckAsset(asset, where));
  return Put(base, std::move(asset), where_prefix);
}

absl::StatusOr<Catalog> Catalog::Put(const Catalog& base, Asset asset, absl::string_view where) {
  std::vector<Asset> assets = base.assets_;
  if (auto it = base.index_.find(asset.id); it != base.index_.end()) {
    assets[it->second] = std::move(asset);
  } else {
    if (assets.size() >= kMaxCatalogAssets) {
      return absl::ResourceExhaustedError(
          absl::StrCat(where, ": the catalog holds the maximum of ", kMaxCatalogAssets, " assets"));
    }
    assets.push_back(std::move(asset));
  }
  return FromParts(base.policies_, std::move(assets), where);
}

absl::StatusOr<Catalog> Catalog::WithPolicy(const Catalog& base, absl::string_view name,
                                            const core::TokenPolicy& policy, absl::string_view where) {
  if (name.empty() || name.size() > kMaxAssetIdLength || !IsValidAssetId(name)) {
    return BadAssetId(where, "name");
  }
  NamedPolicy named{.policy = policy};
  EDGEPASS_RETURN_IF_ERROR(AsTheFileHoldsIt(where, "policy.", &named.policy, &named.json));
  return Put(base, name, std::move(named), where);
}

absl::StatusOr<Catalog> Catalog::Put(const Catalog& base, absl::string_view name, NamedPolicy named,
                                     absl::string_view where) {
  std::map<std::string, NamedPolicy> policies = base.policies_;
  policies[std::string(name)] = std::move(named);
  std::vector<Asset> assets = base.assets_;
  for (Asset& a : assets) {
    bool uses = a.policy_name == name;
    if (uses) a.policy = policies[std::string(name)].policy;
    for (auto& [unused, v] : a.variants) {
      if (v.policy_name != name) continue;
      v.policy = policies[std::string(name)].policy;
      uses = true;
    }
    if (!uses) continue;
    if (absl::Status s = CheckAsset(a, absl::StrCat("assets \"", a.id, "\"")); !s.ok()) {
      return absl::FailedPreconditionError(
          absl::StrCat(where, ": policy does not suit the assets that use it: ", s.message()));
    }
  }
  return FromParts(std::move(policies), std::move(assets), where);
}

absl::StatusOr<Catalog> Catalog::WithoutAsset(const Catalog& base, absl::string_view id) {
  auto it = base.index_.find(id);
  if (it == base.index_.end()) {
    return absl::NotFoundError(absl::StrCat("id: unknown asset \"", id.substr(0, kMaxAssetIdLength), "\""));
  }
  for (const Asset& a : base.assets_) {
    if (a.fallback_asset == id) {
      return absl::FailedPreconditionError(
          absl::StrCat("id: asset \"", id, "\" is the fallback of asset \"", a.id, "\""));
    }
  }
  std::vector<Asset> assets = base.assets_;
  assets.erase(assets.begin() + static_cast<std::ptrdiff_t>(it->second));
  return FromParts(base.policies_, std::move(assets), "catalog");
}

absl::StatusOr<Catalog> Catalog::WithoutPolicy(const Catalog& base, absl::string_view name) {
  auto it = base.policies_.find(std::string(name));
  if (it == base.policies_.end()) {
    return absl::NotFoundError(
        absl::StrCat("name: unknown policy \"", name.substr(0, kMaxAssetIdLength), "\""));
  }
  for (const Asset& a : base.assets_) {
    bool uses = a.policy_name == name;
    for (const auto& [unused, v] : a.variants) uses = uses || v.policy_name == name;
    if (uses) {
      return absl::FailedPreconditionError(
          absl::StrCat("name: policy \"", name, "\" is used by asset \"", a.id, "\""));
    }
  }
  std::map<std::string, NamedPolicy> policies = base.policies_;
  policies.erase(std::string(name));
  return FromParts(std::move(policies), base.assets_, "catalog");
}

absl::StatusOr<Catalog> Catalog::FromParts(std::map<std::string, NamedPolicy> policies,
                                           std::vector<Asset> assets, absl::string_view source) {
  if (assets.size() > kMaxCatalogAssets) {
    return core::FieldError(source, absl::StrCat("assets: more than ", kMaxCatalogAssets, " entries"));
  }
  Catalog catalog;
  for (size_t i = 0; i < assets.size(); ++i) {
    Asset& asset = assets[i];
    const std::string where = absl::StrCat(source, ": assets[", i, "] (id \"",
                                           absl::string_view(asset.id).substr(0, kMaxAssetIdLength), "\")");
    if (!IsValidAssetId(asset.id)) return BadAssetId(where, "id");
    // Named policies take their current value (a merge or a policy edit may
    // have replaced one).
    EDGEPASS_RETURN_IF_ERROR(ResolveNamed(policies, where, asset.policy_name, &asset.policy));
    if (asset.variants.size() > kMaxAssetVariants) {
      return core::FieldError(where, absl::StrCat("variants: more than ", kMaxAssetVariants));
    }
    for (auto& [entitlement, v] : asset.variants) {
      const std::string at = absl::StrCat(where, ": variants[\"",
                                          absl::string_view(entitlement).substr(0, kMaxAssetIdLength), "\"]");
      if (!IsValidAssetId(entitlement)) return BadAssetId(at, "entitlement");
      EDGEPASS_RETURN_IF_ERROR(ResolveNamed(policies, at, v.policy_name, &v.policy));
    }
    EDGEPASS_RETURN_IF_ERROR(CheckAsset(asset, where));
    auto [it, added] = catalog.index_.emplace(asset.id, i);
    if (!added) {
      return core::FieldError(where, absl::StrCat("id: duplicate of assets[", it->second, "]"));
    }
  }
  for (size_t i = 0; i < assets.size(); ++i) {
    const Asset& a = assets[i];
    if (!a.fallback_asset.empty() && catalog.index_.count(a.fallback_asset) == 0) {
      return core::FieldError(absl::StrCat(source, ": assets[", i, "] (id \"", a.id, "\")"),
                              absl::StrCat("fallback_asset: unknown asset \"", a.fallback_asset, "\""));
    }
  }
  catalog.policies_ = std::move(policies);
  catalog.assets_ = std::move(assets);
  return catalog;
}

const Asset* Catalog::Find(absl::string_view id) const {
  auto it = index_.find(id);
  return it == index_.end() ? nullptr : &assets_[it->second];
}

absl::StatusOr<Playable> Catalog::Resolve(absl::string_view id, absl::string_view entitlement) const {
  const Asset* asset = Find(id);
  if (asset == nullptr) {
    return absl::NotFoundError(absl::StrCat("asset_id: unknown asset \"", id.substr(0, kMaxAssetIdLength), "\""));
  }
  if (!entitlement.empty()) {
    if (auto v = asset->variants.find(entitlement); v != asset->variants.end()) {
      return Playable{asset, v->first, v->second.url_path, &v->second.policy};
    }
  }
  if (!asset->fallback_asset.empty()) {
    const Asset* fallback = Find(asset->fallback_asset);  // Parse() checked it exists
    if (fallback != nullptr) return Playable{fallback, "", fallback->url_path, &fallback->policy};
  }
  return Playable{asset, "", asset->url_path, &asset->policy};
}

}  // namespace edgepass::server
