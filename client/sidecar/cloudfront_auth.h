// The sidecar's check of CloudFront signed URLs and signed cookies, for
// routes an edge that is not CloudFront serves with CloudFront-style
// signatures (the issuer's cloudfront-url / cloudfront-cookie schemes).
// Requests under a CloudFront prefix are verified with the trusted public
// keys (core/cloudfront_verifier.h) instead of as edgepass tokens.
//
//   auto cf = CloudFrontAuth::Create(*std::move(keys), "https://cdn.example.com",
//                                    {"/premium/"});
//   if (cf->Covers(sub.path())) return cf->Handle(sub, request, mode, now, &stats, log);
//
// The resource URL checked is the base URL + X-Original-URI (path and query as
// the viewer sent them): nginx only passes the path, and the base is
// configured rather than taken from the Host header so that a viewer cannot
// pick the host a signature is checked against.
//
// Responses (same headers as the token path, auth_mapping.h):
//   allowed       200, X-Edgepass-Path: path plus the query without the
//                 CloudFront parameters (Expires, Policy, Signature,
//                 Key-Pair-Id, Hash-Algorithm), so caches stay shared
//   no signature  401, X-Edgepass-Reason: missing_signature (no CloudFront
//                 query parameter and no CloudFront-* cookie)
//   refused       403, X-Edgepass-Reason: core::CloudFrontReasonName()
//   log-only      200 as allowed, X-Edgepass-Would-Deny: the reason
//   off           200 as allowed, nothing checked
#ifndef EDGEPASS_CLIENT_SIDECAR_CLOUDFRONT_AUTH_H_
#define EDGEPASS_CLIENT_SIDECAR_CLOUDFRONT_AUTH_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "client/sidecar/auth_mapping.h"
#include "client/sidecar/route_modes.h"
#include "client/sidecar/sidecar_options.h"
#include "client/sidecar/sidecar_stats.h"
#include "core/cloudfront_verifier.h"
#include "http/http_message.h"

namespace edgepass::sidecar {

// Immutable, thread-safe after construction.
class CloudFrontAuth {
 public:
  // `keys`: at least one trusted key. `url_base`: "https://HOST[:PORT]" (or
  // http://), the scheme and host the resources are signed for; one trailing
  // '/' is dropped. `prefixes`: origin path prefixes checked as CloudFront, as
  // RouteModes prefixes (one ending in '/' is a plain prefix). INVALID_ARGUMENT
  // "cloudfront-url-base: ...", "cloudfront-route: ..." or
  // "cloudfront-public-keys: no keys".
  static absl::StatusOr<CloudFrontAuth> Create(
      core::CloudFrontPublicKeys keys, absl::string_view url_base,
      std::vector<std::string> prefixes);

  // True when `path` (raw, without query) is under one of the prefixes.
  bool Covers(absl::string_view path) const;

  // The auth check for a request Covers() accepted, under `mode`; counts the
  // decision in `stats` and, in log-only mode, logs a would_deny event to
  // `log` (may be empty). Never logs a signature or a policy.
  http::Response Handle(const AuthSubrequest& sub,
                        const http::Request& request, EnforcementMode mode,
                        absl::Time now, SidecarStats* stats,
                        const std::function<void(absl::string_view)>& log)
      const;

  const std::string& url_base() const { return url_base_; }
  const std::vector<std::string>& prefixes() const { return prefixes_; }

 private:
  CloudFrontAuth() = default;

  core::CloudFrontPublicKeys keys_;
  std::string url_base_;
  std::vector<std::string> prefixes_;
};

// The CloudFrontAuth the options ask for, its keys read from
// --cloudfront-public-keys; nullptr when no CloudFront route is configured.
// Errors name the flag at fault: "--cloudfront-public-keys: FILE: key 'ID':
// ...", "--cloudfront-url-base: ...", "--cloudfront-route: ...".
absl::StatusOr<std::unique_ptr<CloudFrontAuth>> CloudFrontAuthFromOptions(
    const SidecarOptions& options);

}  // namespace edgepass::sidecar

#endif  // EDGEPASS_CLIENT_SIDECAR_CLOUDFRONT_AUTH_H_
