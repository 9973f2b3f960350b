// The encodings of CloudFront signed URLs and cookies: CloudFront's URL-safe
// base64 variant, the URL normalization the AWS SDK for JavaScript
// (@aws-sdk/cloudfront-signer, `getSignedUrl`) applies before signing, and the
// split of a request URL into its CloudFront parameters and the URL they sign.
//
//   std::string p = CloudFrontBase64Encode(policy_json);   // '+'->'-' '='->'_' '/'->'~'
//   auto url = NormalizeCloudFrontUrl("https://d1.cloudfront.net/vidéo 1.m3u8");
//   // *url == "https://d1.cloudfront.net/vid%C3%A9o%201.m3u8"
#ifndef EDGEPASS_CORE_CLOUDFRONT_URL_H_
#define EDGEPASS_CORE_CLOUDFRONT_URL_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace edgepass::core {

// CloudFront request URLs are limited to 8192 bytes; a URL to sign or to
// verify is refused above this.
inline constexpr size_t kMaxCloudFrontUrlBytes = 8192;

// Standard padded base64 (RFC 4648 section 4) with '+' -> '-', '=' -> '_' and
// '/' -> '~', as CloudFront's Policy, Signature and cookie values use it.
std::string CloudFrontBase64Encode(absl::string_view bytes);

// Inverse of CloudFrontBase64Encode into `out` (cleared first): only the
// canonical padded form (as AWS documents it and every AWS SDK writes it) is
// accepted; false on a missing or misplaced '_' padding, any character
// outside the alphabet or non-zero trailing bits.
bool CloudFrontBase64Decode(absl::string_view text, std::string* out);

// True for strict UTF-8: no overlong forms, surrogates or code points above
// U+10FFFF.
bool IsStrictUtf8(absl::string_view text);

// Checks a URL to sign: at most kMaxCloudFrontUrlBytes, valid UTF-8, no ASCII
// control characters, scheme http, https, ws or wss followed by "://", a
// non-empty ASCII host[:port] (no user info), then a path starting with '/'.
// INVALID_ARGUMENT "<field>: ..." otherwise.
absl::Status ValidateCloudFrontUrl(absl::string_view url, absl::string_view field = "url");

// The URL exactly as getSignedUrl rewrites it before signing (its
// `encodeUrlPath`): every path segment is percent-decoded and re-encoded as
// JavaScript's encodeURIComponent does (a segment that does not decode to
// valid UTF-8 is encoded as it stands, so its '%' become "%25"); query names
// and values are encoded the same way except that valid %XX escapes are kept
// (hex upper-cased), '+' stays and '\'' becomes "%27"; empty query components
// are dropped and a name without '=' gets one. Fails as ValidateCloudFrontUrl.
absl::StatusOr<std::string> NormalizeCloudFrontUrl(absl::string_view url,
                                                   absl::string_view field = "url");

// A request URL split into the CloudFront parameters it carries and the URL
// they sign. Parameter values are percent-decoded; absent ones are nullopt.
struct CloudFrontUrlParams {
  std::string unsigned_url;  // the URL without the parameters below, in order
  std::optional<std::string> expires;
  std::optional<std::string> policy;
  std::optional<std::string> signature;
  std::optional<std::string> key_pair_id;
  std::optional<std::string> hash_algorithm;
};

// Splits `url` at its first '?': query components named Expires, Policy,
// Signature, Key-Pair-Id or Hash-Algorithm (case-sensitive, as CloudFront
// reads them) are taken out; the others are kept verbatim and in order.
// INVALID_ARGUMENT when one of those names appears twice or the URL holds a
// '#'.
absl::StatusOr<CloudFrontUrlParams> SplitCloudFrontUrl(absl::string_view url);

}  // namespace edgepass::core

#endif  // EDGEPASS_CORE_CLOUDFRONT_URL_H_
