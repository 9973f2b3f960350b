// The playback issuer: resolves an asset for a viewer's entitlement, picks
// its scheme and key, and signs the playback URL (an SMD token as the first
// path segment, or a CloudFront signed URL or cookies). Also mints tokens for
// an inline policy. No transport in here: gRPC and REST call it through
// server/api/playback_rpc.h. Needs no store round trip, so issuing goes on
// while Redis is down.
//
//   PlaybackIssuer issuer(&live_state, &keyring_source, &random, absl::Now, {});
//   absl::StatusOr<IssuedPlayback> p = issuer.IssuePlayback({.asset_id = "1", .viewer = viewer});
#ifndef EDGEPASS_SERVER_APP_PLAYBACK_ISSUER_H_
#define EDGEPASS_SERVER_APP_PLAYBACK_ISSUER_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/random.h"
#include "core/token_policy.h"
#include "core/viewer.h"
#include "server/app/cloudfront_key_cache.h"
#include "server/state/catalog.h"
#include "server/state/keyring_source.h"

namespace edgepass::server {

class ServerMetrics;

inline constexpr size_t kMaxIssueUrlBytes = 8192;

struct PlaybackRequest {
  std::string asset_id;
  // Chooses the asset's variant ("" = none; see Catalog::Resolve).
  std::string entitlement;
  core::ViewerAttributes viewer;
};

struct IssuedCookie {
  std::string name;
  std::string value;
  std::string set_cookie;  // the whole Set-Cookie header value
};

struct IssuedPlayback {
  std::string playback_url;
  std::string token;       // smd-token scheme only
  std::string session_id;  // smd-token scheme only
  absl::Time expires_at;
  std::string scheme;
  const core::TokenPolicy* policy = nullptr;  // the policy the token carries, in `catalog`
  std::shared_ptr<const Catalog> catalog;     // keeps `policy` alive
  std::string asset_id;      // the asset served (a fallback, maybe)
  std::string variant;       // "" = the default variant
  std::vector<IssuedCookie> cookies;  // cloudfront-cookie scheme only
};

struct TokenRequest {
  core::TokenPolicy policy;
  core::ViewerAttributes viewer;
  // Optional: the URL to put the token into (its query feeds `qs` bindings).
  std::string url;
};

struct IssuedToken {
  std::string url;  // "" when the request had none
  std::string token;
  std::string session_id;
  absl::Time expires_at;
};

struct PlaybackIssuerOptions {
  // No token issued here outlives this (catalog policies, inline policies,
  // CloudFront schemes alike): longer ones are INVALID_ARGUMENT naming `exp`.
  absl::Duration max_token_ttl = absl::Hours(24);
  // Counts every issue call (edgepass_tokens_issued_total, with its
  // latency) when set; must outlive the issuer.
  ServerMetrics* metrics = nullptr;
  // The CloudFront signers of assets of the CloudFront schemes; unset: such
  // assets answer FAILED_PRECONDITION. Must outlive the issuer.
  CloudFrontKeyCache* cloudfront_keys = nullptr;
};

// Thread-safe: `catalog`, `keys` and `random` outlive the issuer; `random`
// must be thread-safe (core::SecureRandom is).
class PlaybackIssuer {
 public:
  using Clock = std::function<absl::Time()>;
  using CatalogView = std::function<std::shared_ptr<const Catalog>()>;

  PlaybackIssuer(CatalogView catalog, KeyringSource* keys, core::RandomSource* random, Clock clock,
                 PlaybackIssuerOptions options);

  // NOT_FOUND "asset_id: unknown asset \"x\""; INVALID_ARGUMENT naming the
  // field for an empty or overlong asset_id or entitlement, or a viewer the
  // policy cannot bind; "token_policy.exp: ..." when the token would outlive
  // max_token_ttl; FAILED_PRECONDITION when the keyring has no primary key;
  // UNAVAILABLE when no keyring was ever loaded.
  absl::StatusOr<IssuedPlayback> IssuePlayback(const PlaybackRequest& request) const;

  // INVALID_ARGUMENT naming the field ("url: ...", "policy.exp: ..." beyond
  // max_token_ttl). The policy is validated by the caller's conversion.
  absl::StatusOr<IssuedToken> IssueToken(const TokenRequest& request) const;

 private:
  absl::Status IssueCloudFront(const Playable& served, const core::ViewerAttributes& viewer,
                               absl::Time now, IssuedPlayback* out) const;
  // The asset asked for and its scheme, as metric labels.
  struct MetricLabels {
    std::string asset;
    std::string scheme;
  };
  absl::StatusOr<IssuedPlayback> Issue(const PlaybackRequest& request, MetricLabels* labels) const;

  CatalogView catalog_;
  KeyringSource* const keys_;
  core::RandomSource* const random_;
  const Clock clock_;
  const PlaybackIssuerOptions options_;
};

}  // namespace edgepass::server

#endif  // EDGEPASS_SERVER_APP_PLAYBACK_ISSUER_H_
