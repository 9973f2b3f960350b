#include "server/api/catalog_service.h"

#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "core/token_policy.h"
#include "nlohmann/json.hpp"
#include "server/api/proto_convert.h"
#include "server/api/status_map.h"

namespace edgepass::server {
namespace {

using nlohmann::json;

constexpr size_t kMaxNameBytes = 256;

// Catalog errors read "<where>: <field>: ..." or "<where> (id "x"): <field>:
// ..."; the API names fields with dots ("asset.url_path: ..."), like every
// other RPC.
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

absl::Status CheckName(absl::string_view field, const std::string& value) {
  if (value.empty()) return absl::InvalidArgumentError(absl::StrCat(field, ": required"));
  if (value.size() > kMaxNameBytes) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": longer than ", kMaxNameBytes, " bytes"));
  }
  return absl::OkStatus();
}

// A catalog policy must state its expiry; the data plane's default TTL is
// only for IssueToken's inline policies. A relative expiry beyond the
// server's maximum token lifetime is refused here (an absolute one can only
// be judged when a token is issued).
absl::StatusOr<core::TokenPolicy> CatalogPolicyFromProto(
    const v1::TokenPolicy& policy, absl::string_view prefix,
    absl::Duration max_ttl) {
  if (policy.exp().empty()) return absl::InvalidArgumentError(absl::StrCat(prefix, "exp: required"));
  EDGEPASS_ASSIGN_OR_RETURN(
      core::TokenPolicy parsed,
      TokenPolicyFromProto(policy, absl::ZeroDuration(), prefix));
  if (parsed.exp.relative && parsed.exp.after > max_ttl) {
    return absl::InvalidArgumentError(absl::StrCat(
        prefix, "exp: ", parsed.exp.text, " is more than the server's ",
        absl::FormatDuration(max_ttl), " maximum token lifetime"));
  }
  return parsed;
}

// The catalog file's "token_policy" value of a proto policy reference.
template <typename Message>
absl::StatusOr<json> PolicyRefFromProto(const Message& m,
                                        const std::string& prefix,
                                        absl::Duration max_ttl) {
  if (m.has_inline_policy()) {
    EDGEPASS_ASSIGN_OR_RETURN(
        core::TokenPolicy policy,
        CatalogPolicyFromProto(m.inline_policy(), prefix + "inline_policy.",
                               max_ttl));
    return json::parse(core::TokenPolicyToJson(policy));
  }
  if (!m.policy_name().empty()) {
    EDGEPASS_RETURN_IF_ERROR(CheckName(prefix + "policy_name", m.policy_name()));
    return json(m.policy_name());
  }
  return absl::InvalidArgumentError(absl::StrCat(prefix, "token_policy: policy_name or inline_policy required"));
}

template <typename Message>
void PolicyRefToProto(const std::string& policy_name, const core::TokenPolicy& policy, Message* out) {
  if (!policy_name.empty()) {
    out->set_policy_name(policy_name);
  } else {
    *out->mutable_inline_policy() = TokenPolicyToProto(policy);
  }
}

absl::StatusOr<std::string> AssetJsonFromProto(const v1::Asset& asset,
                                               absl::Duration max_ttl) {
  EDGEPASS_RETURN_IF_ERROR(CheckName("asset.id", asset.id()));
  json obj = {{"id", asset.id()},
              {"hostname", asset.hostname()},
              {"url_path", asset.url_path()},
              {"scheme", asset.scheme().empty() ? std::string(kSmdTokenScheme) : asset.scheme()}};
  EDGEPASS_ASSIGN_OR_RETURN(obj["token_policy"],
                            PolicyRefFromProto(asset, "asset.", max_ttl));
  if (asset.variants_size() > static_cast<int>(kMaxAssetVariants)) {
    return absl::InvalidArgumentError(absl::StrCat("asset.variants: more than ", kMaxAssetVariants));
  }
  if (!asset.variants().empty()) {
    json variants = json::object();
    for (const auto& [entitlement, variant] : asset.variants()) {
      const std::string prefix = absl::StrCat("asset.variants[\"", entitlement.substr(0, kMaxAssetIdLength), "\"].");
      EDGEPASS_RETURN_IF_ERROR(CheckName(prefix + "entitlement", entitlement));
      EDGEPASS_ASSIGN_OR_RETURN(json policy,
                                PolicyRefFromProto(variant, prefix, max_ttl));
      variants[entitlement] = {{"url_path", variant.url_path()}, {"token_policy", std::move(policy)}};
    }
    obj["variants"] = std::move(variants);
  }
  if (!asset.fallback_asset_id().empty()) {
    EDGEPASS_RETURN_IF_ERROR(CheckName("asset.fallback_asset_id", asset.fallback_asset_id()));
    obj["fallback_asset"] = asset.fallback_asset_id();
  }
  if (!asset.cloudfront_key_pair_id().empty()) obj["cloudfront_key_pair_id"] = asset.cloudfront_key_pair_id();
  if (!asset.cookie_domain().empty()) obj["cookie_domain"] = asset.cookie_domain();
  if (!asset.cookie_same_site().empty()) obj["cookie_same_site"] = asset.cookie_same_site();
  return obj.dump();
}

void AssetToProto(const Asset& asset, v1::Asset* out) {
  out->set_id(asset.id);
  out->set_hostname(asset.hostname);
  out->set_url_path(asset.url_path);
  out->set_scheme(asset.scheme);
  PolicyRefToProto(asset.policy_name, asset.policy, out);
  for (const auto& [entitlement, variant] : asset.variants) {
    v1::AssetVariant& v = (*out->mutable_variants())[entitlement];
    v.set_url_path(variant.url_path);
    PolicyRefToProto(variant.policy_name, variant.policy, &v);
  }
  out->set_fallback_asset_id(asset.fallback_asset);
  out->set_cloudfront_key_pair_id(asset.cloudfront_key_pair_id);
  out->set_cookie_domain(asset.cookie_domain);
  out->set_cookie_same_site(asset.cookie_same_site);
}

void PolicyToProto(const std::string& name, const NamedPolicy& policy, v1::NamedPolicy* out) {
  out->set_name(name);
  *out->mutable_policy() = TokenPolicyToProto(policy.policy);
}

}  // namespace

absl::Status CatalogServiceImpl::Write(const CatalogStore::Mutation& mutate) {
  EDGEPASS_RETURN_IF_ERROR(store_->Update(mutate).status());
  live_->RequestReload(ChangeKind::kCatalog);
  return absl::OkStatus();
}

grpc::Status CatalogServiceImpl::PutAsset(grpc::ServerContext*, const v1::PutAssetRequest* request,
                                          v1::Asset* response) {
  auto run = [&]() -> absl::Status {
    EDGEPASS_ASSIGN_OR_RETURN(
        std::string asset_json,
        AssetJsonFromProto(request->asset(), max_token_ttl_));
    Catalog stored;
    EDGEPASS_RETURN_IF_ERROR(Write([&](const Catalog& current) -> absl::StatusOr<Catalog> {
      absl::StatusOr<Catalog> next = Catalog::WithAsset(current, asset_json, "asset");
      if (!next.ok()) return AsFieldPath(next.status(), "asset");
      stored = *next;
      return next;
    }));
    AssetToProto(*stored.Find(request->asset().id()), response);
    return absl::OkStatus();
  };
  return ToGrpcStatus(run());
}

grpc::Status CatalogServiceImpl::GetAsset(grpc::ServerContext*, const v1::GetAssetRequest* request,
                                          v1::Asset* response) {
  auto run = [&]() -> absl::Status {
    EDGEPASS_RETURN_IF_ERROR(CheckName("id", request->id()));
    EDGEPASS_ASSIGN_OR_RETURN(VersionedCatalog c, store_->Load());
    const Asset* asset = c.catalog->Find(request->id());
    if (asset == nullptr) {
      return absl::NotFoundError(absl::StrCat("id: unknown asset \"", request->id(), "\""));
    }
    AssetToProto(*asset, response);
    return absl::OkStatus();
  };
  return ToGrpcStatus(run());
}

grpc::Status CatalogServiceImpl::ListAssets(grpc::ServerContext*,
                                            const v1::ListAssetsRequest* request,
                                            v1::ListAssetsResponse* response) {
  auto run = [&]() -> absl::Status {
    if (request->page_size() < 0) return absl::InvalidArgumentError("page_size: must be >= 0");
    if (request->page_token().size() > kMaxNameBytes) {
      return absl::InvalidArgumentError("page_token: not a token this service returned");
    }
    const int page_size = request->page_size() == 0 || request->page_size() > kMaxListPageSize
                              ? kMaxListPageSize
                              : request->page_size();
    EDGEPASS_ASSIGN_OR_RETURN(VersionedCatalog c, store_->Load());
    std::vector<const Asset*> sorted;
    for (const Asset& a : c.catalog->assets()) {
      if (a.id > request->page_token()) sorted.push_back(&a);
    }
    std::sort(sorted.begin(), sorted.end(), [](const Asset* a, const Asset* b) { return a->id < b->id; });
    for (const Asset* a : sorted) {
      if (response->assets_size() == page_size) {
        response->set_next_page_token(response->assets(page_size - 1).id());
        break;
      }
      AssetToProto(*a, response->add_assets());
    }
    return absl::OkStatus();
  };
  return ToGrpcStatus(run());
}

grpc::Status CatalogServiceImpl::DeleteAsset(grpc::ServerContext*,
                                             const v1::DeleteAssetRequest* request,
                                             google::protobuf::Empty*) {
  auto run = [&]() -> absl::Status {
    EDGEPASS_RETURN_IF_ERROR(CheckName("id", request->id()));
    return Write([&](const Catalog& current) { return Catalog::WithoutAsset(current, request->id()); });
  };
  return ToGrpcStatus(run());
}

grpc::Status CatalogServiceImpl::PutPolicy(grpc::ServerContext*, const v1::PutPolicyRequest* request,
                                           v1::NamedPolicy* response) {
  auto run = [&]() -> absl::Status {
    const v1::NamedPolicy& named = request->policy();
    EDGEPASS_RETURN_IF_ERROR(CheckName("policy.name", named.name()));
    EDGEPASS_ASSIGN_OR_RETURN(
        core::TokenPolicy policy,
        CatalogPolicyFromProto(named.policy(), "policy.policy.",
                               max_token_ttl_));
    const std::string policy_json = core::TokenPolicyToJson(policy);
    EDGEPASS_RETURN_IF_ERROR(Write([&](const Catalog& current) -> absl::StatusOr<Catalog> {
      absl::StatusOr<Catalog> next = Catalog::WithPolicy(current, named.name(), policy_json, "policy");
      if (!next.ok()) return AsFieldPath(next.status(), "policy");
      return next;
    }));
    response->set_name(named.name());
    *response->mutable_policy() = TokenPolicyToProto(policy);
    return absl::OkStatus();
  };
  return ToGrpcStatus(run());
}

grpc::Status CatalogServiceImpl::GetPolicy(grpc::ServerContext*, const v1::GetPolicyRequest* request,
                                           v1::NamedPolicy* response) {
  auto run = [&]() -> absl::Status {
    EDGEPASS_RETURN_IF_ERROR(CheckName("name", request->name()));
    EDGEPASS_ASSIGN_OR_RETURN(VersionedCatalog c, store_->Load());
    auto it = c.catalog->policies().find(request->name());
    if (it == c.catalog->policies().end()) {
      return absl::NotFoundError(absl::StrCat("name: unknown policy \"", request->name(), "\""));
    }
    PolicyToProto(it->first, it->second, response);
    return absl::OkStatus();
  };
  return ToGrpcStatus(run());
}

grpc::Status CatalogServiceImpl::ListPolicies(grpc::ServerContext*, const v1::ListPoliciesRequest*,
                                              v1::ListPoliciesResponse* response) {
  auto run = [&]() -> absl::Status {
    EDGEPASS_ASSIGN_OR_RETURN(VersionedCatalog c, store_->Load());
    for (const auto& [name, policy] : c.catalog->policies()) {
      PolicyToProto(name, policy, response->add_policies());
    }
    return absl::OkStatus();
  };
  return ToGrpcStatus(run());
}

grpc::Status CatalogServiceImpl::DeletePolicy(grpc::ServerContext*,
                                              const v1::DeletePolicyRequest* request,
                                              google::protobuf::Empty*) {
  auto run = [&]() -> absl::Status {
    EDGEPASS_RETURN_IF_ERROR(CheckName("name", request->name()));
    return Write([&](const Catalog& current) { return Catalog::WithoutPolicy(current, request->name()); });
  };
  return ToGrpcStatus(run());
}

}  // namespace edgepass::server
