#include "server/app/revocation_desk.h"

#include <algorithm>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "core/token_issuer.h"

namespace edgepass::server {
namespace {

// How long a revoke or restore waits for this replica's edge snapshot to
// include it before answering.
constexpr absl::Duration kLocalPropagationWait = absl::Seconds(1);

}  // namespace

absl::StatusOr<core::RevocationEntry> RevocationDesk::MakeEntry(const RevocationRequest& request, absl::Time now,
                                                               absl::string_view prefix) const {
  if (request.expires_at.has_value() && *request.expires_at <= now) {
    return absl::InvalidArgumentError(absl::StrCat(prefix, "expires_at: must be in the future"));
  }
  core::RevocationEntry entry{.session_id = request.session_id,
                              .type = request.type,
                              .reason = request.reason,
                              .score = request.score,
                              .score_components = request.score_components,
                              .added_at = now,
                              .expires_at = request.expires_at.value_or(now + options_.default_revocation_ttl)};
  // Field names in errors are the request's ("session_id: ..."), not the
  // stored entry's ("entry.session_id: ...").
  if (absl::Status s = core::ValidateRevocationEntry(entry, "entry"); !s.ok()) {
    return absl::Status(s.code(), absl::StrCat(prefix, s.message().substr(std::string("entry.").size())));
  }
  return entry;
}

absl::StatusOr<core::RevocationEntry> RevocationDesk::Revoke(const RevocationRequest& request) const {
  EDGEPASS_ASSIGN_OR_RETURN(core::RevocationEntry entry, MakeEntry(request, clock_(), ""));
  uint64_t version = 0;
  if (entry.type == core::RevocationType::kAuto) {
    EDGEPASS_ASSIGN_OR_RETURN(ReportResult reported, store_->Report(absl::MakeConstSpan(&entry, 1)));
    version = reported.version;
    if (!reported.entries.empty()) entry = std::move(reported.entries[0]);
  } else {
    EDGEPASS_ASSIGN_OR_RETURN(version, store_->Put(entry));
  }
  // Durable now; also hand it to this replica's validators before answering
  // (bounded: the other replicas get it through the feed anyway).
  live_->RequestReload(ChangeKind::kSessions);
  live_->AwaitEdgeVersion(version, kLocalPropagationWait);
  return entry;
}

absl::StatusOr<ReportedSessions> RevocationDesk::Report(const std::vector<RevocationRequest>& requests) const {
  if (requests.empty()) return absl::InvalidArgumentError("sessions: at least one session to report");
  if (requests.size() > kMaxReportBatch) {
    return absl::InvalidArgumentError(
        absl::StrCat("sessions: at most ", kMaxReportBatch, " per call (got ", requests.size(), ")"));
  }
  const absl::Time now = clock_();
  std::vector<core::RevocationEntry> entries;
  entries.reserve(requests.size());
  for (size_t i = 0; i < requests.size(); ++i) {
    RevocationRequest request = requests[i];
    request.type = core::RevocationType::kAuto;
    EDGEPASS_ASSIGN_OR_RETURN(core::RevocationEntry entry, MakeEntry(request, now, absl::StrCat("sessions[", i, "].")));
    entries.push_back(std::move(entry));
  }
  EDGEPASS_ASSIGN_OR_RETURN(ReportResult reported, store_->Report(entries));
  live_->RequestReload(ChangeKind::kSessions);
  live_->AwaitEdgeVersion(reported.version, kLocalPropagationWait);
  return ReportedSessions{.outcomes = std::move(reported.outcomes),
                          .sessions = std::move(reported.entries),
                          .version = reported.version};
}

absl::StatusOr<RevokedSessions> RevocationDesk::List(bool compiled, size_t limit) const {
  EDGEPASS_ASSIGN_OR_RETURN(SessionList list, store_->List());
  std::vector<const core::RevocationEntry*> selected;
  if (compiled) {
    selected = core::CompileRevocationList(list.entries, clock_(), options_.revocations);
  } else {
    for (const auto& e : list.entries) selected.push_back(&e);
    std::sort(selected.begin(), selected.end(),
              [](const auto* a, const auto* b) { return a->session_id < b->session_id; });
  }
  if (limit != 0 && selected.size() > limit) selected.resize(limit);
  RevokedSessions out{.version = list.version};
  out.sessions.reserve(selected.size());
  for (const core::RevocationEntry* e : selected) out.sessions.push_back(*e);
  return out;
}

absl::Status RevocationDesk::Restore(absl::string_view session_id) const {
  if (!core::IsValidSessionId(session_id)) {
    return absl::InvalidArgumentError(
        absl::StrCat("session_id: must be 1 to ", core::kMaxSessionIdLength, " characters of [A-Za-z0-9_-]"));
  }
  EDGEPASS_ASSIGN_OR_RETURN(uint64_t version, store_->Remove(session_id));
  live_->RequestReload(ChangeKind::kSessions);
  live_->AwaitEdgeVersion(version, kLocalPropagationWait);
  return absl::OkStatus();
}

}  // namespace edgepass::server
