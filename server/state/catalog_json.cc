// The catalog file's JSON: Catalog::Parse and the writers. Parse reads each
// entry's shape; the catalog is then built and checked as a typed edit's is
// (Catalog::FromParts, catalog.cc), by the rules of catalog_rules.h.
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "core/token_policy.h"
#include "nlohmann/json.hpp"
#include "server/state/catalog.h"
#include "server/state/catalog_rules.h"
#include "text/json_doc.h"

namespace edgepass::server {
namespace {

using catalog_rules::BadAssetId;
using catalog_rules::IsValidAssetId;
using catalog_rules::Within;
using nlohmann::json;

// The string member `key` of the entry at `where` (text::RequiredString).
absl::StatusOr<std::string> RequiredString(const json& obj, const char* key, absl::string_view where) {
  return text::RequiredString(obj, key, absl::StrCat(where, ": ", key));
}

// Reads "token_policy" (a policy name or an inline policy) of `obj`.
absl::Status ParsePolicyRef(const json& obj, const std::map<std::string, NamedPolicy>& policies,
                            absl::string_view where, std::string* policy_name, std::string* inline_json,
                            core::TokenPolicy* policy) {
  auto tp = obj.find("token_policy");
  if (tp == obj.end()) return core::FieldError(where, "token_policy: required");
  if (tp->is_string()) {
    *policy_name = tp->get_ref<const std::string&>();
    EDGEPASS_ASSIGN_OR_RETURN(const NamedPolicy* named,
                              catalog_rules::FindNamedPolicy(policies, where, *policy_name));
    *policy = named->policy;
  } else if (tp->is_object()) {
    *inline_json = text::DumpJson(*tp);
    auto parsed = core::ParseTokenPolicyJson(*inline_json, "token_policy.");
    if (!parsed.ok()) return Within(where, parsed.status());
    *policy = *std::move(parsed);
  } else {
    return core::FieldError(
        where, absl::StrCat("token_policy: must be a policy name or an object, got ", tp->type_name()));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::map<std::string, AssetVariant, std::less<>>> ParseVariants(
    const json& obj, const std::map<std::string, NamedPolicy>& policies, absl::string_view where) {
  std::map<std::string, AssetVariant, std::less<>> variants;
  if (!obj.is_object())
    return core::FieldError(where, "variants: must be an object of entitlement -> variant");
  if (obj.size() > kMaxAssetVariants) {
    return core::FieldError(where, absl::StrCat("variants: more than ", kMaxAssetVariants));
  }
  for (const auto& [entitlement, value] : obj.items()) {
    const std::string at = absl::StrCat(where, ": variants[\"", entitlement.substr(0, kMaxAssetIdLength), "\"]");
    if (!IsValidAssetId(entitlement)) {
      return BadAssetId(at, "entitlement");
    }
    if (!value.is_object()) return core::FieldError(at, "must be an object");
    for (const auto& [key, unused] : value.items()) {
      if (key != "url_path" && key != "token_policy")
        return core::FieldError(at, absl::StrCat("unknown field \"", key, "\""));
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
  if (!obj.is_object()) return core::FieldError(where_index, "must be an object");
  std::string where = std::string(where_index);
  auto id_it = obj.find("id");
  if (id_it != obj.end() && id_it->is_string()) {
    absl::StrAppend(&where, " (id \"", id_it->get_ref<const std::string&>().substr(0, kMaxAssetIdLength), "\")");
  }
  for (const auto& [key, unused] : obj.items()) {
    if (key != "id" && key != "hostname" && key != "url_path" && key != "scheme" &&
        key != "token_policy" && key != "variants" && key != "fallback_asset" &&
        key != "cloudfront_key_pair_id" && key != "cookie_domain" && key != "cookie_same_site") {
      return core::FieldError(where, absl::StrCat("unknown field \"", key, "\""));
    }
  }
  Asset asset;
  EDGEPASS_ASSIGN_OR_RETURN(asset.id, RequiredString(obj, "id", where));
  if (!IsValidAssetId(asset.id)) {
    return BadAssetId(where, "id");
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
      return core::FieldError(where, "fallback_asset: must be an asset id");
    }
  }
  for (auto [key, field] : {std::pair<const char*, std::string*>{"cloudfront_key_pair_id", &asset.cloudfront_key_pair_id},
                            {"cookie_domain", &asset.cookie_domain},
                            {"cookie_same_site", &asset.cookie_same_site}}) {
    if (obj.contains(key)) {
      EDGEPASS_ASSIGN_OR_RETURN(*field, RequiredString(obj, key, where));
    }
  }
  return asset;  // checked against the rules with the rest (Catalog::FromParts)
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
  EDGEPASS_ASSIGN_OR_RETURN(json doc, text::ParseJson(text, source, {.object = true, .detail = true}));
  std::map<std::string, NamedPolicy> policies;
  for (const auto& [key, unused] : doc.items()) {
    if (key != "policies" && key != "assets") {
      return core::FieldError(source, absl::StrCat("unknown field \"", key, "\""));
    }
  }
  if (auto it = doc.find("policies"); it != doc.end()) {
    if (!it->is_object()) return core::FieldError(source, "policies: must be an object");
    for (const auto& [name, value] : it->items()) {
      std::string where = absl::StrCat(source, ": policies[\"", name, "\"]");
      if (name.empty() || name.size() > kMaxAssetIdLength) {
        return core::FieldError(where, "name: must be 1-128 characters");
      }
      if (!value.is_object()) return core::FieldError(where, "must be an object");
      NamedPolicy named;
      named.json = text::DumpJson(value);
      auto policy = core::ParseTokenPolicyJson(named.json);
      if (!policy.ok()) return Within(where, policy.status());
      named.policy = *std::move(policy);
      policies.emplace(name, std::move(named));
    }
  }
  std::vector<Asset> assets;
  if (auto it = doc.find("assets"); it != doc.end()) {
    if (!it->is_array()) return core::FieldError(source, "assets: must be an array");
    if (it->size() > kMaxCatalogAssets) {
      return core::FieldError(source, absl::StrCat("assets: more than ", kMaxCatalogAssets, " entries"));
    }
    for (size_t i = 0; i < it->size(); ++i) {
      EDGEPASS_ASSIGN_OR_RETURN(Asset asset,
                                ParseAsset((*it)[i], policies, absl::StrCat(source, ": assets[", i, "]")));
      assets.push_back(std::move(asset));
    }
  }
  return FromParts(std::move(policies), std::move(assets), source);
}

std::string Catalog::AssetToJson(const Asset& asset) { return text::DumpJson(AssetToJsonObject(asset)); }

std::string Catalog::ToJson() const { return text::DumpJson(ToDocument(policies_, assets_), 2) + "\n"; }

}  // namespace edgepass::server
