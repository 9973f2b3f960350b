// edgepass.v1.PlaybackService over the replica's in-memory catalog and the
// keyring source: looks an asset up, issues an SMD-compatible token for the
// viewer and returns the playback URL with the token as first path segment.
// Needs no store round trip, so issuing goes on while Redis is down.
//
//   PlaybackServiceImpl service(&live_state, &keyring_source, &random, absl::Now, options);
//   grpc::ServerBuilder builder;
//   builder.RegisterService(&service);
#ifndef EDGEPASS_SERVER_API_PLAYBACK_SERVICE_H_
#define EDGEPASS_SERVER_API_PLAYBACK_SERVICE_H_

#include <functional>

#include "absl/time/time.h"
#include "core/random.h"
#include "core/viewer.h"
#include "edgepass/v1/playback.grpc.pb.h"
#include "server/adapters/cloudfront_key_cache.h"
#include "server/catalog.h"
#include "server/live_state.h"
#include "server/state/keyring_source.h"

namespace edgepass::server {

class ServerMetrics;

inline constexpr size_t kMaxAssetIdBytes = 256;
inline constexpr size_t kMaxIssueUrlBytes = 8192;

struct PlaybackServiceOptions {
  // Lifetime used by IssueToken when the inline policy has no exp.
  absl::Duration default_token_ttl = absl::Hours(1);
  // No token issued here outlives this (catalog policies, inline policies,
  // CloudFront schemes alike): longer ones are INVALID_ARGUMENT naming `exp`.
  absl::Duration max_token_ttl = absl::Hours(24);
  // Counts every issue call (edgepass_tokens_issued_total, with its
  // latency) when set; must outlive the service.
  ServerMetrics* metrics = nullptr;
  // The CloudFront signers of assets of the CloudFront schemes; unset: such
  // assets answer FAILED_PRECONDITION. Must outlive the service.
  CloudFrontKeyCache* cloudfront_keys = nullptr;
};

// Thread-safe: `live`, `keys` and `random` outlive the service; `random` must
// be thread-safe (core::SecureRandom is).
class PlaybackServiceImpl final : public v1::PlaybackService::Service {
 public:
  using Clock = std::function<absl::Time()>;

  PlaybackServiceImpl(LiveState* live, KeyringSource* keys, core::RandomSource* random, Clock clock,
                      PlaybackServiceOptions options);

  // NOT_FOUND "asset_id: unknown asset \"x\""; INVALID_ARGUMENT naming the
  // field for an empty asset_id or a bad viewer, "token_policy.exp: ..." when
  // the token would outlive max_token_ttl; FAILED_PRECONDITION when the
  // keyring has no primary key; UNAVAILABLE when no keyring was ever loaded.
  grpc::Status IssuePlayback(grpc::ServerContext* context, const v1::IssuePlaybackRequest* request,
                             v1::IssuePlaybackResponse* response) override;

  // INVALID_ARGUMENT naming the field ("policy.paths: ...", "viewer.ip: ...",
  // "url: ...", "policy.exp: ..." beyond max_token_ttl).
  grpc::Status IssueToken(grpc::ServerContext* context, const v1::IssueTokenRequest* request,
                          v1::IssueTokenResponse* response) override;

 private:
  // Fills `response` for an asset of a CloudFront scheme.
  absl::Status IssueCloudFront(const Playable& served,
                               const core::ViewerAttributes& viewer,
                               absl::Time now,
                               v1::IssuePlaybackResponse* response);
  // The primary key of the current keyring (kept alive by `holder`).
  absl::StatusOr<const core::SigningKey*> PrimaryKey(std::shared_ptr<const core::Keyring>* holder);

  LiveState* const live_;
  KeyringSource* const keys_;
  core::RandomSource* random_;
  Clock clock_;
  PlaybackServiceOptions options_;
};

}  // namespace edgepass::server

#endif  // EDGEPASS_SERVER_API_PLAYBACK_SERVICE_H_
