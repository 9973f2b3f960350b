#include "client/analyze/log_text.h"

#include <cstring>

namespace edgepass::analyze {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Two ASCII digits at `p`; -1 otherwise.
int TwoDigits(const char* p) {
  if (p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9') return -1;
  return (p[0] - '0') * 10 + (p[1] - '0');
}

bool IsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

}  // namespace

// H. Hinnant's days_from_civil.
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

absl::string_view PercentDecode(absl::string_view text, std::string* scratch) {
  if (text.empty()) return text;  // its data() may be null, which memchr must not get
  const void* first = std::memchr(text.data(), '%', text.size());
  if (first == nullptr) return text;
  // One pass from the first '%'; the output is never longer than the input.
  const size_t done = static_cast<size_t>(static_cast<const char*>(first) - text.data());
  scratch->resize(text.size());
  char* out = scratch->data();
  std::memcpy(out, text.data(), done);
  out += done;
  for (size_t i = done; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%' && i + 2 < text.size()) {
      const int hi = HexValue(text[i + 1]);
      const int lo = HexValue(text[i + 2]);
      if (hi >= 0 && lo >= 0) {
        *out++ = static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    *out++ = c;
  }
  scratch->resize(static_cast<size_t>(out - scratch->data()));
  return *scratch;
}

bool IsValidUtf8(absl::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const auto* end = p + text.size();
  while (p < end) {
    // ASCII fast path, 8 bytes at a time.
    while (end - p >= 8) {
      uint64_t word;
      std::memcpy(&word, p, 8);
      if ((word & 0x8080808080808080ULL) != 0) break;
      p += 8;
    }
    if (p >= end) break;
    const unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    int n;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
      n = 1;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 2;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (end - p <= n) return false;
    for (int i = 1; i <= n; ++i) {
      if ((p[i] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i] & 0x3F);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    p += n + 1;
  }
  return true;
}

std::optional<int64_t> ParseW3cDate(absl::string_view date) {
  if (date.size() != 10 || date[4] != '-' || date[7] != '-') return std::nullopt;
  const int y1 = TwoDigits(date.data());
  const int y2 = TwoDigits(date.data() + 2);
  const int m = TwoDigits(date.data() + 5);
  const int d = TwoDigits(date.data() + 8);
  if (y1 < 0 || y2 < 0 || m < 1 || m > 12 || d < 1) return std::nullopt;
  const int64_t y = y1 * 100 + y2;
  if (y < 1970) return std::nullopt;
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const int max_day = kDays[m - 1] + (m == 2 && IsLeap(y) ? 1 : 0);
  if (d > max_day) return std::nullopt;
  return DaysFromCivil(y, static_cast<unsigned>(m), static_cast<unsigned>(d));
}

std::optional<int64_t> ParseW3cTime(absl::string_view time) {
  if (time.size() < 8 || time[2] != ':' || time[5] != ':') return std::nullopt;
  const int h = TwoDigits(time.data());
  const int m = TwoDigits(time.data() + 3);
  const int s = TwoDigits(time.data() + 6);
  if (h < 0 || h > 23 || m < 0 || m > 59 || s < 0 || s > 60) return std::nullopt;
  int64_t ms = ((h * 60 + m) * 60 + s) * 1000;
  if (time.size() == 8) return ms;
  if (time[8] != '.' || time.size() == 9 || time.size() > 12) return std::nullopt;
  int frac = 0;
  int digits = 0;
  for (size_t i = 9; i < time.size(); ++i, ++digits) {
    if (time[i] < '0' || time[i] > '9') return std::nullopt;
    frac = frac * 10 + (time[i] - '0');
  }
  while (digits++ < 3) frac *= 10;
  return ms + frac;
}

std::optional<uint64_t> ParseUnsigned(absl::string_view text) {
  if (text.empty() || text.size() > 19) return std::nullopt;
  uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

std::optional<int64_t> ParseEpochSecondsMs(absl::string_view text) {
  const size_t dot = text.find('.');
  std::optional<uint64_t> secs = ParseUnsigned(text.substr(0, dot));
  if (!secs.has_value() || *secs > 253402300799ULL) return std::nullopt;  // year 9999
  int64_t ms = static_cast<int64_t>(*secs) * 1000;
  if (dot == absl::string_view::npos) return ms;
  absl::string_view frac = text.substr(dot + 1);
  if (frac.empty() || frac.size() > 9) return std::nullopt;
  int scale = 100;
  for (char c : frac) {
    if (c < '0' || c > '9') return std::nullopt;
    ms += (c - '0') * scale;
    scale /= 10;
  }
  return ms;
}

std::optional<absl::string_view> SessionIdFromUri(absl::string_view uri) {
  const size_t first = uri.find('/');
  if (first == absl::string_view::npos) return std::nullopt;
  absl::string_view segment = uri.substr(first + 1);
  segment = segment.substr(0, segment.find('/'));
  const size_t d1 = segment.find('.');
  if (d1 == absl::string_view::npos) return std::nullopt;
  const size_t d2 = segment.find('.', d1 + 1);
  if (d2 == absl::string_view::npos) return std::nullopt;
  const size_t d3 = segment.find('.', d2 + 1);
  if (d3 == absl::string_view::npos) return std::nullopt;
  if (segment.find('.', d3 + 1) != absl::string_view::npos) return std::nullopt;
  return segment.substr(0, d1);
}

}  // namespace edgepass::analyze
