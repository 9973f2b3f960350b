// The CloudFront signed URL / signed cookie check of one edge request, shared
// by the validator sidecar (client/sidecar/cloudfront_auth.h) and the nginx
// module (client/nginx/edgepass_nginx.h) so that both reach the same
// decision, reason and origin request (docs/cloudfront.md).
//
//   CloudFrontCheck c = CheckCloudFrontRequest(
//       {.url_base = "https://cdn.example.com", .uri = "/premium/a.ts?Expires=..",
//        .path = "/premium/a.ts", .cookie_header = cookies, .client_ip = ip},
//       keys, now, /*verify=*/true);
//   if (c.decision.allow) forward(c.origin); else refuse(CloudFrontRefusalName(c));
#ifndef EDGEPASS_CLIENT_VALIDATOR_CLOUDFRONT_CHECK_H_
#define EDGEPASS_CLIENT_VALIDATOR_CLOUDFRONT_CHECK_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "core/cloudfront_verifier.h"

namespace edgepass::client {

// The reason when a request carries no CloudFront query parameter and no
// CloudFront-* cookie at all (answered 401, where other refusals are 403).
inline constexpr absl::string_view kCloudFrontMissingSignature = "missing_signature";

struct CloudFrontEdgeRequest {
  // "https://HOST[:PORT]" without a trailing '/': what resources are signed for.
  absl::string_view url_base;
  // The raw request target as the viewer sent it: path and optional ?query.
  absl::string_view uri;
  // uri's path (before '?'), the origin request when uri does not split.
  absl::string_view path;
  absl::string_view cookie_header;  // the first Cookie header's value, or ""
  absl::string_view client_ip;
};

struct CloudFrontCheck {
  // What the origin is asked for: the path plus the viewer's query without
  // the CloudFront parameters (Expires, Policy, Signature, Key-Pair-Id,
  // Hash-Algorithm), so caches stay shared.
  std::string origin;
  // allow, or the refusal; reason kOk with allow false means no signature.
  core::CloudFrontDecision decision;
};

// Splits the URL url_base + uri into origin and CloudFront parameters and,
// when `verify`, checks the signed URL or signed cookies against `keys` at
// `now` (core::VerifyCloudFrontRequest); a request with neither gets
// {allow = false, reason = kOk}. Without `verify` (mode off) decision is
// left as allow = false, reason = kOk. Thread-safe.
CloudFrontCheck CheckCloudFrontRequest(const CloudFrontEdgeRequest& request,
                                       const core::CloudFrontPublicKeys& keys, absl::Time now,
                                       bool verify);

// "https://HOST[:PORT]" (or http://) with one trailing '/' dropped: the
// scheme and host resources are signed for. INVALID_ARGUMENT
// "cloudfront-url-base: ..." for anything else (a path, query, user info).
absl::StatusOr<std::string> CloudFrontUrlBase(absl::string_view url_base);

// kCloudFrontMissingSignature for reason kOk, else core::CloudFrontReasonName.
absl::string_view CloudFrontRefusalName(core::CloudFrontReason reason);

// True when `path` (raw, without query) is under one of `prefixes`, matched
// as route prefixes are (core::PathPrefixMatches).
bool CloudFrontCovers(const std::vector<std::string>& prefixes, absl::string_view path);

}  // namespace edgepass::client

#endif  // EDGEPASS_CLIENT_VALIDATOR_CLOUDFRONT_CHECK_H_
