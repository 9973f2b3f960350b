// SMD's suspicion score over the sessions of one analysis window
// (DESIGN.md, Auto revocation). Per session: requests = distinct (viewer IP,
// URI) pairs, duration = last - first request in seconds, rate = requests /
// duration. score = rate_weight * rate / median(rate) + ip_weight when more
// than one IP + referer_weight when more than one referer + user_agent_weight
// when more than one user agent; a weight of 0 switches its term off.
// Reported: sessions lasting at least min_duration whose score is strictly
// greater than `threshold`, and none at all when the window holds fewer than
// min_sessions sessions. As in SMD, the median and the session count cover
// every session of the window, before the duration filter.
//
// What SMD leaves undefined, defined here (docs/analyze.md):
//   - a session with duration 0 has no rate (SMD divides by zero): it counts
//     towards min_sessions, stays out of the median and is never scored;
//   - the median is the middle rate, or the mean of the two middle rates, of
//     the sessions that have one; with none (no session, or all of duration
//     0) and the rate term on, nothing is reported. With rate_weight 0 the
//     median is not needed.
//
//   Analysis a = ScoreSessions(table, ScoringOptions{});
//   for (const SessionScore& s : a.sessions) if (s.reported) Report(s);
#ifndef EDGEPASS_CLIENT_ANALYZE_SCORING_H_
#define EDGEPASS_CLIENT_ANALYZE_SCORING_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "client/analyze/session_table.h"

namespace edgepass::analyze {

struct ScoringOptions {
  absl::Duration min_duration = absl::Seconds(30);
  uint64_t min_sessions = 3;
  double threshold = 2.2;
  double rate_weight = 1;
  double ip_weight = 1;
  double referer_weight = 1;
  double user_agent_weight = 1;
};

struct SessionScore {
  std::string session_id;
  uint64_t requests = 0;
  double duration_s = 0;
  std::optional<double> rate;  // none for duration 0
  uint32_t ips = 0, referers = 0, user_agents = 0;  // capped at kMaxDistinctTracked
  int64_t last_ms = 0;
  // The score's terms (0 when switched off or not met) and their sum.
  double rate_component = 0, ip_component = 0, referer_component = 0, user_agent_component = 0;
  double score = 0;
  bool scored = false;    // long enough, rate defined, enough sessions, median known
  bool reported = false;  // scored and score > threshold
};

struct Analysis {
  uint64_t sessions = 0;             // in the window, before the duration filter
  std::optional<double> median_rate;  // none when no session has a rate
  // Why nothing is scored ("" when sessions are): fewer sessions than the
  // minimum, or no median.
  std::string not_scored_reason;
  // Every session; scored ones first by score (highest first), then by id.
  std::vector<SessionScore> results;
};

// Pure; options are not validated here (ValidateScoringOptions).
Analysis ScoreSessions(const SessionTable& table, const ScoringOptions& options);

// An error naming the option ("--ip-weight: ...") for a negative or
// non-finite weight, a negative duration or a non-finite threshold; "" when
// the options are usable.
std::string ValidateScoringOptions(const ScoringOptions& options);

// The components a report carries (server limit: 16), by stable name:
// "rate" (weighted rate/median term), "multiple_ips", "multiple_referers",
// "multiple_user_agents", and for context "rate_per_s", "median_rate_per_s",
// "requests", "duration_s", "ips", "referers", "user_agents".
std::map<std::string, double> ScoreComponents(const SessionScore& s, std::optional<double> median);

}  // namespace edgepass::analyze

#endif  // EDGEPASS_CLIENT_ANALYZE_SCORING_H_
