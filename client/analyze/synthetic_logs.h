// Synthetic CDN access logs for tests and benchmarks: ordinary viewers
// playing HLS at a realistic segment cadence (one IP, user agent and
// referer each; manifests, some byte-range requests) and a few shared
// sessions (one token played from several IPs and user agents at once).
// Deterministic for a seed. Test support only: not linked into the tools.
//
//   SyntheticLog log = GenerateSyntheticLog({.ordinary = 1000, .shared = 5});
//   WriteFileOrDie(path, CloudFrontW3c(log.requests));
#ifndef EDGEPASS_CLIENT_ANALYZE_SYNTHETIC_LOGS_H_
#define EDGEPASS_CLIENT_ANALYZE_SYNTHETIC_LOGS_H_

#include <cstdint>
#include <string>
#include <vector>

namespace edgepass::analyze {

struct SyntheticRequest {
  int64_t time_ms;
  std::string ip, uri, referer, user_agent;  // not encoded
  int status;
  uint64_t bytes;
  std::string session_id;
};

struct SyntheticOptions {
  int ordinary = 1000;  // ordinary sessions, 40 s to 10 min long
  int shared = 5;       // shared sessions: 4 IPs, 3 user agents, 2 referers, 4x the rate
  int short_shared = 1;  // shared but only 20 s long (below the 30 s minimum)
  int64_t start_ms = 1796544000000;  // 2026-12-06 08:00:00 UTC
  int64_t span_ms = 600000;          // the 10 minutes the sessions fall in
  uint64_t seed = 1;
};

struct SyntheticLog {
  std::vector<SyntheticRequest> requests;  // sorted by time
  std::vector<std::string> shared_ids;
  std::vector<std::string> short_shared_ids;
};

SyntheticLog GenerateSyntheticLog(const SyntheticOptions& options);

// The requests as a CloudFront standard log file (#Version, #Fields with the
// 33 current fields, percent-encoded URI, referer and user agent).
std::string CloudFrontW3c(const std::vector<SyntheticRequest>& requests);
// As CloudFront v2 JSON lines.
std::string CloudFrontJsonLines(const std::vector<SyntheticRequest>& requests);
// As the nginx edgepass_json log_format, with the session id field.
std::string NginxJsonLines(const std::vector<SyntheticRequest>& requests);

}  // namespace edgepass::analyze

#endif  // EDGEPASS_CLIENT_ANALYZE_SYNTHETIC_LOGS_H_
