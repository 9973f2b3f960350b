#include "client/lib/session_client.h"

#include <utility>

#include "absl/time/clock.h"
#include "client/lib/grpc_status.h"
#include "client/lib/unary_call_internal.h"
#include "edgepass/v1/session.grpc.pb.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"

namespace edgepass::client {

class SessionClient::Stub {
 public:
  explicit Stub(const ClientOptions& options)
      : stub_(edgepass::v1::SessionService::NewStub(grpc::CreateChannel(
            options.address,
            options.credentials != nullptr ? options.credentials : grpc::InsecureChannelCredentials()))) {}
  edgepass::v1::SessionService::Stub& get() { return *stub_; }

 private:
  std::unique_ptr<edgepass::v1::SessionService::Stub> stub_;
};

namespace {

void Prepare(grpc::ClientContext& context, const ClientOptions& options) {
  context.set_deadline(absl::ToChronoTime(absl::Now() + options.deadline));
  if (!options.api_key.empty()) context.AddMetadata("authorization", "Bearer " + options.api_key);
}

}  // namespace

SessionClient::SessionClient(ClientOptions options)
    : options_(std::move(options)), stub_(std::make_unique<Stub>(options_)) {}

SessionClient::~SessionClient() = default;

absl::StatusOr<edgepass::v1::RevokedSession> SessionClient::ReportSession(
    const edgepass::v1::ReportSessionRequest& request) {
  grpc::ClientContext context;
  Prepare(context, options_);
  edgepass::v1::RevokedSession response;
  absl::Status status = FromGrpcStatus(stub_->get().ReportSession(&context, request, &response));
  if (!status.ok()) return status;
  return response;
}

absl::StatusOr<edgepass::v1::ReportSessionsResponse> SessionClient::ReportSessions(
    const edgepass::v1::ReportSessionsRequest& request) {
  grpc::ClientContext context;
  Prepare(context, options_);
  edgepass::v1::ReportSessionsResponse response;
  absl::Status status = FromGrpcStatus(stub_->get().ReportSessions(&context, request, &response));
  if (!status.ok()) return status;
  return response;
}

absl::StatusOr<edgepass::v1::ListRevokedSessionsResponse> SessionClient::ListRevokedSessions(
    const edgepass::v1::ListRevokedSessionsRequest& request) {
  grpc::ClientContext context;
  Prepare(context, options_);
  edgepass::v1::ListRevokedSessionsResponse response;
  absl::Status status = FromGrpcStatus(stub_->get().ListRevokedSessions(&context, request, &response));
  if (!status.ok()) return status;
  return response;
}

}  // namespace edgepass::client

namespace edgepass::client {

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
