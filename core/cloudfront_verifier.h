// Verification of CloudFront signed URLs and signed cookies with the PUBLIC
// keys, for edges that are not CloudFront: the request URL (and Cookie
// header), the trusted keys by key pair id and the time give allow, or deny
// with the first reason from a closed set.
//
//   CloudFrontPublicKeys keys;
//   EDGEPASS_RETURN_IF_ERROR(keys.Add("K2JCJMDEHXQW5F", public_key_pem));
//   CloudFrontDecision d = VerifyCloudFrontRequest({.url = url, .client_ip = ip}, keys, now);
#ifndef EDGEPASS_CORE_CLOUDFRONT_VERIFIER_H_
#define EDGEPASS_CORE_CLOUDFRONT_VERIFIER_H_

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "core/cloudfront_rsa_key.h"

namespace edgepass::core {

// Closed set of outcomes; CloudFrontReasonName() gives stable strings for
// metric labels, logs and response headers.
enum class CloudFrontReason {
  kOk,
  kMalformed,         // parameters or cookies missing, repeated, unparseable; bad policy
  kUnknownKeyPairId,  // Key-Pair-Id not among the trusted keys
  kBadSignature,      // signature does not verify (for a canned policy this
                      // includes a changed URL or Expires)
  kExpired,           // now >= DateLessThan
  kNotYetValid,       // now < DateGreaterThan
  kIpOutsideRange,    // viewer IP not in IpAddress (or not IPv4, or missing)
  kResourceMismatch,  // request URL does not match the custom policy's Resource
  kUnsafePath,        // the URL's path is not core::IsSafePath
};
inline constexpr size_t kCloudFrontReasonCount =
    static_cast<size_t>(CloudFrontReason::kUnsafePath) + 1;

absl::string_view CloudFrontReasonName(CloudFrontReason reason);

// The trusted public keys, by CloudFront key pair id (a key group).
// Thread-compatible: fill it once, then share it const.
class CloudFrontPublicKeys {
 public:
  // Adds the PEM SubjectPublicKeyInfo RSA key for `key_pair_id`.
  // INVALID_ARGUMENT "key_pair_id: ..." for an invalid or repeated id,
  // "public_key: ..." (see CloudFrontRsaKey::FromPublicKeyPem).
  absl::Status Add(absl::string_view key_pair_id, absl::string_view public_key_pem);
  // Adds an already parsed key (e.g. a signer's own key).
  absl::Status Add(absl::string_view key_pair_id, CloudFrontRsaKey key);

  // The key, or nullptr.
  const CloudFrontRsaKey* Find(absl::string_view key_pair_id) const;
  size_t size() const { return keys_.size(); }

 private:
  absl::flat_hash_map<std::string, CloudFrontRsaKey> keys_;
};

struct CloudFrontRequest {
  // The absolute URL as the viewer requested it: "https://" + Host +
  // request-target (path and query, still percent-encoded). At most
  // kMaxCloudFrontUrlBytes.
  absl::string_view url;
  // The Cookie header value; "" when there is none. At most kMaxCookieHeaderBytes.
  absl::string_view cookie_header;
  // The viewer's address; checked only when the policy has IpAddress.
  absl::string_view client_ip;
};

struct CloudFrontDecision {
  bool allow = false;
  CloudFrontReason reason = CloudFrontReason::kMalformed;
};

// Checks a signed URL (Expires or Policy, Signature, Key-Pair-Id in the
// query), in this order: parameters well-formed -> path safe (IsSafePath: a
// wildcard Resource must not open "/video/1/..;/2/") -> key known -> signature
// over the policy (canned: rebuilt from the URL without the CloudFront
// parameters and Expires) -> custom policy parses -> expiry -> start -> IP ->
// custom policy Resource matches the URL without the CloudFront parameters
// (wildcards as CloudFront: '*' any run, '?' one character). Only
// Hash-Algorithm=SHA1 (or none) is accepted. Thread-safe; the signature check
// is the only costly step and runs on public data.
CloudFrontDecision VerifyCloudFrontSignedUrl(const CloudFrontRequest& request,
                                             const CloudFrontPublicKeys& keys, absl::Time now);

// The same checks for signed cookies (CloudFront-Policy or CloudFront-Expires,
// CloudFront-Signature, CloudFront-Key-Pair-Id in `cookie_header`), matched
// against the request URL.
CloudFrontDecision VerifyCloudFrontSignedCookies(const CloudFrontRequest& request,
                                                 const CloudFrontPublicKeys& keys, absl::Time now);

// As CloudFront does when both are present: the signed URL when the query has
// a Signature parameter, the signed cookies otherwise.
CloudFrontDecision VerifyCloudFrontRequest(const CloudFrontRequest& request,
                                           const CloudFrontPublicKeys& keys, absl::Time now);

}  // namespace edgepass::core

#endif  // EDGEPASS_CORE_CLOUDFRONT_VERIFIER_H_
