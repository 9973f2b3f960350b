// Internal to core: JSON parsing helpers over nlohmann::json with exceptions
// kept inside, returning absl::Status errors that name the field path.
#ifndef EDGEPASS_CORE_JSON_INTERNAL_H_
#define EDGEPASS_CORE_JSON_INTERNAL_H_

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "core/status_macros.h"

namespace edgepass::core::internal {

using Json = nlohmann::json;

// Parses `text` as strictly as a signed token's parts need: false when it is
// not JSON, holds a NUL byte (nlohmann would stop there as if the text had
// ended, ignoring what follows), or repeats a key in any object (a verifier
// and a later reader could otherwise see different values).
inline bool ParseStrictJson(absl::string_view text, Json* out) {
  if (text.find('\0') != absl::string_view::npos) return false;
  std::vector<absl::flat_hash_set<std::string>> open;  // keys of each open object
  bool duplicate = false;
  const Json::parser_callback_t on_event = [&](int /*depth*/, Json::parse_event_t event,
                                               Json& parsed) {
    switch (event) {
      case Json::parse_event_t::object_start: open.emplace_back(); break;
      case Json::parse_event_t::object_end:
        if (!open.empty()) open.pop_back();
        break;
      case Json::parse_event_t::key:
        if (!open.empty() && !open.back().insert(parsed.get<std::string>()).second) {
          duplicate = true;
        }
        break;
      default: break;
    }
    return true;
  };
  *out = Json::parse(text.begin(), text.end(), on_event, /*allow_exceptions=*/false);
  return !duplicate && !out->is_discarded();
}

inline absl::Status GetString(const Json& j, absl::string_view path, std::string* out) {
  if (!j.is_string()) return FieldError(path, "must be a string");
  *out = j.get_ref<const std::string&>();
  return absl::OkStatus();
}

inline absl::Status GetBool(const Json& j, absl::string_view path, bool* out) {
  if (!j.is_boolean()) return FieldError(path, "must be true or false");
  *out = j.get<bool>();
  return absl::OkStatus();
}

inline absl::Status GetStringList(const Json& j, absl::string_view path,
                                  std::vector<std::string>* out) {
  if (!j.is_array()) return FieldError(path, "must be a list of strings");
  out->clear();
  for (size_t i = 0; i < j.size(); ++i) {
    if (!j[i].is_string()) return FieldError(absl::StrCat(path, "[", i, "]"), "must be a string");
    out->push_back(j[i].get<std::string>());
  }
  return absl::OkStatus();
}

}  // namespace edgepass::core::internal

#endif  // EDGEPASS_CORE_JSON_INTERNAL_H_
