#include "client/analyze/w3c_parser.h"

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

// The number of tabs in [p, end), eight bytes at a time (the columns after
// the last one read are only counted).
size_t CountTabs(const char* p, const char* end) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kLow7 = 0x7F7F7F7F7F7F7F7FULL;
  size_t n = 0;
  while (end - p >= 8) {
    uint64_t word;
    std::memcpy(&word, p, 8);
    const uint64_t x = word ^ (kOnes * '\t');  // tab bytes become zero
    // High bit set exactly in the bytes of x that are not zero.
    const uint64_t nonzero = (((x & kLow7) + kLow7) | x) & ~kLow7;
    // One per tab byte in the low bit of its byte; the multiply sums them
    // into the top byte (at most 8: no carry).
    n += static_cast<size_t>((((~nonzero & ~kLow7) >> 7) * kOnes) >> 56);
    p += 8;
  }
  return n + static_cast<size_t>(std::count(p, end, '\t'));
}

}  // namespace

void W3cParser::SetFields(absl::string_view names) {
  for (int& c : column_) c = -1;
  field_count_ = 0;
  max_needed_ = -1;
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
      if (index > max_needed_) max_needed_ = index;
    }
  }
  column_of_index_.assign(static_cast<size_t>(max_needed_ + 1), -1);
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
  if (!IsValidUtf8(line)) return LineError::kNonUtf8;
  if (field_count_ == 0) return LineError::kNoFieldsHeader;

  // Split at tabs up to the last column read; count the rest in one pass.
  absl::string_view cols[kColumns];
  const char* p = line.data();
  const char* const end = p + line.size();
  size_t index = 0;
  while (true) {
    const void* tab = std::memchr(p, '\t', static_cast<size_t>(end - p));
    const char* stop = tab != nullptr ? static_cast<const char*>(tab) : end;
    if (static_cast<int>(index) <= max_needed_) {
      const int c = column_of_index_[index];
      if (c >= 0) cols[c] = absl::string_view(p, static_cast<size_t>(stop - p));
    }
    ++index;
    if (tab == nullptr) break;
    p = stop + 1;
    if (static_cast<int>(index) > max_needed_) {
      index += CountTabs(p, end) + 1;
      break;
    }
  }
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
  out->uri = PercentDecode(Dash(cols[kUri]), &uri_buf_);
  out->referer = PercentDecode(Dash(cols[kReferer]), &referer_buf_);
  out->user_agent = PercentDecode(Dash(cols[kUserAgent]), &user_agent_buf_);
  out->session_id = {};
  return LineError::kNone;
}

}  // namespace edgepass::analyze
