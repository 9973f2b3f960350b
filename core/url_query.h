// Query-string parsing shared by the issuer (playback URL queries) and the
// tools that turn a request line into an EdgeRequest.
//
//   auto params = ParseQueryString("cid=cust-0042&x=%2F");  // {{"cid","cust-0042"},{"x","/"}}
#ifndef EDGEPASS_CORE_URL_QUERY_H_
#define EDGEPASS_CORE_URL_QUERY_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace edgepass::core {

// Percent-decodes `text` ('+' stays '+'); malformed escapes are kept verbatim.
std::string PercentDecode(absl::string_view text);

// The query of `url`: the text after the first '?' and before any '#', which is
// cut first ("https://h/p?a=1#f" -> "a=1"; "https://h/p#f?a=1" -> "").
absl::string_view UrlQuery(absl::string_view url);

// Splits "a=1&b=2" into decoded (name, value) pairs, in order. A leading '?'
// is ignored; a name without '=' gets an empty value.
std::vector<std::pair<std::string, std::string>> ParseQueryString(absl::string_view query);

}  // namespace edgepass::core

#endif  // EDGEPASS_CORE_URL_QUERY_H_
