#include "server/catalog.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/cloudfront_cookie.h"
#include "core/cloudfront_signer.h"
#include "core/status_macros.h"
#include "core/validator.h"
#include "server/json_util.h"

namespace edgepass::server {
namespace {

using nlohmann::json;

absl::Status Invalid(absl::string_view where, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(where, ": ", what));
}

// Re-prefixes a status from a nested parser with the entry it belongs to.
absl::Status Within(absl::string_view where, const absl::Status& status) {
  return absl::Status(status.code(), absl::StrCat(where, ": ", status.message()));
}

bool IsValidAssetId(absl::string_view id) {
  if (id.empty() || id.size() > kMaxAssetIdLength) return false;
  for (char c : id) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' &&
        c != '.' && c != ':') {
      return false;
    }
  }
  return true;
}

// host name or IP literal, optional :port. No userinfo, path or whitespace.
bool IsValidHostname(absl::string_view host) {
  if (host.empty() || host.size() > kMaxHostnameLength) return false;
  for (char c : host) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.' &&
        c != ':' && c != '[' && c != ']') {
      return false;
    }
  }
  return true;
}

absl::StatusOr<std::string> RequiredString(const json& obj, const char* key,
                                           absl::string_view where) {
  auto it = obj.find(key);
  if (it == obj.end()) return Invalid(where, absl::StrCat(key, ": required"));
  if (!it->is_string()) {
    return Invalid(where, absl::StrCat(key, ": must be a string, got ", JsonTypeName(*it)));
  }
  return it->get_ref<const std::string&>();
}

// A manifest path and the policy it is served under.
absl::Status CheckServed(absl::string_view url_path, const core::TokenPolicy& policy, absl::string_view where) {
  if (url_path.empty() || url_path[0] != '/') return Invalid(where, "url_path: must start with '/'");
  if (url_path.size() > kMaxUrlPathLength) {
    return Invalid(where, absl::StrCat("url_path: longer than ", kMaxUrlPathLength, " bytes"));
  }
  if (!core::IsSafePath(url_path)) {
    return Invalid(where, "url_path: has dot segments, '//', encoded separators or control characters");
  }
  bool covered = false;
  for (const auto& p : policy.paths) covered = covered || core::PathPrefixMatches(p, url_path);
  for (const auto& p : policy.exc) covered = covered || core::PathPrefixMatches(p, url_path);
  if (!covered) {
    return Invalid(where, absl::StrCat("url_path: \"", url_path, "\" is not opened by any token_policy.paths entry"));
  }
  return absl::OkStatus();
}

// What a CloudFront policy can express of `policy`: exp, nbf and ip. Any
// other binding is refused rather than silently dropped.
absl::Status CheckCloudFrontPolicy(const core::TokenPolicy& policy, absl::string_view scheme,
                                   absl::string_view where) {
  auto refuse = [&](absl::string_view field) {
    return Invalid(where, absl::StrCat("token_policy.", field, ": a CloudFront policy cannot check it (scheme \"",
                                       scheme, "\" takes only paths, exp, nbf and ip)"));
  };
  if (!policy.exc.empty()) return refuse("exc");
  if (policy.ssn) return refuse("ssn");
  if (policy.co || policy.co_fallback) return refuse("co");
  if (policy.cty) return refuse("cty");
  if (policy.reg || policy.reg_fallback) return refuse("reg");
  if (!policy.headers.empty()) return refuse("headers");
  if (!policy.querystrings.empty()) return refuse("querystrings");
  if (scheme == kCloudFrontCookieScheme && policy.paths.size() != 1) {
    return Invalid(where, absl::StrCat("token_policy.paths: scheme \"", scheme,
                                       "\" takes exactly one path (the cookies' Path and the policy's resource), got ",
                                       policy.paths.size()));
  }
  return absl::OkStatus();
}

// The CloudFront fields of an asset, for its scheme.
absl::Status CheckCloudFrontFields(const Asset& asset, absl::string_view where) {
  const bool cookie = asset.scheme == kCloudFrontCookieScheme;
  if (!asset.is_cloudfront()) {
    if (!asset.cloudfront_key_pair_id.empty()) {
      return Invalid(where, "cloudfront_key_pair_id: only for the cloudfront-url and cloudfront-cookie schemes");
    }
  } else if (asset.cloudfront_key_pair_id.empty()) {
    return Invalid(where, absl::StrCat("cloudfront_key_pair_id: required for scheme \"", asset.scheme,
                                       "\" (the id of a key put with KeyService.PutCloudFrontKey)"));
  } else if (!core::IsValidCloudFrontKeyPairId(asset.cloudfront_key_pair_id)) {
    return Invalid(where, absl::StrCat("cloudfront_key_pair_id: must be 1-", core::kMaxCloudFrontKeyPairIdLength,
                                       " ASCII letters and digits"));
  }
  if (!cookie && (!asset.cookie_domain.empty() || !asset.cookie_same_site.empty())) {
    return Invalid(where, absl::StrCat(asset.cookie_domain.empty() ? "cookie_same_site" : "cookie_domain",
                                       ": only for the cloudfront-cookie scheme"));
  }
  if (!cookie) return absl::OkStatus();
  core::CloudFrontCookieAttributes attributes{.domain = asset.cookie_domain};
  absl::StatusOr<core::CookieSameSite> same_site = ParseCookieSameSite(asset.cookie_same_site);
  if (!same_site.ok()) return Within(where, same_site.status());
  attributes.same_site = *same_site;
  absl::StatusOr<std::vector<std::string>> formatted =
      core::FormatSetCookieHeaders({{"CloudFront-Key-Pair-Id", asset.cloudfront_key_pair_id}}, attributes);
  if (!formatted.ok()) {
    absl::string_view m = formatted.status().message();
    if (absl::StartsWith(m, "cookie.domain: ")) m.remove_prefix(std::string("cookie.domain: ").size());
    return Invalid(where, absl::StrCat("cookie_domain: ", m));
  }
  return absl::OkStatus();
}

absl::Status CheckAsset(const Asset& asset, absl::string_view where) {
  if (!IsValidHostname(asset.hostname)) {
    return Invalid(where, "hostname: must be a host name (letters, digits, '-', '.', optional :port)");
  }
  if (asset.scheme != kSmdTokenScheme && !asset.is_cloudfront()) {
    return Invalid(where, absl::StrCat("scheme: unsupported \"", asset.scheme, "\" (supported: \"",
                                       kSmdTokenScheme, "\", \"", kCloudFrontUrlScheme, "\", \"",
                                       kCloudFrontCookieScheme, "\")"));
  }
  EDGEPASS_RETURN_IF_ERROR(CheckCloudFrontFields(asset, where));
  EDGEPASS_RETURN_IF_ERROR(CheckServed(asset.url_path, asset.policy, where));
  if (asset.is_cloudfront()) EDGEPASS_RETURN_IF_ERROR(CheckCloudFrontPolicy(asset.policy, asset.scheme, where));
  for (const auto& [entitlement, variant] : asset.variants) {
    const std::string at = absl::StrCat(where, ": variants[\"", entitlement, "\"]");
    EDGEPASS_RETURN_IF_ERROR(CheckServed(variant.url_path, variant.policy, at));
    if (asset.is_cloudfront()) EDGEPASS_RETURN_IF_ERROR(CheckCloudFrontPolicy(variant.policy, asset.scheme, at));
  }
  if (asset.fallback_asset == asset.id) return Invalid(where, "fallback_asset: must be another asset");
  return absl::OkStatus();
}

// Reads "token_policy" (a policy name or an inline policy) of `obj`.
absl::Status ParsePolicyRef(const json& obj, const std::map<std::string, NamedPolicy>& policies,
                            absl::string_view where, std::string* policy_name, std::string* inline_json,
                            core::TokenPolicy* policy) {
  auto tp = obj.find("token_policy");
  if (tp == obj.end()) return Invalid(where, "token_policy: required");
  if (tp->is_string()) {
    *policy_name = tp->get_ref<const std::string&>();
    auto named = policies.find(*policy_name);
    if (named == policies.end()) {
      return Invalid(where, absl::StrCat("token_policy: unknown policy \"", *policy_name, "\""));
    }
    *policy = named->second.policy;
  } else if (tp->is_object()) {
    *inline_json = DumpJson(*tp);
    auto parsed = core::ParseTokenPolicyJson(*inline_json, "token_policy.");
    if (!parsed.ok()) return Within(where, parsed.status());
    *policy = *std::move(parsed);
  } else {
    return Invalid(where, absl::StrCat("token_policy: must be a policy name or an object, got ", JsonTypeName(*tp)));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::map<std::string, AssetVariant, std::less<>>> ParseVariants(
    const json& obj, const std::map<std::string, NamedPolicy>& policies, absl::string_view where) {
  std::map<std::string, AssetVariant, std::less<>> variants;
  if (!obj.is_object()) return Invalid(where, "variants: must be an object of entitlement -> variant");
  if (obj.size() > kMaxAssetVariants) {
    return Invalid(where, absl::StrCat("variants: more than ", kMaxAssetVariants));
  }
  for (const auto& [entitlement, value] : obj.items()) {
    const std::string at = absl::StrCat(where, ": variants[\"", entitlement.substr(0, kMaxAssetIdLength), "\"]");
    if (!IsValidAssetId(entitlement)) {
      return Invalid(at, absl::StrCat("entitlement: must be 1-", kMaxAssetIdLength, " characters of [A-Za-z0-9._:-]"));
    }
    if (!value.is_object()) return Invalid(at, "must be an object");
    for (const auto& [key, unused] : value.items()) {
      if (key != "url_path" && key != "token_policy") return Invalid(at, absl::StrCat("unknown field \"", key, "\""));
    }
    AssetVariant v;
    EDGEPASS_ASSIGN_OR_RETURN(v.url_path, RequiredString(value, "url_path", at));
    EDGEPASS_RETURN_IF_ERROR(ParsePolicyRef(value, policies, at, &v.policy_name, &v.inline_policy_json, &v.policy));
    variants.emplace(entitlement, std::move(v));
  }
  return variants;
}

json PolicyRefToJson(const std::string& policy_name, const std::string& inline_json) {
  if (!policy_name.empty()) return policy_name;
  return json::parse(inline_json, nullptr, /*allow_exceptions=*/false);
}

absl::StatusOr<Asset> ParseAsset(const json& obj, const std::map<std::string, NamedPolicy>& policies,
                                 absl::string_view where_index) {
  if (!obj.is_object()) return Invalid(where_index, "must be an object");
  std::string where = std::string(where_index);
  auto id_it = obj.find("id");
  if (id_it != obj.end() && id_it->is_string()) {
    absl::StrAppend(&where, " (id \"", id_it->get_ref<const std::string&>().substr(0, kMaxAssetIdLength), "\")");
  }
  for (const auto& [key, unused] : obj.items()) {
    if (key != "id" && key != "hostname" && key != "url_path" && key != "scheme" &&
        key != "token_policy" && key != "variants" && key != "fallback_asset" &&
        key != "cloudfront_key_pair_id" && key != "cookie_domain" && key != "cookie_same_site") {
      return Invalid(where, absl::StrCat("unknown field \"", key, "\""));
    }
  }
  Asset asset;
  EDGEPASS_ASSIGN_OR_RETURN(asset.id, RequiredString(obj, "id", where));
  if (!IsValidAssetId(asset.id)) {
    return Invalid(where, absl::StrCat("id: must be 1-", kMaxAssetIdLength,
                                       " characters of [A-Za-z0-9._:-]"));
  }
  EDGEPASS_ASSIGN_OR_RETURN(asset.hostname, RequiredString(obj, "hostname", where));
  EDGEPASS_ASSIGN_OR_RETURN(asset.url_path, RequiredString(obj, "url_path", where));
  if (obj.contains("scheme")) {
    EDGEPASS_ASSIGN_OR_RETURN(asset.scheme, RequiredString(obj, "scheme", where));
  }
  EDGEPASS_RETURN_IF_ERROR(
      ParsePolicyRef(obj, policies, where, &asset.policy_name, &asset.inline_policy_json, &asset.policy));
  if (auto v = obj.find("variants"); v != obj.end()) {
    EDGEPASS_ASSIGN_OR_RETURN(asset.variants, ParseVariants(*v, policies, where));
  }
  if (obj.contains("fallback_asset")) {
    EDGEPASS_ASSIGN_OR_RETURN(asset.fallback_asset, RequiredString(obj, "fallback_asset", where));
    if (!IsValidAssetId(asset.fallback_asset)) {
      return Invalid(where, "fallback_asset: must be an asset id");
    }
  }
  for (auto [key, field] : {std::pair<const char*, std::string*>{"cloudfront_key_pair_id", &asset.cloudfront_key_pair_id},
                            {"cookie_domain", &asset.cookie_domain},
                            {"cookie_same_site", &asset.cookie_same_site}}) {
    if (obj.contains(key)) {
      EDGEPASS_ASSIGN_OR_RETURN(*field, RequiredString(obj, key, where));
    }
  }
  EDGEPASS_RETURN_IF_ERROR(CheckAsset(asset, where));
  return asset;
}

json AssetToJsonObject(const Asset& asset) {
  json out = json::object();
  out["id"] = asset.id;
  out["hostname"] = asset.hostname;
  out["url_path"] = asset.url_path;
  out["scheme"] = asset.scheme;
  out["token_policy"] = PolicyRefToJson(asset.policy_name, asset.inline_policy_json);
  if (!asset.variants.empty()) {
    json variants = json::object();
    for (const auto& [entitlement, v] : asset.variants) {
      variants[entitlement] = {{"url_path", v.url_path},
                               {"token_policy", PolicyRefToJson(v.policy_name, v.inline_policy_json)}};
    }
    out["variants"] = std::move(variants);
  }
  if (!asset.fallback_asset.empty()) out["fallback_asset"] = asset.fallback_asset;
  if (!asset.cloudfront_key_pair_id.empty()) out["cloudfront_key_pair_id"] = asset.cloudfront_key_pair_id;
  if (!asset.cookie_domain.empty()) out["cookie_domain"] = asset.cookie_domain;
  if (!asset.cookie_same_site.empty()) out["cookie_same_site"] = asset.cookie_same_site;
  return out;
}

json ToDocument(const std::map<std::string, NamedPolicy>& policies, const std::vector<Asset>& assets) {
  json doc = json::object();
  json pol = json::object();
  for (const auto& [name, p] : policies) {
    pol[name] = json::parse(p.json, nullptr, /*allow_exceptions=*/false);
  }
  doc["policies"] = std::move(pol);
  json list = json::array();
  for (const Asset& a : assets) list.push_back(AssetToJsonObject(a));
  doc["assets"] = std::move(list);
  return doc;
}

}  // namespace

absl::StatusOr<Catalog> Catalog::Parse(absl::string_view text, absl::string_view source) {
  EDGEPASS_ASSIGN_OR_RETURN(json doc, ParseJson(text, source));
  Catalog catalog;
  if (!doc.is_object()) return Invalid(source, "must be a JSON object");
  for (const auto& [key, unused] : doc.items()) {
    if (key != "policies" && key != "assets") {
      return Invalid(source, absl::StrCat("unknown field \"", key, "\""));
    }
  }
  if (auto it = doc.find("policies"); it != doc.end()) {
    if (!it->is_object()) return Invalid(source, "policies: must be an object");
    for (const auto& [name, value] : it->items()) {
      std::string where = absl::StrCat(source, ": policies[\"", name, "\"]");
      if (name.empty() || name.size() > kMaxAssetIdLength) {
        return Invalid(where, "name: must be 1-128 characters");
      }
      if (!value.is_object()) return Invalid(where, "must be an object");
      NamedPolicy named;
      named.json = DumpJson(value);
      auto policy = core::ParseTokenPolicyJson(named.json);
      if (!policy.ok()) return Within(where, policy.status());
      named.policy = *std::move(policy);
      catalog.policies_.emplace(name, std::move(named));
    }
  }
  if (auto it = doc.find("assets"); it != doc.end()) {
    if (!it->is_array()) return Invalid(source, "assets: must be an array");
    if (it->size() > kMaxCatalogAssets) {
      return Invalid(source, absl::StrCat("assets: more than ", kMaxCatalogAssets, " entries"));
    }
    for (size_t i = 0; i < it->size(); ++i) {
      std::string where = absl::StrCat(source, ": assets[", i, "]");
      EDGEPASS_ASSIGN_OR_RETURN(Asset asset, ParseAsset((*it)[i], catalog.policies_, where));
      if (catalog.index_.count(asset.id) != 0) {
        return Invalid(absl::StrCat(where, " (id \"", asset.id, "\")"),
                       absl::StrCat("id: duplicate of assets[", catalog.index_[asset.id], "]"));
      }
      catalog.index_.emplace(asset.id, catalog.assets_.size());
      catalog.assets_.push_back(std::move(asset));
    }
  }
  for (size_t i = 0; i < catalog.assets_.size(); ++i) {
    const Asset& a = catalog.assets_[i];
    if (!a.fallback_asset.empty() && catalog.Find(a.fallback_asset) == nullptr) {
      return Invalid(absl::StrCat(source, ": assets[", i, "] (id \"", a.id, "\")"),
                     absl::StrCat("fallback_asset: unknown asset \"", a.fallback_asset, "\""));
    }
  }
  return catalog;
}

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

absl::StatusOr<Catalog> Catalog::FromParts(std::map<std::string, NamedPolicy> policies,
                                           std::vector<Asset> assets, absl::string_view source) {
  return Parse(DumpJson(ToDocument(policies, assets)), source);
}

absl::StatusOr<Catalog> Catalog::WithAsset(const Catalog& base, absl::string_view asset_json,
                                           absl::string_view where) {
  EDGEPASS_ASSIGN_OR_RETURN(json obj, ParseJson(asset_json, where));
  EDGEPASS_ASSIGN_OR_RETURN(Asset asset, ParseAsset(obj, base.policies_, where));
  return Put(base, std::move(asset), where);
}

absl::StatusOr<Catalog> Catalog::WithAsset(const Catalog& base, Asset asset, absl::string_view where_prefix) {
  const std::string where =
      absl::StrCat(where_prefix, " (id \"", absl::string_view(asset.id).substr(0, kMaxAssetIdLength), "\")");
  if (!IsValidAssetId(asset.id)) {
    return Invalid(where, absl::StrCat("id: must be 1-", kMaxAssetIdLength, " characters of [A-Za-z0-9._:-]"));
  }
  // A named policy is the catalog's; an inline one is written as given.
  auto resolve = [&](absl::string_view at, std::string& name, std::string& inline_json,
                     core::TokenPolicy& policy) -> absl::Status {
    if (name.empty()) {
      inline_json = core::TokenPolicyToJson(policy);
      return absl::OkStatus();
    }
    inline_json.clear();
    auto named = base.policies_.find(name);
    if (named == base.policies_.end()) {
      return Invalid(at, absl::StrCat("token_policy: unknown policy \"", name, "\""));
    }
    policy = named->second.policy;
    return absl::OkStatus();
  };
  EDGEPASS_RETURN_IF_ERROR(resolve(where, asset.policy_name, asset.inline_policy_json, asset.policy));
  if (asset.variants.size() > kMaxAssetVariants) {
    return Invalid(where, absl::StrCat("variants: more than ", kMaxAssetVariants));
  }
  for (auto& [entitlement, v] : asset.variants) {
    const std::string at =
        absl::StrCat(where, ": variants[\"", absl::string_view(entitlement).substr(0, kMaxAssetIdLength), "\"]");
    if (!IsValidAssetId(entitlement)) {
      return Invalid(at, absl::StrCat("entitlement: must be 1-", kMaxAssetIdLength, " characters of [A-Za-z0-9._:-]"));
    }
    EDGEPASS_RETURN_IF_ERROR(resolve(at, v.policy_name, v.inline_policy_json, v.policy));
  }
  if (!asset.fallback_asset.empty() && !IsValidAssetId(asset.fallback_asset)) {
    return Invalid(where, "fallback_asset: must be an asset id");
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
                                            absl::string_view policy_json, absl::string_view where) {
  if (name.empty() || name.size() > kMaxAssetIdLength || !IsValidAssetId(name)) {
    return Invalid(where, absl::StrCat("name: must be 1-", kMaxAssetIdLength,
                                       " characters of [A-Za-z0-9._:-]"));
  }
  NamedPolicy named;
  EDGEPASS_ASSIGN_OR_RETURN(json obj, ParseJson(policy_json, where));
  if (!obj.is_object()) return Invalid(where, "policy: must be an object");
  named.json = DumpJson(obj);
  auto policy = core::ParseTokenPolicyJson(named.json, "policy.");
  if (!policy.ok()) return Within(where, policy.status());
  named.policy = *std::move(policy);
  return Put(base, name, std::move(named), where);
}

absl::StatusOr<Catalog> Catalog::WithPolicy(const Catalog& base, absl::string_view name,
                                            const core::TokenPolicy& policy, absl::string_view where) {
  if (name.empty() || name.size() > kMaxAssetIdLength || !IsValidAssetId(name)) {
    return Invalid(where, absl::StrCat("name: must be 1-", kMaxAssetIdLength,
                                       " characters of [A-Za-z0-9._:-]"));
  }
  return Put(base, name, NamedPolicy{.json = core::TokenPolicyToJson(policy), .policy = policy}, where);
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

absl::StatusOr<core::CookieSameSite> ParseCookieSameSite(absl::string_view text) {
  if (text.empty() || text == "Lax") return core::CookieSameSite::kLax;
  if (text == "Strict") return core::CookieSameSite::kStrict;
  if (text == "None") return core::CookieSameSite::kNone;
  return absl::InvalidArgumentError(absl::StrCat("cookie_same_site: must be \"Strict\", \"Lax\" or \"None\", got \"",
                                                 text.substr(0, 16), "\""));
}

std::string Catalog::AssetToJson(const Asset& asset) { return DumpJson(AssetToJsonObject(asset)); }

const Asset* Catalog::Find(absl::string_view id) const {
  auto it = index_.find(id);
  return it == index_.end() ? nullptr : &assets_[it->second];
}

std::string Catalog::ToJson() const { return DumpJson(ToDocument(policies_, assets_), 2) + "\n"; }

absl::string_view SampleCatalogJson() {
  static constexpr char kSample[] = R"json({
  "policies": {
    "session-2h": {
      "paths": ["/out/v1/6d3c5e1f0a9b4c2d8e7f6a5b4c3d2e1f/"],
      "exc": ["/out/v1/6d3c5e1f0a9b4c2d8e7f6a5b4c3d2e1f/ads/"],
      "exp": "+2h",
      "ssn": true
    },
    "session-ua-2h": {
      "paths": ["/out/v1/9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d/"],
      "exp": "+2h",
      "ssn": true,
      "headers": ["user-agent"]
    }
  },
  "assets": [
    {
      "id": "1",
      "hostname": "cdn.example.com",
      "url_path": "/out/v1/6d3c5e1f0a9b4c2d8e7f6a5b4c3d2e1f/index.m3u8",
      "scheme": "smd-token",
      "token_policy": "session-2h"
    },
    {
      "id": "2",
      "hostname": "cdn.example.com",
      "url_path": "/out/v1/9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d/index.mpd",
      "scheme": "smd-token",
      "token_policy": "session-ua-2h"
    }
  ]
}
)json";
  return kSample;
}

}  // namespace edgepass::server
