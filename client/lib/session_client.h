// C++ client for edgepass's SessionService (revoked sessions): what
// `edgepass analyze --report` uses to list the revocation list and report
// suspicious sessions as AUTO revocations, and `edgepass session ...` to
// revoke and restore. Errors come back as absl::Status
// with the gRPC code and message.
//
//   edgepass::client::SessionClient sessions({.address = "localhost:50051", .api_key = key});
//   auto listed = sessions.ListRevokedSessions(request);
//   auto entry = sessions.ReportSession(report);
//   auto many = sessions.ReportSessions(bulk);   // all stored or none
#ifndef EDGEPASS_CLIENT_LIB_SESSION_CLIENT_H_
#define EDGEPASS_CLIENT_LIB_SESSION_CLIENT_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "client/lib/playback_client.h"
#include "edgepass/v1/session.pb.h"

namespace edgepass::client {

// One channel to the service; thread-safe. The API key needs scope "revoke"
// for every call.
class SessionClient {
 public:
  explicit SessionClient(ClientOptions options);
  ~SessionClient();
  SessionClient(const SessionClient&) = delete;
  SessionClient& operator=(const SessionClient&) = delete;

  // The stored entry. INVALID_ARGUMENT naming the field for a bad session
  // id, reason, components or expiry; UNAVAILABLE when nothing was stored.
  absl::StatusOr<edgepass::v1::RevokedSession> ReportSession(const edgepass::v1::ReportSessionRequest& request);
  // Many at once, stored atomically (all or none); see SessionService.ReportSessions.
  absl::StatusOr<edgepass::v1::ReportSessionsResponse> ReportSessions(
      const edgepass::v1::ReportSessionsRequest& request);
  absl::StatusOr<edgepass::v1::ListRevokedSessionsResponse> ListRevokedSessions(
      const edgepass::v1::ListRevokedSessionsRequest& request);
  // A MANUAL revocation; same guarantees and errors as ReportSession.
  absl::StatusOr<edgepass::v1::RevokedSession> RevokeSession(const edgepass::v1::RevokeSessionRequest& request);
  // NOT_FOUND when the session is not on the list.
  absl::Status RestoreSession(const std::string& session_id);

 private:
  class Stub;
  ClientOptions options_;
  std::unique_ptr<Stub> stub_;
};

}  // namespace edgepass::client

#endif  // EDGEPASS_CLIENT_LIB_SESSION_CLIENT_H_
