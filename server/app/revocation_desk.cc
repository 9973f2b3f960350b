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

absl::StatusOr<core::RevocationEntry> RevocationDesk::Revoke(const RevocationRequest& request) const {
  const absl::Time now = clock_();
  if (request.expires_at.has_value() && *request.expires_at <= now) {
    return absl::InvalidArgumentError("expires_at: must be in the future");
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
    return absl::Status(s.code(), s.message().substr(std::string("entry.").size()));
  }
  EDGEPASS_ASSIGN_OR_RETURN(uint64_t version, store_->Put(entry));
  // Durable now; also hand it to this replica's validators before answering
  // (bounded: the other replicas get it through the feed anyway).
  live_->RequestReload(ChangeKind::kSessions);
  live_->AwaitEdgeVersion(version, kLocalPropagationWait);
  return entry;
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
