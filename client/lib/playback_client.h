// C++ client SDK for edgepass's PlaybackService: playback backends call it to
// get a viewer's playback URL (IssuePlayback) or a token for an inline policy
// (IssueToken). Errors come back as absl::Status with the gRPC code and
// message.
//
//   edgepass::client::PlaybackClient client({.address = "localhost:50051"});
//   auto resp = client.IssuePlayback(request);  //
//   absl::StatusOr<IssuePlaybackResponse> if (resp.ok())
//   Redirect(resp->playback_url()); else Log(resp.status());
//
// Installed as <edgepass/client/lib/playback_client.h>, found as
// "client/lib/playback_client.h" through the edgepass::client target. This
// header pulls in the generated messages only, not gRPC.
#ifndef EDGEPASS_CLIENT_LIB_PLAYBACK_CLIENT_H_
#define EDGEPASS_CLIENT_LIB_PLAYBACK_CLIENT_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "edgepass/v1/playback.pb.h"

namespace grpc {
class ChannelCredentials;
}  // namespace grpc

namespace edgepass::client {

inline constexpr absl::Duration kDefaultCallDeadline = absl::Seconds(5);

struct ClientOptions {
  // gRPC target, e.g. "localhost:50051" or "dns:///edgepass.svc:50051".
  std::string address;
  // Deadline of each call, counted from when it starts.
  absl::Duration deadline = kDefaultCallDeadline;
  // Transport security, e.g. grpc::SslCredentials(...); null: plaintext.
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  // API key sent as "authorization: Bearer <key>" on each call (a service
  // with an access file requires it, scope "issue"); empty: none. A secret:
  // keep it out of logs.
  std::string api_key;
};

// One channel to the service. The channel connects lazily and reconnects on
// its own. Thread-safe: share one client across threads.
class PlaybackClient {
 public:
  explicit PlaybackClient(ClientOptions options);
  ~PlaybackClient();
  PlaybackClient(const PlaybackClient&) = delete;
  PlaybackClient& operator=(const PlaybackClient&) = delete;

  // The asset's playback URL with a token bound to the viewer. NOT_FOUND for
  // an unknown asset, INVALID_ARGUMENT (field named) for a malformed viewer,
  // UNAVAILABLE / DEADLINE_EXCEEDED when the service cannot be reached in time,
  // UNAUTHENTICATED / PERMISSION_DENIED when it does not admit the caller.
  absl::StatusOr<edgepass::v1::IssuePlaybackResponse> IssuePlayback(
      const edgepass::v1::IssuePlaybackRequest& request);

  // A token for an inline policy, inserted into `request.url()` when given.
  // INVALID_ARGUMENT naming the field for a bad policy, viewer or URL.
  absl::StatusOr<edgepass::v1::IssueTokenResponse> IssueToken(
      const edgepass::v1::IssueTokenRequest& request);

  const ClientOptions& options() const { return options_; }

 private:
  class Stub;
  ClientOptions options_;
  std::unique_ptr<Stub> stub_;
};

}  // namespace edgepass::client

#endif  // EDGEPASS_CLIENT_LIB_PLAYBACK_CLIENT_H_
