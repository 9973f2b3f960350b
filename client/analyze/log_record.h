// One CDN access-log request as the analyzer sees it, the closed set of
// reasons a line is skipped, and the counters a parse run keeps. The parsers
// (w3c_parser.h, json_log_parser.h) fill a LogRecord whose views point into
// the line or into the parser's scratch buffers: valid until the next line.
//
//   ParseStats stats;
//   LineError e = parser.Parse(line, &record);
//   stats.Count(e);  // kNone: use `record`
#ifndef EDGEPASS_CLIENT_ANALYZE_LOG_RECORD_H_
#define EDGEPASS_CLIENT_ANALYZE_LOG_RECORD_H_

#include <array>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace edgepass::analyze {

// Longest line the parsers accept; longer lines are skipped (kTooLong).
inline constexpr size_t kMaxLineBytes = 64 * 1024;

struct LogRecord {
  int64_t time_ms = 0;  // Unix time of the request, milliseconds, UTC
  int status = 0;       // HTTP status
  uint64_t bytes = 0;   // bytes sent to the viewer (CloudFront sc-bytes)
  absl::string_view client_ip;
  absl::string_view uri;  // path without query, URL-decoded
  absl::string_view referer;     // URL-decoded; empty for "-"
  absl::string_view user_agent;  // URL-decoded; empty for "-"
  // The session id the edge logged (nginx format); empty: derive it from
  // `uri` (SessionIdFromUri).
  absl::string_view session_id;
};

// Why a line gave no record. kNone: it did; kHeader: a '#' line or blank.
enum class LineError {
  kNone,
  kHeader,
  kMalformed,         // not the expected shape (bad JSON, not an object, ...)
  kWrongColumnCount,  // W3C: column count differs from the #Fields line
  kNoFieldsHeader,    // W3C: a data line before any #Fields line
  kMissingField,      // a required field is absent
  kBadValue,          // a required field does not parse (time, status, bytes)
  kNonUtf8,           // the line is not valid UTF-8
  kTooLong,           // longer than kMaxLineBytes
};
inline constexpr size_t kLineErrorCount = 9;

// Stable snake_case names ("wrong_column_count", ...) for summaries and JSON.
absl::string_view LineErrorName(LineError e);

// Counters of one or more parse runs; merged across files and threads.
struct ParseStats {
  uint64_t lines = 0;       // every line seen, headers included
  uint64_t records = 0;     // lines that gave a record
  uint64_t kept = 0;        // records that passed the filters into a session
  uint64_t filtered = 0;    // records outside the window/status/size filters
  uint64_t no_session = 0;  // records whose URI carries no session id
  std::array<uint64_t, kLineErrorCount> errors{};  // by LineError (kNone, kHeader unused)
  uint64_t files = 0;
  uint64_t unreadable_files = 0;  // could not be opened or read
  uint64_t truncated_gzip = 0;    // gzip stream ended early (lines before it are kept)
  uint64_t corrupt_gzip = 0;      // gzip data error (lines before it are kept)
  uint64_t bytes_read = 0;        // input bytes (compressed size for gzip)

  void Count(LineError e);
  uint64_t skipped() const;  // sum of `errors`
  void Merge(const ParseStats& other);
  // One line: "lines 10, records 8, kept 7, skipped 2 (wrong_column_count 1,
  // non_utf8 1), files 2 (truncated gzip 1)".
  std::string Summary() const;
};

}  // namespace edgepass::analyze

#endif  // EDGEPASS_CLIENT_ANALYZE_LOG_RECORD_H_
