#include "text/json_doc.h"

#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace edgepass::text {

absl::StatusOr<nlohmann::json> ParseJson(absl::string_view text, absl::string_view what, JsonRules rules) {
  if (text.size() > rules.max_bytes) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": larger than ", rules.max_bytes, " bytes"));
  }
  nlohmann::json doc;
  if (rules.detail) {
    try {
      doc = nlohmann::json::parse(text.begin(), text.end());
    } catch (const nlohmann::json::exception& e) {
      // "[json.exception.parse_error.101] parse error at line 2, ...": the
      // part after the exception's id.
      absl::string_view reason = e.what();
      if (size_t at = reason.find("] "); at != absl::string_view::npos) reason.remove_prefix(at + 2);
      return absl::InvalidArgumentError(absl::StrCat(what, ": ", reason));
    }
  } else {
    doc = nlohmann::json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded()) return absl::InvalidArgumentError(absl::StrCat(what, ": not valid JSON"));
  }
  if (rules.object && !doc.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": must be a JSON object"));
  }
  return doc;
}

absl::StatusOr<std::string> RequiredString(const nlohmann::json& object, absl::string_view key,
                                           absl::string_view path) {
  auto it = object.find(key);
  if (it == object.end()) return absl::InvalidArgumentError(absl::StrCat(path, ": required"));
  if (!it->is_string()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": must be a string, got ", it->type_name()));
  }
  return it->get_ref<const std::string&>();
}

std::string DumpJson(const nlohmann::json& value, int indent) {
  return value.dump(indent, ' ', /*ensure_ascii=*/false, nlohmann::json::error_handler_t::replace);
}

}  // namespace edgepass::text
