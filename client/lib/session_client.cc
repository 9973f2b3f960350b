#include "client/lib/session_client.h"

#include <utility>

#include "client/lib/unary_call_internal.h"
#include "edgepass/v1/session.grpc.pb.h"

namespace edgepass::client {

class SessionClient::Stub {
 public:
  explicit Stub(const ClientOptions& options)
      : stub_(edgepass::v1::SessionService::NewStub(internal::MakeChannel(options))) {}
  edgepass::v1::SessionService::Stub& get() { return *stub_; }

 private:
  std::unique_ptr<edgepass::v1::SessionService::Stub> stub_;
};

SessionClient::SessionClient(ClientOptions options)
    : options_(std::move(options)), stub_(std::make_unique<Stub>(options_)) {}

SessionClient::~SessionClient() = default;

absl::StatusOr<edgepass::v1::RevokedSession> SessionClient::ReportSession(
    const edgepass::v1::ReportSessionRequest& request) {
  return internal::UnaryCall(options_, stub_->get(), &v1::SessionService::Stub::ReportSession, request);
}

absl::StatusOr<edgepass::v1::ReportSessionsResponse> SessionClient::ReportSessions(
    const edgepass::v1::ReportSessionsRequest& request) {
  return internal::UnaryCall(options_, stub_->get(), &v1::SessionService::Stub::ReportSessions, request);
}

absl::StatusOr<edgepass::v1::ListRevokedSessionsResponse> SessionClient::ListRevokedSessions(
    const edgepass::v1::ListRevokedSessionsRequest& request) {
  return internal::UnaryCall(options_, stub_->get(), &v1::SessionService::Stub::ListRevokedSessions, request);
}

absl::StatusOr<edgepass::v1::RevokedSession> SessionClient::RevokeSession(
    const edgepass::v1::RevokeSessionRequest& request) {
  return internal::UnaryCall(options_, stub_->get(), &v1::SessionService::Stub::RevokeSession, request);
}

absl::Status SessionClient::RestoreSession(const std::string& session_id) {
  v1::RestoreSessionRequest request;
  request.set_session_id(session_id);
  return internal::UnaryCall(options_, stub_->get(), &v1::SessionService::Stub::RestoreSession, request).status();
}

}  // namespace edgepass::client
