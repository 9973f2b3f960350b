// JSON documents through nlohmann::json with no exception escaping, and
// their writer: the parser of core's keyrings, policies and viewers, the
// server's config, catalog, access, session and SMD files, JWKS documents,
// CloudFront key files and the CLI's catalog files. (Readers with their own
// error wording or a streaming parse, such as the sidecar's snapshot and the
// validator library's keys file, call nlohmann directly.) Callers see
// absl::Status naming `what`.
//
//   EDGEPASS_ASSIGN_OR_RETURN(nlohmann::json doc,
//                             text::ParseJson(body, "catalog.json", {.object = true, .detail = true}));
//   std::string out = text::DumpJson(doc, /*indent=*/2);
#ifndef EDGEPASS_TEXT_JSON_DOC_H_
#define EDGEPASS_TEXT_JSON_DOC_H_

#include <cstddef>
#include <limits>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace edgepass::text {

struct JsonRules {
  // Longer text is refused before it is parsed.
  size_t max_bytes = std::numeric_limits<size_t>::max();
  // The document must be an object.
  bool object = false;
  // A syntax error says where and why, in the parser's words, which quote
  // the bytes last read: never for text that may hold a secret.
  bool detail = false;
};

// INVALID_ARGUMENT "<what>: larger than N bytes", "<what>: not valid JSON"
// (with `detail`: "<what>: parse error at line 2, column 14: syntax error
// while parsing ...") or "<what>: must be a JSON object".
absl::StatusOr<nlohmann::json> ParseJson(absl::string_view text, absl::string_view what,
                                         JsonRules rules = {});

// The string member `key` of `object`, named `path` in errors
// ("catalog.json: assets[0]: hostname", "access.json: api_keys[1].name"):
// INVALID_ARGUMENT "<path>: required" when it is absent, "<path>: must be a
// string, got number" when it is not a string. `object` must be an object.
absl::StatusOr<std::string> RequiredString(const nlohmann::json& object, absl::string_view key,
                                           absl::string_view path);

// Serializes `value`; invalid UTF-8 is replaced, never thrown. indent < 0:
// compact.
std::string DumpJson(const nlohmann::json& value, int indent = -1);

}  // namespace edgepass::text

#endif  // EDGEPASS_TEXT_JSON_DOC_H_
