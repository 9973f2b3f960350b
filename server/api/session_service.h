// edgepass.v1.SessionService: revoked sessions, stored in the SessionStore,
// which announces each change on the feed so every replica recompiles the
// list and streams it to its validators.
//
//   SessionServiceImpl sessions(&session_store, &live_state, absl::Now, {});
//   builder.RegisterService(&sessions);
#ifndef EDGEPASS_SERVER_API_SESSION_SERVICE_H_
#define EDGEPASS_SERVER_API_SESSION_SERVICE_H_

#include <functional>

#include "absl/time/time.h"
#include "core/revocation_list.h"
#include "edgepass/v1/session.grpc.pb.h"
#include "server/live_state.h"
#include "server/state/session_store.h"

namespace edgepass::server {

struct SessionServiceOptions {
  core::RevocationListOptions revocations;
  // expires_at of a revocation that does not give one: the longest token
  // lifetime, after which the session's token is useless anyway.
  absl::Duration default_revocation_ttl = absl::Hours(24);
};

// Thread-safe; the pointers must outlive it.
class SessionServiceImpl final : public v1::SessionService::Service {
 public:
  using Clock = std::function<absl::Time()>;

  SessionServiceImpl(SessionStore* store, LiveState* live, Clock clock, SessionServiceOptions options)
      : store_(store), live_(live), clock_(std::move(clock)), options_(options) {}

  grpc::Status RevokeSession(grpc::ServerContext* context, const v1::RevokeSessionRequest* request,
                             v1::RevokedSession* response) override;
  grpc::Status ReportSession(grpc::ServerContext* context, const v1::ReportSessionRequest* request,
                             v1::RevokedSession* response) override;
  grpc::Status ListRevokedSessions(grpc::ServerContext* context,
                                   const v1::ListRevokedSessionsRequest* request,
                                   v1::ListRevokedSessionsResponse* response) override;
  grpc::Status RestoreSession(grpc::ServerContext* context, const v1::RestoreSessionRequest* request,
                              google::protobuf::Empty* response) override;

 private:
  // Validates and stores `entry` (the store tells the fleet), fills `response`.
  absl::Status Store(const core::RevocationEntry& entry, v1::RevokedSession* response);

  SessionStore* const store_;
  LiveState* const live_;
  const Clock clock_;
  const SessionServiceOptions options_;
};

}  // namespace edgepass::server

#endif  // EDGEPASS_SERVER_API_SESSION_SERVICE_H_
