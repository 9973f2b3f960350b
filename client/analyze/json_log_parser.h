// Parser for JSON-lines access logs: CloudFront standard logging v2 delivered
// as JSON (field names as the W3C ones: "date", "time" or "timestamp",
// "c-ip", "cs-uri-stem", "sc-status", "sc-bytes", "cs(Referer)",
// "cs(User-Agent)"; percent-encoded like the W3C files) and the nginx
// `edgepass_json` log_format of deploy/nginx/edgepass.conf ("msec",
// "client_ip", "uri", "status", "bytes", "referer", "user_agent",
// "session_id"; not percent-encoded). A field may be a string or a number;
// "-" and null are empty.
//
//   JsonLogParser parser;
//   LogRecord r;
//   LineError e = parser.Parse(R"({"msec":"1767225600.000","uri":"/a.b.c.d/x.ts",...})", &r);
#ifndef EDGEPASS_CLIENT_ANALYZE_JSON_LOG_PARSER_H_
#define EDGEPASS_CLIENT_ANALYZE_JSON_LOG_PARSER_H_

#include <string>

#include "absl/strings/string_view.h"
#include "client/analyze/log_record.h"

namespace edgepass::analyze {

// Not thread-safe; one per file being read.
class JsonLogParser {
 public:
  // One line without its '\n'. Blank lines give kHeader. On kNone, *out
  // points into this parser's buffers until the next call.
  LineError Parse(absl::string_view line, LogRecord* out);

 private:
  std::string ip_, uri_, referer_, user_agent_, session_id_;
  std::string decoded_[3];
};

}  // namespace edgepass::analyze

#endif  // EDGEPASS_CLIENT_ANALYZE_JSON_LOG_PARSER_H_
