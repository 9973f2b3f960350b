#include "server/smd_import.h"

#include <cmath>
#include <cstdint>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "text/json_doc.h"

namespace edgepass::server {
namespace {

using nlohmann::json;

constexpr int kMaxDepth = 32;

absl::StatusOr<json> Convert(const json& attr, const std::string& field, int depth) {
  if (depth > kMaxDepth) return core::FieldError(field, "nested too deeply");
  if (!attr.is_object() || attr.size() != 1) {
    return core::FieldError(field,
                            "must be a DynamoDB attribute value with exactly one type key "
                            "(S, N, BOOL, NULL, L, M)");
  }
  const std::string type = attr.begin().key();
  const json& value = attr.begin().value();
  if (type == "S") {
    if (!value.is_string()) return core::FieldError(field, "S: must be a string");
    return value;
  }
  if (type == "N") {
    if (!value.is_string()) return core::FieldError(field, "N: must be a string of digits");
    const std::string& text = value.get_ref<const std::string&>();
    int64_t i;
    if (absl::SimpleAtoi(text, &i)) return json(i);
    double d;
    if (absl::SimpleAtod(text, &d) && std::isfinite(d)) return json(d);
    return core::FieldError(field, absl::StrCat("N: \"", text, "\" is not a number"));
  }
  if (type == "BOOL") {
    if (!value.is_boolean()) return core::FieldError(field, "BOOL: must be true or false");
    return value;
  }
  if (type == "NULL") return json(nullptr);
  if (type == "L") {
    if (!value.is_array()) return core::FieldError(field, "L: must be an array");
    json out = json::array();
    for (size_t i = 0; i < value.size(); ++i) {
      EDGEPASS_ASSIGN_OR_RETURN(json v, Convert(value[i], absl::StrCat(field, "[", i, "]"), depth + 1));
      out.push_back(std::move(v));
    }
    return out;
  }
  if (type == "M") {
    if (!value.is_object()) return core::FieldError(field, "M: must be an object");
    json out = json::object();
    for (const auto& [k, v] : value.items()) {
      std::string sub = field.empty() ? k : absl::StrCat(field, ".", k);
      EDGEPASS_ASSIGN_OR_RETURN(json plain, Convert(v, sub, depth + 1));
      out[k] = std::move(plain);
    }
    return out;
  }
  return core::FieldError(field, absl::StrCat("unsupported DynamoDB type \"", type, "\""));
}

// An item is a map of attribute values at the top level.
absl::StatusOr<json> ConvertItem(const json& item, absl::string_view where) {
  if (!item.is_object()) return core::FieldError(where, "must be an object of DynamoDB attributes");
  json out = json::object();
  for (const auto& [k, v] : item.items()) {
    auto plain = Convert(v, k, 1);
    if (!plain.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": ", plain.status().message()));
    }
    out[k] = *std::move(plain);
  }
  return out;
}

absl::StatusOr<std::string> ItemString(const json& item, const char* key, absl::string_view where) {
  auto it = item.find(key);
  if (it == item.end()) return core::FieldError(where, absl::StrCat(key, ": required"));
  if (!it->is_string()) return core::FieldError(where, absl::StrCat(key, ": must be a string (S)"));
  return it->get_ref<const std::string&>();
}

}  // namespace

absl::StatusOr<std::string> DynamoDbValueToJson(absl::string_view attribute_json,
                                                absl::string_view field) {
  EDGEPASS_ASSIGN_OR_RETURN(json attr, text::ParseJson(attribute_json, field, {.detail = true}));
  EDGEPASS_ASSIGN_OR_RETURN(json plain, Convert(attr, std::string(field), 0));
  return text::DumpJson(plain);
}

absl::StatusOr<Catalog> ParseSmdAssets(absl::string_view text, absl::string_view source) {
  EDGEPASS_ASSIGN_OR_RETURN(json doc, text::ParseJson(text, source, {.detail = true}));
  json items;
  if (doc.is_array()) {
    items = std::move(doc);
  } else if (doc.is_object() && doc.contains("Items")) {
    if (!doc["Items"].is_array()) return core::FieldError(source, "Items: must be an array");
    items = doc["Items"];
  } else if (doc.is_object()) {
    items = json::array({std::move(doc)});
  } else {
    return core::FieldError(source, "must be an item, an array of items or {\"Items\":[...]}");
  }
  if (items.size() > kMaxCatalogAssets) {
    return core::FieldError(source, absl::StrCat("more than ", kMaxCatalogAssets, " items"));
  }

  json assets = json::array();
  for (size_t i = 0; i < items.size(); ++i) {
    std::string where = absl::StrCat(source, ": Items[", i, "]");
    EDGEPASS_ASSIGN_OR_RETURN(json item, ConvertItem(items[i], where));
    if (auto id = item.find("id"); id != item.end() && id->is_string()) {
      absl::StrAppend(&where, " (id \"", id->get_ref<const std::string&>().substr(0, kMaxAssetIdLength), "\")");
    }
    json asset = json::object();
    EDGEPASS_ASSIGN_OR_RETURN(asset["id"], ItemString(item, "id", where));
    EDGEPASS_ASSIGN_OR_RETURN(asset["url_path"], ItemString(item, "url_path", where));
    EDGEPASS_ASSIGN_OR_RETURN(asset["hostname"], ItemString(item, "endpoint_hostname", where));
    asset["scheme"] = std::string(kSmdTokenScheme);
    auto policy = item.find("token_policy");
    if (policy == item.end()) return core::FieldError(where, "token_policy: required");
    if (!policy->is_object()) return core::FieldError(where, "token_policy: must be a map (M)");
    // SMD's own sample sets co_fallback with co false; SMD ignores a fallback
    // whose geo binding is off, core refuses it. Drop such fallbacks here.
    for (const auto& [geo, fallback] : {std::pair{"co", "co_fallback"}, std::pair{"reg", "reg_fallback"}}) {
      auto bound = policy->find(geo);
      if (policy->contains(fallback) && (bound == policy->end() || *bound != json(true))) {
        policy->erase(fallback);
      }
    }
    // Validate here so the error names the SMD item, not a catalog entry.
    auto parsed = core::ParseTokenPolicyJson(text::DumpJson(*policy), "token_policy.");
    if (!parsed.ok()) return core::FieldError(where, parsed.status().message());
    asset["token_policy"] = *policy;
    // Per-asset rules (hostname, url_path covered by paths, ...).
    json single = json::object({{"assets", json::array({asset})}});
    auto checked = Catalog::Parse(text::DumpJson(single), "");
    if (!checked.ok()) {
      // Catalog's message is ": assets[0] (id \"x\"): <field>: ..."; keep the field part.
      absl::string_view msg = checked.status().message();
      size_t cut = msg.find("): ");
      return core::FieldError(where, cut == absl::string_view::npos ? msg : msg.substr(cut + 3));
    }
    assets.push_back(std::move(asset));
  }
  return Catalog::Parse(text::DumpJson(json::object({{"assets", std::move(assets)}})), source);
}

}  // namespace edgepass::server
