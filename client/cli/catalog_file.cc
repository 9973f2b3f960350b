#include "client/cli/catalog_file.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "core/token_policy.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/json_util.h"
#include "nlohmann/json.hpp"
#include "text/json_doc.h"
#include "yaml-cpp/yaml.h"

namespace edgepass::cli {
namespace {

namespace pb = google::protobuf;
using nlohmann::json;

constexpr size_t kMaxDocumentBytes = 1 << 20;

const char* TypeName(const json& j) {
  switch (j.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::object:
      return "an object";
    case json::value_t::array:
      return "a list";
    case json::value_t::string:
      return "a string";
    case json::value_t::boolean:
      return "true/false";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float:
      return "a number";
    default:
      return "something else";
  }
}

absl::StatusOr<json> ParseDocument(absl::string_view text, absl::string_view source);

// The field of `message` this JSON key names (proto or lowerCamelCase name).
const pb::FieldDescriptor* FindField(const pb::Descriptor& message, const std::string& key) {
  for (int i = 0; i < message.field_count(); ++i) {
    const pb::FieldDescriptor* f = message.field(i);
    if (f->name() == key || f->json_name() == key) return f;
  }
  return nullptr;
}

absl::Status CheckMessage(const pb::Descriptor& message, const json& value, const std::string& path);

// One value of `field` (an element when it is repeated, a value when a map).
absl::Status CheckSingular(const pb::FieldDescriptor& field, const json& value, const std::string& path) {
  if (value.is_null()) return absl::OkStatus();
  auto expect = [&](bool ok, absl::string_view what) {
    return ok ? absl::OkStatus()
              : absl::InvalidArgumentError(absl::StrCat(path, ": must be ", what, ", got ", TypeName(value)));
  };
  switch (field.cpp_type()) {
    case pb::FieldDescriptor::CPPTYPE_STRING:
      return expect(value.is_string(), "a string");
    case pb::FieldDescriptor::CPPTYPE_BOOL:
      return expect(value.is_boolean(), "true or false");
    case pb::FieldDescriptor::CPPTYPE_ENUM:
      return expect(value.is_string() || value.is_number_integer(), "a name");
    case pb::FieldDescriptor::CPPTYPE_MESSAGE:
      if (field.message_type()->file()->package() == "google.protobuf") {
        return expect(value.is_string(), "a string (RFC 3339 time or duration)");
      }
      return CheckMessage(*field.message_type(), value, path);
    default:
      return expect(value.is_number() || value.is_string(), "a number");
  }
}

absl::Status CheckField(const pb::FieldDescriptor& field, const json& value, const std::string& path) {
  if (value.is_null()) return absl::OkStatus();
  if (field.is_map()) {
    if (!value.is_object()) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": must be an object, got ", TypeName(value)));
    }
    const pb::FieldDescriptor& value_field = *field.message_type()->map_value();
    for (const auto& [key, v] : value.items()) {
      absl::Status s = CheckSingular(value_field, v, absl::StrCat(path, "[\"", key.substr(0, 128), "\"]"));
      if (!s.ok()) return s;
    }
    return absl::OkStatus();
  }
  if (field.is_repeated()) {
    if (!value.is_array()) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": must be a list, got ", TypeName(value)));
    }
    for (size_t i = 0; i < value.size(); ++i) {
      absl::Status s = CheckSingular(field, value[i], absl::StrCat(path, "[", i, "]"));
      if (!s.ok()) return s;
    }
    return absl::OkStatus();
  }
  return CheckSingular(field, value, path);
}

// Names the first unknown field or value of the wrong JSON type, so the
// message says which field, which protobuf's parser does not always do.
absl::Status CheckMessage(const pb::Descriptor& message, const json& value, const std::string& path) {
  if (!value.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": must be an object, got ", TypeName(value)));
  }
  for (const auto& [key, v] : value.items()) {
    const pb::FieldDescriptor* field = FindField(message, key);
    if (field == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": unknown field \"", key.substr(0, 128), "\""));
    }
    absl::Status s = CheckField(*field, v, absl::StrCat(path, ".", field->name()));
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

// The SMD policy object at `value` as TokenPolicy's protobuf JSON.
absl::StatusOr<json> NormalizeSmdPolicy(const json& value, const std::string& path) {
  if (!value.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": must be an object, got ", TypeName(value)));
  }
  absl::StatusOr<core::TokenPolicy> policy = core::ParseTokenPolicyJson(value.dump(), absl::StrCat(path, "."));
  if (!policy.ok()) return policy.status();
  return json::parse(core::TokenPolicyToJson(*policy));
}

// A catalog file's "token_policy" (a name or an SMD object) on `obj` (an
// asset or a variant) as "policy_name" / "inline_policy"; an inline policy
// in protobuf's form goes through core's parser too, for its field names.
absl::Status NormalizePolicyRef(json& obj, const std::string& path) {
  if (!obj.is_object()) return absl::OkStatus();  // CheckMessage names it
  int refs = 0;
  for (const char* key : {"token_policy", "policy_name", "policyName", "inline_policy", "inlinePolicy"}) {
    refs += obj.contains(key) ? 1 : 0;
  }
  if (refs > 1) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": give one of token_policy, policy_name or inline_policy"));
  }
  if (auto it = obj.find("token_policy"); it != obj.end()) {
    json ref = std::move(*it);
    obj.erase("token_policy");
    if (ref.is_string()) {
      obj["policy_name"] = std::move(ref);
      return absl::OkStatus();
    }
    absl::StatusOr<json> inline_policy = NormalizeSmdPolicy(ref, path + ".token_policy");
    if (!inline_policy.ok()) return inline_policy.status();
    obj["inline_policy"] = *std::move(inline_policy);
    return absl::OkStatus();
  }
  for (const char* key : {"inline_policy", "inlinePolicy"}) {
    if (auto it = obj.find(key); it != obj.end() && it->is_object()) {
      absl::StatusOr<json> inline_policy = NormalizeSmdPolicy(*it, path + ".inline_policy");
      if (!inline_policy.ok()) return inline_policy.status();
      *it = *std::move(inline_policy);
    }
  }
  return absl::OkStatus();
}

// Checks `doc` against `message`'s type, then converts it.
absl::Status ToMessage(const json& doc, const std::string& path, pb::Message* message) {
  if (absl::Status s = CheckMessage(*message->GetDescriptor(), doc, path); !s.ok()) return s;
  pb::util::JsonParseOptions options;
  if (auto s = pb::util::JsonStringToMessage(doc.dump(), message, options); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", std::string(s.message())));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<v1::Asset> ParseAssetDocument(absl::string_view text, absl::string_view source) {
  absl::StatusOr<json> doc = ParseDocument(text, source);
  if (!doc.ok()) return doc.status();
  if (!doc->is_object())
    return core::FieldError(source, absl::StrCat("asset: must be an object, got ", TypeName(*doc)));
  absl::Status s = NormalizePolicyRef(*doc, "asset");
  if (s.ok() && doc->contains("fallback_asset")) {
    if (doc->contains("fallback_asset_id") || doc->contains("fallbackAssetId")) {
      s = absl::InvalidArgumentError("asset: give one of fallback_asset or fallback_asset_id");
    } else {
      (*doc)["fallback_asset_id"] = (*doc)["fallback_asset"];
      doc->erase("fallback_asset");
    }
  }
  if (auto it = doc->find("variants"); s.ok() && it != doc->end() && it->is_object()) {
    for (auto& [entitlement, variant] : it->items()) {
      s = NormalizePolicyRef(variant, absl::StrCat("asset.variants[\"", entitlement.substr(0, 128), "\"]"));
      if (!s.ok()) break;
    }
  }
  v1::Asset asset;
  if (s.ok()) s = ToMessage(*doc, "asset", &asset);
  if (!s.ok()) return core::FieldError(source, s.message());
  return asset;
}

absl::StatusOr<v1::NamedPolicy> ParsePolicyDocument(absl::string_view text, absl::string_view source,
                                                    const std::string& name) {
  absl::StatusOr<json> doc = ParseDocument(text, source);
  if (!doc.ok()) return doc.status();
  if (!doc->is_object())
    return core::FieldError(source, absl::StrCat("policy: must be an object, got ", TypeName(*doc)));
  v1::NamedPolicy named;
  absl::Status s;
  if (doc->contains("policy")) {  // a NamedPolicy
    json& inner = (*doc)["policy"];
    absl::StatusOr<json> normalized = NormalizeSmdPolicy(inner, "policy.policy");
    if (!normalized.ok()) return core::FieldError(source, normalized.status().message());
    inner = *std::move(normalized);
    s = ToMessage(*doc, "policy", &named);
  } else {  // an SMD policy object
    absl::StatusOr<json> normalized = NormalizeSmdPolicy(*doc, "policy");
    s = normalized.status();
    if (s.ok()) s = ToMessage(*normalized, "policy", named.mutable_policy());
  }
  if (!s.ok()) return core::FieldError(source, s.message());
  if (!name.empty() && !named.name().empty() && named.name() != name) {
    return core::FieldError(source, absl::StrCat("policy.name: \"", named.name(),
                                                 "\" differs from the name given, \"", name, "\""));
  }
  if (named.name().empty()) named.set_name(name);
  if (named.name().empty())
    return core::FieldError(source, "policy.name: required (give NAME or a \"name\" field)");
  return named;
}

absl::StatusOr<v1::TokenPolicy> ParseSmdPolicy(absl::string_view text, absl::string_view field_prefix) {
  absl::StatusOr<core::TokenPolicy> policy = core::ParseTokenPolicyJson(text, field_prefix);
  if (!policy.ok()) return policy.status();
  v1::TokenPolicy out;
  if (auto s = pb::util::JsonStringToMessage(core::TokenPolicyToJson(*policy), &out); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(field_prefix, " ", std::string(s.message())));
  }
  return out;
}

namespace {

constexpr int kMaxYamlDepth = 64;
constexpr size_t kMaxYamlNodes = 100000;  // aliases could otherwise expand a small file without bound

// A plain (unquoted) YAML scalar as YAML 1.2's core schema reads it: null,
// true/false, an integer, a float, else a string. Quoted scalars are strings.
json YamlScalar(const YAML::Node& node) {
  const std::string& text = node.Scalar();
  if (node.Tag() == "!") return text;
  if (text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL") return nullptr;
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  int64_t i = 0;
  if (absl::SimpleAtoi(text, &i) && text.find_first_not_of("+-0123456789") == std::string::npos) return i;
  double d = 0;
  if (text.find_first_not_of("+-0123456789.eE") == std::string::npos && absl::SimpleAtod(text, &d)) return d;
  return text;
}

absl::StatusOr<json> YamlToJson(const YAML::Node& node, int depth, size_t* nodes, const std::string& path) {
  if (++*nodes > kMaxYamlNodes) return absl::InvalidArgumentError(absl::StrCat("more than ", kMaxYamlNodes, " values"));
  if (depth > kMaxYamlDepth) return absl::InvalidArgumentError(absl::StrCat(path, ": nested too deep"));
  switch (node.Type()) {
    case YAML::NodeType::Scalar:
      return YamlScalar(node);
    case YAML::NodeType::Sequence: {
      json out = json::array();
      for (size_t i = 0; i < node.size(); ++i) {
        absl::StatusOr<json> v = YamlToJson(node[i], depth + 1, nodes, absl::StrCat(path, "[", i, "]"));
        if (!v.ok()) return v.status();
        out.push_back(*std::move(v));
      }
      return out;
    }
    case YAML::NodeType::Map: {
      json out = json::object();
      for (const auto& kv : node) {
        if (!kv.first.IsScalar()) {
          return absl::InvalidArgumentError(
              absl::StrCat(path, ": line ", kv.first.Mark().line + 1, ": keys must be plain names"));
        }
        const std::string key = kv.first.Scalar();
        absl::StatusOr<json> v = YamlToJson(kv.second, depth + 1, nodes, absl::StrCat(path, ".", key.substr(0, 128)));
        if (!v.ok()) return v.status();
        out[key] = *std::move(v);
      }
      return out;
    }
    default:
      return nullptr;
  }
}

// YAML of the same shape as the JSON; the position of a syntax error from
// yaml-cpp's exception, caught here.
absl::StatusOr<json> ParseYamlText(absl::string_view text, absl::string_view source) {
  try {
    YAML::Node root = YAML::Load(std::string(text));
    size_t nodes = 0;
    absl::StatusOr<json> doc = YamlToJson(root, 0, &nodes, "document");
    if (!doc.ok()) return core::FieldError(source, doc.status().message());
    return doc;
  } catch (const YAML::Exception& e) {
    return core::FieldError(source, absl::StrCat("parse error at line ", e.mark.line + 1, ", column ",
                                                 e.mark.column + 1, ": ", e.msg));
  }
}

absl::StatusOr<json> ParseDocument(absl::string_view text, absl::string_view source) {
  if (text.size() > kMaxDocumentBytes) {
    return core::FieldError(source, absl::StrCat("larger than ", kMaxDocumentBytes, " bytes"));
  }
  // The source names the file: "--file 'asset.yaml'".
  std::string name = absl::AsciiStrToLower(source);
  if (absl::EndsWith(name, "'")) name.pop_back();
  if (absl::EndsWith(name, ".yaml") || absl::EndsWith(name, ".yml")) return ParseYamlText(text, source);
  return text::ParseJson(text, source, {.detail = true});
}

}  // namespace
}  // namespace edgepass::cli
