#include "client/cli/analyze_report.h"

#include <utility>

#include "absl/container/flat_hash_map.h"
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
  if (suspects.empty()) return summary;
  // What is on the list now, so nothing is reported twice and MANUAL stays.
  absl::flat_hash_map<std::string, v1::RevocationType> listed;
  {
    v1::ListRevokedSessionsRequest request;
    absl::StatusOr<v1::ListRevokedSessionsResponse> list = sessions.ListRevokedSessions(request);
    if (!list.ok()) {
      summary.error = list.status();
      return summary;
    }
    for (const v1::RevokedSession& e : list->sessions()) listed[e.session_id()] = e.type();
  }
  for (const Suspect& s : suspects) {
    if (!core::IsValidSessionId(s.session_id)) {
      ++summary.invalid_ids;
      continue;
    }
    if (auto it = listed.find(s.session_id); it != listed.end()) {
      ++(it->second == v1::MANUAL ? summary.already_manual : summary.already_auto);
      continue;
    }
    if (state != nullptr && state->reported().contains(s.session_id)) {
      ++summary.already_auto;
      continue;
    }
    v1::ReportSessionRequest request;
    request.set_session_id(s.session_id);
    request.set_reason(ReportReason(s));
    request.set_score(s.score);
    for (const auto& [name, value] : s.components) (*request.mutable_score_components())[name] = value;
    if (settings.revoke_for.has_value()) {
      *request.mutable_expires_at() = google::protobuf::util::TimeUtil::MillisecondsToTimestamp(
          absl::ToUnixMillis(settings.now + *settings.revoke_for));
    }
    absl::StatusOr<v1::RevokedSession> entry = sessions.ReportSession(request);
    if (!entry.ok()) {
      if (summary.error.ok()) summary.error = entry.status();
      if (Fatal(entry.status())) return summary;
      ++summary.refused;
      continue;
    }
    ++summary.reported;
    listed[s.session_id] = v1::AUTO;
    if (state != nullptr) state->reported()[s.session_id] = absl::ToUnixSeconds(settings.now);
  }
  return summary;
}

}  // namespace edgepass::cli
