// Internal to core: appends JSON text to a string, byte for byte as nlohmann's
// dump(-1, ' ', false, error_handler_t::replace) writes it (the form of
// JSON.stringify: no spaces, UTF-8 kept as is), so the issuer can write a
// token payload directly and still issue the exact bytes it did before.
//
//   std::string out = "{";
//   AppendJsonString("paths", &out);  // "\"paths\""
//   out += ':';
//   AppendJsonStringList(policy.paths, &out);
#ifndef EDGEPASS_CORE_JSON_WRITER_INTERNAL_H_
#define EDGEPASS_CORE_JSON_WRITER_INTERNAL_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace edgepass::core::internal {

// Appends `s` quoted and escaped: '"' and '\\' and the control characters
// below 0x20 escaped (\b \t \n \f \r, else \u00xx), DEL and valid UTF-8 kept,
// each invalid UTF-8 sequence replaced by U+FFFD where nlohmann replaces it.
void AppendJsonString(absl::string_view s, std::string* out);

// Appends `list` as a JSON array of strings ("[]" when empty).
void AppendJsonStringList(const std::vector<std::string>& list,
                          std::string* out);

}  // namespace edgepass::core::internal

#endif  // EDGEPASS_CORE_JSON_WRITER_INTERNAL_H_
