// JSON string literals, byte for byte as nlohmann's
// dump(-1, ' ', false, error_handler_t::replace) writes them (the form of
// JSON.stringify: no spaces, UTF-8 kept as is): the one quoting every JSON
// writer in the project uses (token payloads, CloudFront policies, log lines,
// HTTP error bodies, the sidecar's state files), so a token's payload is the
// exact bytes nlohmann would dump and valid UTF-8 reads back unchanged.
//
//   std::string out = "{";
//   AppendJsonString("paths", &out);  // "\"paths\""
//   out += ':';
//   AppendJsonStringList(policy.paths, &out);
//   std::string error = absl::StrCat("{\"error\":", JsonString(message), "}");
#ifndef EDGEPASS_TEXT_JSON_STRING_H_
#define EDGEPASS_TEXT_JSON_STRING_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace edgepass::text {

// Appends `s` quoted and escaped: '"' and '\\' and the control characters
// below 0x20 escaped (\b \t \n \f \r, else \u00xx), DEL and valid UTF-8 kept,
// each invalid UTF-8 sequence replaced by U+FFFD where nlohmann replaces it.
void AppendJsonString(absl::string_view s, std::string* out);

// Appends `list` as a JSON array of strings ("[]" when empty).
void AppendJsonStringList(const std::vector<std::string>& list,
                          std::string* out);

// `s` as a JSON string literal, quotes included (AppendJsonString).
std::string JsonString(absl::string_view s);

// True when `s` is valid UTF-8, which AppendJsonString writes unchanged (and
// a JSON parser reads back as the same bytes).
bool IsValidUtf8(absl::string_view s);

}  // namespace edgepass::text

#endif  // EDGEPASS_TEXT_JSON_STRING_H_
