#include "client/analyze/w3c_parser.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <algorithm>
#include <cstring>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "client/analyze/log_text.h"

namespace edgepass::analyze {
namespace {

constexpr absl::string_view kFieldsPrefix = "#Fields:";

absl::string_view Dash(absl::string_view v) { return v == "-" ? absl::string_view() : v; }

// What one pass over a data line finds: its columns up to the last one read,
// its column count, and whether it has any byte >= 0x80 (else it is ASCII,
// so valid UTF-8) or any '%' (else nothing needs percent-decoding).
struct LineScan {
  size_t columns = 0;
  bool high = false;
  bool percent = false;
};

// Calls on_column(index, value) for the first `needed` columns and counts
// the rest, 16 bytes at a time.
template <typename OnColumn>
LineScan ScanLine(absl::string_view line, size_t needed, OnColumn on_column) {
  LineScan scan;
  size_t start = 0;
  auto tab_at = [&](size_t pos) {
    if (scan.columns < needed) on_column(scan.columns, line.substr(start, pos - start));
    ++scan.columns;
    start = pos + 1;
  };
  const char* data = line.data();
  size_t i = 0;
#if defined(__SSE2__)
  const __m128i tab = _mm_set1_epi8('\t'), pct = _mm_set1_epi8('%');
  int high = 0, percent = 0;
  auto chunk = [&](__m128i v, size_t at) {
    high |= _mm_movemask_epi8(v);
    percent |= _mm_movemask_epi8(_mm_cmpeq_epi8(v, pct));
    for (unsigned tabs = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, tab))); tabs != 0;
         tabs &= tabs - 1) {
      tab_at(at + static_cast<size_t>(__builtin_ctz(tabs)));
    }
  };
  for (; i + 16 <= line.size(); i += 16) chunk(_mm_loadu_si128(reinterpret_cast<const __m128i*>(data + i)), i);
  if (i < line.size()) {
    alignas(16) char tail[16] = {};
    std::memcpy(tail, data + i, line.size() - i);
    chunk(_mm_load_si128(reinterpret_cast<const __m128i*>(tail)), i);
  }
  scan.high = high != 0;
  scan.percent = percent != 0;
#else
  for (; i < line.size(); ++i) {
    const char c = data[i];
    if (c == '\t') tab_at(i);
    scan.high |= static_cast<unsigned char>(c) >= 0x80;
    scan.percent |= c == '%';
  }
#endif
  tab_at(line.size());
  return scan;
}

}  // namespace

void W3cParser::SetFields(absl::string_view names) {
  for (int& c : column_) c = -1;
  field_count_ = 0;
  int max_needed = -1;  // highest column index read
  cached_date_.clear();
  for (absl::string_view name : absl::StrSplit(names, absl::ByAnyChar(" \t"), absl::SkipEmpty())) {
    const int index = static_cast<int>(field_count_++);
    int* slot = nullptr;
    if (name == "date") slot = &column_[kDate];
    else if (name == "time") slot = &column_[kTime];
    else if (name == "c-ip") slot = &column_[kIp];
    else if (name == "cs-uri-stem") slot = &column_[kUri];
    else if (name == "sc-status") slot = &column_[kStatus];
    else if (name == "sc-bytes") slot = &column_[kBytes];
    else if (name == "cs(Referer)") slot = &column_[kReferer];
    else if (name == "cs(User-Agent)") slot = &column_[kUserAgent];
    if (slot != nullptr && *slot < 0) {
      *slot = index;
      if (index > max_needed) max_needed = index;
    }
  }
  column_of_index_.assign(static_cast<size_t>(max_needed + 1), -1);
  for (int c = 0; c < kColumns; ++c) {
    if (column_[c] >= 0) column_of_index_[static_cast<size_t>(column_[c])] = c;
  }
}

LineError W3cParser::Parse(absl::string_view line, LogRecord* out) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.size() > kMaxLineBytes) return LineError::kTooLong;
  if (line.empty()) return LineError::kHeader;
  if (line[0] == '#') {
    if (absl::StartsWith(line, kFieldsPrefix)) {
      if (!IsValidUtf8(line)) return LineError::kNonUtf8;
      SetFields(line.substr(kFieldsPrefix.size()));
    }
    return LineError::kHeader;
  }
  if (field_count_ == 0) {
    return IsValidUtf8(line) ? LineError::kNoFieldsHeader : LineError::kNonUtf8;
  }

  // One pass: the columns read, the column count, and what needs a closer look.
  absl::string_view cols[kColumns];
  const LineScan scan = ScanLine(line, column_of_index_.size(), [&](size_t index, absl::string_view v) {
    const int c = column_of_index_[index];
    if (c >= 0) cols[c] = v;
  });
  if (scan.high && !IsValidUtf8(line)) return LineError::kNonUtf8;
  const size_t index = scan.columns;
  if (index != field_count_) return LineError::kWrongColumnCount;
  for (int c : {kDate, kTime, kIp, kUri, kStatus, kBytes}) {
    if (column_[c] < 0) return LineError::kMissingField;
  }

  if (cached_date_.empty() || cols[kDate] != cached_date_) {
    std::optional<int64_t> days = ParseW3cDate(cols[kDate]);
    if (!days.has_value()) return LineError::kBadValue;
    cached_date_.assign(cols[kDate].data(), cols[kDate].size());
    cached_days_ = *days;
  }
  std::optional<int64_t> ms = ParseW3cTime(cols[kTime]);
  std::optional<uint64_t> status = ParseUnsigned(cols[kStatus]);
  std::optional<uint64_t> bytes = ParseUnsigned(cols[kBytes]);
  if (!ms.has_value() || !status.has_value() || *status > 999 || !bytes.has_value()) {
    return LineError::kBadValue;
  }
  out->time_ms = cached_days_ * 86400000 + *ms;
  out->status = static_cast<int>(*status);
  out->bytes = *bytes;
  out->client_ip = Dash(cols[kIp]);
  if (scan.percent) {
    out->uri = PercentDecode(Dash(cols[kUri]), &uri_buf_);
    out->referer = PercentDecode(Dash(cols[kReferer]), &referer_buf_);
    out->user_agent = PercentDecode(Dash(cols[kUserAgent]), &user_agent_buf_);
  } else {
    out->uri = Dash(cols[kUri]);
    out->referer = Dash(cols[kReferer]);
    out->user_agent = Dash(cols[kUserAgent]);
  }
  out->session_id = {};
  return LineError::kNone;
}

}  // namespace edgepass::analyze
