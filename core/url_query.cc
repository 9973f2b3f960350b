#include "core/url_query.h"

#include "absl/strings/str_split.h"
#include "core/text_internal.h"

namespace edgepass::core {
std::string PercentDecode(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (const int byte = internal::PercentByte(text, i); byte >= 0) {
      out.push_back(static_cast<char>(byte));
      i += 2;
      continue;
    }
    out.push_back(text[i]);
  }
  return out;
}

absl::string_view UrlQuery(absl::string_view url) {
  url = url.substr(0, url.find('#'));
  const size_t q = url.find('?');
  return q == absl::string_view::npos ? absl::string_view() : url.substr(q + 1);
}

std::vector<std::pair<std::string, std::string>> ParseQueryString(absl::string_view query) {
  std::vector<std::pair<std::string, std::string>> out;
  if (!query.empty() && query[0] == '?') query.remove_prefix(1);
  for (absl::string_view part : absl::StrSplit(query, '&', absl::SkipEmpty())) {
    const size_t eq = part.find('=');
    if (eq == absl::string_view::npos) {
      out.emplace_back(PercentDecode(part), "");
    } else {
      out.emplace_back(PercentDecode(part.substr(0, eq)), PercentDecode(part.substr(eq + 1)));
    }
  }
  return out;
}

}  // namespace edgepass::core
