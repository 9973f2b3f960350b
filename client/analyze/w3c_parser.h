// Parser for CloudFront standard access logs (W3C extended format): tab-
// separated lines whose columns are named by the latest "#Fields:" line.
// Older files have fewer fields and current ones 33; only the columns the
// analysis needs are read (date, time, c-ip, cs-uri-stem, sc-status,
// sc-bytes, cs(Referer), cs(User-Agent); the last two may be absent). "-" is
// an empty value; URI, referer and user agent are percent-decoded.
//
//   W3cParser parser;
//   LogRecord r;
//   for (absl::string_view line : lines) stats.Count(parser.Parse(line, &r));
#ifndef EDGEPASS_CLIENT_ANALYZE_W3C_PARSER_H_
#define EDGEPASS_CLIENT_ANALYZE_W3C_PARSER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "client/analyze/log_record.h"

namespace edgepass::analyze {

// The #Fields line of current CloudFront standard logs (33 fields), for
// tests and for files cut from the middle of a log.
inline constexpr absl::string_view kCloudFrontFields =
    "date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status "
    "cs(Referer) cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type x-edge-request-id "
    "x-host-header cs-protocol cs-bytes time-taken x-forwarded-for ssl-protocol ssl-cipher "
    "x-edge-response-result-type cs-protocol-version fle-status fle-encrypted-fields c-port "
    "time-to-first-byte x-edge-detailed-result-type sc-content-type sc-content-len "
    "sc-range-start sc-range-end";

// Not thread-safe; one per file being read.
class W3cParser {
 public:
  // Takes the names after "#Fields:" (space-separated). Unknown names are
  // ignored; a missing required one makes every following line kMissingField.
  void SetFields(absl::string_view names);
  bool has_fields() const { return field_count_ > 0; }

  // One line without its '\n' (a trailing '\r' is ignored). "#Fields:" lines
  // set the columns and, like other '#' lines and blank lines, give kHeader.
  // On kNone, *out points into `line` and this parser's buffers until the
  // next call.
  LineError Parse(absl::string_view line, LogRecord* out);

 private:
  enum Column { kDate, kTime, kIp, kUri, kStatus, kBytes, kReferer, kUserAgent, kColumns };
  int column_[kColumns] = {-1, -1, -1, -1, -1, -1, -1, -1};
  size_t field_count_ = 0;
  // Up to the highest column index read: the Column there, or -1.
  std::vector<int> column_of_index_;
  std::string uri_buf_, referer_buf_, user_agent_buf_;
  std::string cached_date_;
  int64_t cached_days_ = 0;
};

}  // namespace edgepass::analyze

#endif  // EDGEPASS_CLIENT_ANALYZE_W3C_PARSER_H_
