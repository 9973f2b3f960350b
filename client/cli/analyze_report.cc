#include "client/cli/analyze_report.h"

#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/lib/session_client.h"
#include "core/token_issuer.h"
#include "google/protobuf/util/time_util.h"

namespace edgepass::cli {
namespace {

double Get(const std::map<std::string, double>& m, const char* key) {
  auto it = m.find(key);
  return it == m.end() ? 0 : it->second;
}

// Sessions per ReportSessions call (the service takes up to 1000).
constexpr size_t kReportBatch = 500;

bool Fatal(const absl::Status& s) {
  return s.code() == absl::StatusCode::kUnavailable || s.code() == absl::StatusCode::kDeadlineExceeded ||
         s.code() == absl::StatusCode::kUnauthenticated || s.code() == absl::StatusCode::kPermissionDenied;
}

}  // namespace

std::string ReportReason(const Suspect& s) {
  std::string out = absl::StrFormat("auto: score %.3f (rate term %.3f", s.score, Get(s.components, "rate"));
  if (Get(s.components, "multiple_ips") > 0) absl::StrAppend(&out, ", several IPs");
  if (Get(s.components, "multiple_referers") > 0) absl::StrAppend(&out, ", several referers");
  if (Get(s.components, "multiple_user_agents") > 0) absl::StrAppend(&out, ", several user agents");
  absl::StrAppend(&out, ")");
  return out;
}

ReportSummary ReportSuspects(client::SessionClient& sessions, const std::vector<Suspect>& suspects,
                             const ReportSettings& settings, analyze::ScanState* state) {
  ReportSummary summary;
  // Batches of ReportSessions: the service decides atomically what is new, so
  // a MANUAL entry stays and nothing is stored twice, whatever runs at once.
  std::vector<const Suspect*> batch;
  auto send = [&]() -> bool {  // false: stop the run
    if (batch.empty()) return true;
    v1::ReportSessionsRequest request;
    for (const Suspect* s : batch) {
      v1::ReportSessionRequest* r = request.add_sessions();
      r->set_session_id(s->session_id);
      r->set_reason(ReportReason(*s));
      r->set_score(s->score);
      for (const auto& [name, value] : s->components) (*r->mutable_score_components())[name] = value;
      if (settings.revoke_for.has_value()) {
        *r->mutable_expires_at() = google::protobuf::util::TimeUtil::MillisecondsToTimestamp(
            absl::ToUnixMillis(settings.now + *settings.revoke_for));
      }
    }
    absl::StatusOr<v1::ReportSessionsResponse> response = sessions.ReportSessions(request);
    if (!response.ok()) {
      if (summary.error.ok()) summary.error = response.status();
      summary.refused += static_cast<int>(batch.size());
      batch.clear();
      return !Fatal(response.status());
    }
    for (size_t i = 0; i < batch.size(); ++i) {
      const v1::ReportOutcome outcome =
          i < static_cast<size_t>(response->outcomes_size()) ? response->outcomes(i) : v1::REPORT_STORED;
      if (outcome == v1::REPORT_ALREADY_MANUAL) {
        ++summary.already_manual;
      } else if (outcome == v1::REPORT_ALREADY_AUTO) {
        ++summary.already_auto;
      } else {
        ++summary.reported;
      }
      if (state != nullptr && outcome != v1::REPORT_ALREADY_MANUAL) {
        state->reported()[batch[i]->session_id] = absl::ToUnixSeconds(settings.now);
      }
    }
    batch.clear();
    return true;
  };
  absl::flat_hash_set<std::string> seen;
  for (const Suspect& s : suspects) {
    if (!core::IsValidSessionId(s.session_id)) {
      ++summary.invalid_ids;
      continue;
    }
    if (!seen.insert(s.session_id).second) continue;
    if (state != nullptr && state->reported().contains(s.session_id)) {
      ++summary.already_auto;  // reported by an earlier run (and maybe restored since: left so)
      continue;
    }
    batch.push_back(&s);
    if (batch.size() == kReportBatch && !send()) return summary;
  }
  send();
  return summary;
}

}  // namespace edgepass::cli
