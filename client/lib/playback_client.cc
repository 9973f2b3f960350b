#include "client/lib/playback_client.h"

#include <utility>

#include "client/lib/unary_call_internal.h"
#include "edgepass/v1/playback.grpc.pb.h"

namespace edgepass::client {

class PlaybackClient::Stub {
 public:
  explicit Stub(const ClientOptions& options)
      : stub_(edgepass::v1::PlaybackService::NewStub(internal::MakeChannel(options))) {}
  edgepass::v1::PlaybackService::Stub& get() { return *stub_; }

 private:
  std::unique_ptr<edgepass::v1::PlaybackService::Stub> stub_;
};

PlaybackClient::PlaybackClient(ClientOptions options)
    : options_(std::move(options)), stub_(std::make_unique<Stub>(options_)) {}

PlaybackClient::~PlaybackClient() = default;

absl::StatusOr<edgepass::v1::IssuePlaybackResponse> PlaybackClient::IssuePlayback(
    const edgepass::v1::IssuePlaybackRequest& request) {
  return internal::UnaryCall(options_, stub_->get(), &v1::PlaybackService::Stub::IssuePlayback, request);
}

absl::StatusOr<edgepass::v1::IssueTokenResponse> PlaybackClient::IssueToken(
    const edgepass::v1::IssueTokenRequest& request) {
  return internal::UnaryCall(options_, stub_->get(), &v1::PlaybackService::Stub::IssueToken, request);
}

}  // namespace edgepass::client
