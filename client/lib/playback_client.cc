#include "client/lib/playback_client.h"

#include <chrono>
#include <utility>

#include "absl/time/clock.h"
#include "client/lib/grpc_status.h"
#include "edgepass/v1/playback.grpc.pb.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"

namespace edgepass::client {

class PlaybackClient::Stub {
 public:
  explicit Stub(const ClientOptions& options)
      : stub_(edgepass::v1::PlaybackService::NewStub(grpc::CreateChannel(
            options.address, options.credentials != nullptr
                                 ? options.credentials
                                 : grpc::InsecureChannelCredentials()))) {}
  edgepass::v1::PlaybackService::Stub& get() { return *stub_; }

 private:
  std::unique_ptr<edgepass::v1::PlaybackService::Stub> stub_;
};

namespace {

// The deadline, and the API key when there is one.
void Prepare(grpc::ClientContext& context, const ClientOptions& options) {
  context.set_deadline(absl::ToChronoTime(absl::Now() + options.deadline));
  if (!options.api_key.empty()) {
    context.AddMetadata("authorization", "Bearer " + options.api_key);
  }
}

}  // namespace

PlaybackClient::PlaybackClient(ClientOptions options)
    : options_(std::move(options)), stub_(std::make_unique<Stub>(options_)) {}

PlaybackClient::~PlaybackClient() = default;

absl::StatusOr<edgepass::v1::IssuePlaybackResponse>
PlaybackClient::IssuePlayback(
    const edgepass::v1::IssuePlaybackRequest& request) {
  grpc::ClientContext context;
  Prepare(context, options_);
  edgepass::v1::IssuePlaybackResponse response;
  absl::Status status =
      FromGrpcStatus(stub_->get().IssuePlayback(&context, request, &response));
  if (!status.ok()) return status;
  return response;
}

absl::StatusOr<edgepass::v1::IssueTokenResponse> PlaybackClient::IssueToken(
    const edgepass::v1::IssueTokenRequest& request) {
  grpc::ClientContext context;
  Prepare(context, options_);
  edgepass::v1::IssueTokenResponse response;
  absl::Status status =
      FromGrpcStatus(stub_->get().IssueToken(&context, request, &response));
  if (!status.ok()) return status;
  return response;
}

}  // namespace edgepass::client
