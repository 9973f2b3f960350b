// `edgepass analyze --report`: sends the sessions over the threshold to the
// service as AUTO revocations in batches (SessionService.ReportSessions, each
// batch stored atomically), with their score and components. The service
// leaves a session already on the revocation list (MANUAL or AUTO) alone, in
// the same write that stores the others, so running twice adds nothing and a
// MANUAL entry is never replaced by an AUTO one, even with concurrent writers.
//
//   ReportSummary s = ReportSuspects(sessions_client, suspects, {.reason_prefix = "auto"}, &state);
#ifndef EDGEPASS_CLIENT_CLI_ANALYZE_REPORT_H_
#define EDGEPASS_CLIENT_CLI_ANALYZE_REPORT_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "client/analyze/scan_state.h"

namespace edgepass::client {
class SessionClient;
}  // namespace edgepass::client

namespace edgepass::cli {

struct Suspect {
  std::string session_id;
  double score = 0;
  std::map<std::string, double> components;
};

struct ReportSettings {
  // None: the service's default revocation lifetime.
  std::optional<absl::Duration> revoke_for;
  absl::Time now;
};

struct ReportSummary {
  int reported = 0;
  int already_manual = 0;  // on the list as MANUAL: left as is
  int already_auto = 0;    // on the list as AUTO (reported by an earlier run)
  int invalid_ids = 0;     // not a session id the service accepts
  int refused = 0;         // the service refused the report (see `error`)
  // The first error; UNAVAILABLE / DEADLINE_EXCEEDED stop the run.
  absl::Status error;
};

// `state` may be null (no --state); reported ids are recorded in it.
ReportSummary ReportSuspects(client::SessionClient& sessions, const std::vector<Suspect>& suspects,
                             const ReportSettings& settings, analyze::ScanState* state);

// "The reason" stored with an entry: "auto: score 7.1 (rate x4.0, 4 IPs, ...)".
std::string ReportReason(const Suspect& s);

}  // namespace edgepass::cli

#endif  // EDGEPASS_CLIENT_CLI_ANALYZE_REPORT_H_
