// nlohmann::json at the module boundary: parsing and dumping that never throw,
// so callers see absl::Status instead of exceptions.
//
//   EDGEPASS_ASSIGN_OR_RETURN(nlohmann::json doc, ParseJson(text, "catalog.json"));
//   std::string out = DumpJson(doc, /*indent=*/2);
#ifndef EDGEPASS_SERVER_STATE_JSON_UTIL_H_
#define EDGEPASS_SERVER_STATE_JSON_UTIL_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace edgepass::server {

// INVALID_ARGUMENT "<source>: invalid JSON: <parser message>" on a syntax
// error (the message gives the byte offset).
absl::StatusOr<nlohmann::json> ParseJson(absl::string_view text, absl::string_view source);

// Serializes `value`; invalid UTF-8 is replaced, never thrown. indent < 0:
// compact.
std::string DumpJson(const nlohmann::json& value, int indent = -1);

// A short name of the JSON type for error messages ("string", "object", ...).
std::string JsonTypeName(const nlohmann::json& value);

}  // namespace edgepass::server

#endif  // EDGEPASS_SERVER_STATE_JSON_UTIL_H_
