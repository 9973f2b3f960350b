#include "client/analyze/log_record.h"

#include "absl/strings/str_cat.h"

namespace edgepass::analyze {

absl::string_view LineErrorName(LineError e) {
  switch (e) {
    case LineError::kNone: return "none";
    case LineError::kHeader: return "header";
    case LineError::kMalformed: return "malformed";
    case LineError::kWrongColumnCount: return "wrong_column_count";
    case LineError::kNoFieldsHeader: return "no_fields_header";
    case LineError::kMissingField: return "missing_field";
    case LineError::kBadValue: return "bad_value";
    case LineError::kNonUtf8: return "non_utf8";
    case LineError::kTooLong: return "too_long";
  }
  return "unknown";
}

void ParseStats::Count(LineError e) {
  ++lines;
  if (e == LineError::kNone) {
    ++records;
  } else if (e != LineError::kHeader) {
    ++errors[static_cast<size_t>(e)];
  }
}

uint64_t ParseStats::skipped() const {
  uint64_t n = 0;
  for (uint64_t v : errors) n += v;
  return n;
}

void ParseStats::Merge(const ParseStats& o) {
  lines += o.lines;
  records += o.records;
  kept += o.kept;
  filtered += o.filtered;
  no_session += o.no_session;
  for (size_t i = 0; i < errors.size(); ++i) errors[i] += o.errors[i];
  files += o.files;
  unreadable_files += o.unreadable_files;
  truncated_gzip += o.truncated_gzip;
  corrupt_gzip += o.corrupt_gzip;
  bytes_read += o.bytes_read;
}

std::string ParseStats::Summary() const {
  std::string out = absl::StrCat("files ", files, ", lines ", lines, ", records ", records, ", kept ",
                                 kept, ", outside filters ", filtered, ", no session id ", no_session,
                                 ", skipped ", skipped());
  std::string detail;
  for (size_t i = 0; i < errors.size(); ++i) {
    if (errors[i] == 0) continue;
    absl::StrAppend(&detail, detail.empty() ? "" : ", ", LineErrorName(static_cast<LineError>(i)), " ",
                    errors[i]);
  }
  if (!detail.empty()) absl::StrAppend(&out, " (", detail, ")");
  if (unreadable_files != 0) absl::StrAppend(&out, ", unreadable files ", unreadable_files);
  if (truncated_gzip != 0) absl::StrAppend(&out, ", truncated gzip ", truncated_gzip);
  if (corrupt_gzip != 0) absl::StrAppend(&out, ", corrupt gzip ", corrupt_gzip);
  return out;
}

}  // namespace edgepass::analyze
