#include "core/url_query.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"

namespace edgepass::core {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = absl::ascii_tolower(static_cast<unsigned char>(c));
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

}  // namespace

std::string PercentDecode(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      const int hi = HexValue(text[i + 1]);
      const int lo = HexValue(text[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
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
