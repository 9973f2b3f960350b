// CloudFront signed URLs and signed cookies (canned and custom policy,
// RSA-SHA1), byte-identical to the AWS SDK for JavaScript's
// @aws-sdk/cloudfront-signer (getSignedUrl, getSignedCookies) for the same
// key, URL, policy and time. tests/cloudfront/ checks that against the SDK.
//
//   auto signer = CloudFrontSigner::Create("K2JCJMDEHXQW5F", private_key_pem);
//   auto url = signer->SignUrl("https://d1.cloudfront.net/v/1.m3u8",
//                              {.expires = now + absl::Hours(1)}, now);
#ifndef EDGEPASS_CORE_CLOUDFRONT_SIGNER_H_
#define EDGEPASS_CORE_CLOUDFRONT_SIGNER_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "core/cloudfront_cookie.h"
#include "core/cloudfront_policy.h"
#include "core/cloudfront_rsa_key.h"

namespace edgepass::core {

inline constexpr size_t kMaxCloudFrontKeyPairIdLength = 128;

// True for 1 to kMaxCloudFrontKeyPairIdLength ASCII letters and digits (what
// CloudFront issues: "K2JCJMDEHXQW5F", legacy "APKA..."), so ids need no
// encoding in URLs or cookies.
bool IsValidCloudFrontKeyPairId(absl::string_view id);

// Immutable; thread-safe; cheap to copy (the key is shared).
class CloudFrontSigner {
 public:
  // `key_pair_id`: the CloudFront public key id (INVALID_ARGUMENT
  // "key_pair_id: ..." unless IsValidCloudFrontKeyPairId). `private_key_pem`:
  // see CloudFrontRsaKey::FromPrivateKeyPem ("private_key: ..." errors).
  static absl::StatusOr<CloudFrontSigner> Create(absl::string_view key_pair_id,
                                                 absl::string_view private_key_pem);

  const std::string& key_pair_id() const { return key_pair_id_; }
  // The public key in PEM, to register in CloudFront or with a verifier.
  std::string PublicKeyPem() const { return key_.PublicKeyPem(); }

  // getSignedUrl({url, dateLessThan, dateGreaterThan, ipAddress}): the policy
  // resource is NormalizeCloudFrontUrl(url) (existing query included); the
  // URL carries "Expires=N&Key-Pair-Id=K&Signature=S" (canned) when
  // `conditions` has neither not_before nor ip_range, else
  // "Policy=P&Key-Pair-Id=K&Signature=S" (custom), after '?' or, when the URL
  // already has a query, '&'. INVALID_ARGUMENT "url: ..." or "policy.<field>:
  // ..." (ValidateCloudFrontConditions at `now`).
  absl::StatusOr<std::string> SignUrl(absl::string_view url, const CloudFrontConditions& conditions,
                                      absl::Time now) const;

  // getSignedUrl({url, policy}): always a custom policy, whose resource may
  // hold wildcards. INVALID_ARGUMENT as ValidateCloudFrontPolicy, or
  // "url: does not match policy.resource" (the SDK does not check this; a URL
  // its own policy refuses is a bug at the caller).
  absl::StatusOr<std::string> SignUrlWithPolicy(absl::string_view url,
                                                const CloudFrontPolicy& policy,
                                                absl::Time now) const;

  // getSignedCookies({url, dateLessThan, dateGreaterThan, ipAddress}). As the
  // SDK does, the resource is `url` exactly as given (not normalized): pass
  // it percent-encoded. Cookies in the SDK's order: CloudFront-Key-Pair-Id,
  // CloudFront-Signature, then CloudFront-Expires (canned) or
  // CloudFront-Policy (custom). Errors as SignUrl.
  absl::StatusOr<std::vector<CloudFrontCookie>> SignCookies(absl::string_view url,
                                                            const CloudFrontConditions& conditions,
                                                            absl::Time now) const;

  // getSignedCookies({policy}): always a custom policy (typically a wildcard
  // such as "https://d1.cloudfront.net/video/1/*"). Errors as
  // ValidateCloudFrontPolicy.
  absl::StatusOr<std::vector<CloudFrontCookie>> SignCookiesWithPolicy(
      const CloudFrontPolicy& policy, absl::Time now) const;

 private:
  struct Signed {
    std::string expires;  // canned only
    std::string policy;   // custom only (CloudFront base64)
    std::string signature;
  };

  CloudFrontSigner(std::string key_pair_id, CloudFrontRsaKey key)
      : key_pair_id_(std::move(key_pair_id)), key_(std::move(key)) {}

  absl::StatusOr<Signed> Sign(const CloudFrontPolicy& policy, bool canned) const;
  std::string AppendParams(absl::string_view base_url, const Signed& s) const;
  std::vector<CloudFrontCookie> Cookies(const Signed& s) const;

  std::string key_pair_id_;
  CloudFrontRsaKey key_;
};

}  // namespace edgepass::core

#endif  // EDGEPASS_CORE_CLOUDFRONT_SIGNER_H_
