// The revocation desk: revoked sessions go into the SessionStore, which
// announces each change on the feed so every replica recompiles the list
// and streams it to its validators. A revoke or restore answers once the
// change is durable and (bounded by a second) in this replica's edge
// snapshot. No transport in here: see server/api/session_rpc.h.
//
//   RevocationDesk desk(&session_store, &live_state, absl::Now, {});
//   absl::StatusOr<core::RevocationEntry> e = desk.Revoke({.session_id = "abc", .reason = "shared"});
#ifndef EDGEPASS_SERVER_APP_REVOCATION_DESK_H_
#define EDGEPASS_SERVER_APP_REVOCATION_DESK_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/revocation_list.h"
#include "server/app/live_state.h"
#include "server/state/session_store.h"

namespace edgepass::server {

struct RevocationRequest {
  std::string session_id;
  core::RevocationType type = core::RevocationType::kManual;
  std::string reason;
  double score = 0;  // AUTO only
  std::map<std::string, double> score_components;
  // None: now + default_revocation_ttl.
  std::optional<absl::Time> expires_at;
};

// What a bulk report stored: for each request, in order, the outcome and
// the entry now on the list (the existing one unless stored by this call).
struct ReportedSessions {
  std::vector<ReportOutcome> outcomes;
  std::vector<core::RevocationEntry> sessions;
  uint64_t version = 0;  // the session store's
};

// List()'s page sizes: the default (page_size 0) and the most one page holds
// (a page of the largest entries stays far below gRPC's 4 MB message limit).
inline constexpr int kDefaultRevokedPageSize = 500;
inline constexpr int kMaxRevokedPageSize = 1000;

// One page of List().
struct RevokedSessions {
  std::vector<core::RevocationEntry> sessions;
  uint64_t version = 0;  // the session store's
  // Where the next page starts (opaque); "" on the last page.
  std::string next_page_token;
};

struct RevocationDeskOptions {
  core::RevocationListOptions revocations;
  // expires_at of a revocation that does not give one: the longest token
  // lifetime, after which the session's token is useless anyway.
  absl::Duration default_revocation_ttl = absl::Hours(24);
};

// Thread-safe; the pointers must outlive it.
class RevocationDesk {
 public:
  using Clock = std::function<absl::Time()>;

  RevocationDesk(SessionStore* store, LiveState* live, Clock clock, RevocationDeskOptions options)
      : store_(store), live_(live), clock_(std::move(clock)), options_(options) {}

  // The stored entry. INVALID_ARGUMENT naming the field ("session_id: ...",
  // "expires_at: must be in the future", ...); UNAVAILABLE from the store.
  // An AUTO request is a report (see Report): the entry returned is the one
  // kept when the session was already on the list.
  absl::StatusOr<core::RevocationEntry> Revoke(const RevocationRequest& request) const;

  // Reports AUTO revocations in bulk (requests of type kAuto; the type is
  // not looked at): all stored or none, one version, and a session already
  // on the list keeps its entry (MANUAL is never demoted, AUTO never
  // repeated) — decided inside the store. INVALID_ARGUMENT naming the
  // request ("sessions[3].score: ...", "sessions: at most 1000 per call")
  // stores nothing.
  absl::StatusOr<ReportedSessions> Report(const std::vector<RevocationRequest>& requests) const;

  // One page of every stored entry sorted by session id, or with `compiled`
  // of what validators get (retention and capacity applied, MANUAL newest
  // first, then AUTO by score, ties by id). At most `page_size` entries
  // (0: kDefaultRevokedPageSize; capped at kMaxRevokedPageSize), starting
  // right after the entry `page_token` names in that order ("" for the first
  // page; else a next_page_token List returned for the same `compiled`). So
  // an entry stored before the first page and after the last is listed
  // exactly once whatever changes in between. INVALID_ARGUMENT
  // "page_size: ..." when negative, "page_token: ..." for a token List did
  // not make or made for the other `compiled`; UNAVAILABLE from the store.
  // A page in id order costs what SessionStore::ListPage costs (Redis: the
  // page); a compiled page reads and ranks the whole list.
  absl::StatusOr<RevokedSessions> List(bool compiled, int page_size, absl::string_view page_token) const;

  // INVALID_ARGUMENT for a malformed id; NOT_FOUND when not revoked.
  absl::Status Restore(absl::string_view session_id) const;

 private:
  // The entry for `request` at `now`, or INVALID_ARGUMENT naming the field
  // after `prefix` ("" or "sessions[3].").
  absl::StatusOr<core::RevocationEntry> MakeEntry(const RevocationRequest& request, absl::Time now,
                                                  absl::string_view prefix) const;

  SessionStore* const store_;
  LiveState* const live_;
  const Clock clock_;
  const RevocationDeskOptions options_;
};

}  // namespace edgepass::server

#endif  // EDGEPASS_SERVER_APP_REVOCATION_DESK_H_
