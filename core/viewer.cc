#include "core/viewer.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/json_internal.h"
#include "core/status_macros.h"
#include "text/json_doc.h"

namespace edgepass::core {
namespace {

using internal::Json;

constexpr size_t kMaxViewerJsonBytes = 64 * 1024;
constexpr size_t kMaxViewerPairs = 64;

absl::Status GetValue(const Json& j, const std::string& field, std::string* out) {
  EDGEPASS_RETURN_IF_ERROR(internal::GetString(j, field, out));
  if (out->size() > kMaxViewerValueLength) {
    return FieldError(field, absl::StrCat("longer than ", kMaxViewerValueLength, " bytes"));
  }
  return absl::OkStatus();
}

absl::Status GetPairs(const Json& j, const std::string& field,
                      std::vector<std::pair<std::string, std::string>>* out) {
  if (!j.is_object()) return FieldError(field, "must be an object of name: value");
  if (j.size() > kMaxViewerPairs) return FieldError(field, absl::StrCat("at most ", kMaxViewerPairs, " entries"));
  for (const auto& [name, value] : j.items()) {
    std::string v;
    EDGEPASS_RETURN_IF_ERROR(GetValue(value, absl::StrCat(field, ".", name), &v));
    out->emplace_back(name, std::move(v));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ViewerAttributes> ParseViewerJson(absl::string_view text, absl::string_view prefix) {
  const std::string pre(prefix);
  const std::string what = pre.empty() ? "viewer" : pre.substr(0, pre.size() - 1);
  EDGEPASS_ASSIGN_OR_RETURN(Json j,
                            text::ParseJson(text, what, {.max_bytes = kMaxViewerJsonBytes, .object = true}));
  ViewerAttributes v;
  for (const auto& [name, value] : j.items()) {
    const std::string field = pre + name;
    if (name == "ip") {
      EDGEPASS_RETURN_IF_ERROR(GetValue(value, field, &v.ip));
    } else if (name == "co") {
      EDGEPASS_RETURN_IF_ERROR(GetValue(value, field, &v.co));
    } else if (name == "reg") {
      EDGEPASS_RETURN_IF_ERROR(GetValue(value, field, &v.reg));
    } else if (name == "cty") {
      EDGEPASS_RETURN_IF_ERROR(GetValue(value, field, &v.cty));
    } else if (name == "sessionId") {
      EDGEPASS_RETURN_IF_ERROR(GetValue(value, field, &v.session_id));
    } else if (name == "headers") {
      EDGEPASS_RETURN_IF_ERROR(GetPairs(value, field, &v.headers));
    } else if (name == "qs") {
      EDGEPASS_RETURN_IF_ERROR(GetPairs(value, field, &v.qs));
    } else {
      return FieldError(field, "unknown field (ip, co, reg, cty, sessionId, headers, qs)");
    }
  }
  return v;
}

const std::string* FindViewerHeader(const ViewerAttributes& viewer, absl::string_view name) {
  for (const auto& [n, v] : viewer.headers) {
    if (absl::EqualsIgnoreCase(n, name)) return &v;
  }
  return nullptr;
}

const std::string* FindViewerQuery(const ViewerAttributes& viewer, absl::string_view name) {
  for (const auto& [n, v] : viewer.qs) {
    if (n == name) return &v;
  }
  return nullptr;
}

}  // namespace edgepass::core
