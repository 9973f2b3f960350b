// The CloudFront public keys an edge trusts, as JSON mapping each key pair id
// (the id CloudFront shows for a public key) to its PEM SubjectPublicKeyInfo,
// as `openssl rsa -pubout` writes it. The sidecar (--cloudfront-public-keys)
// and the nginx module (edgepass_cloudfront_public_keys) read the same file
// through this one parser.
//
//   {"K2JCJMDEHXQW5F": "-----BEGIN PUBLIC KEY-----\nMIIB...\n-----END PUBLIC KEY-----\n"}
//
//   absl::StatusOr<core::CloudFrontPublicKeys> keys = ParseCloudFrontPublicKeysJson(text);
#ifndef EDGEPASS_CLIENT_VALIDATOR_CLOUDFRONT_KEYS_JSON_H_
#define EDGEPASS_CLIENT_VALIDATOR_CLOUDFRONT_KEYS_JSON_H_

#include <cstddef>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/cloudfront_verifier.h"

namespace edgepass::client {

// Larger key files are refused (a 4096-bit public key is under 1 KiB).
inline constexpr size_t kMaxCloudFrontKeysFileBytes = 1 << 20;

// Parses the JSON object above. INVALID_ARGUMENT "not a JSON object ...",
// "no keys" for an empty object, or "key 'ID': ..." naming the key pair id at
// fault (an id CloudFront would not issue, a value that is not a string, a
// PEM that is not an RSA public key of 2048 to 4096 bits). Messages never
// hold key material.
absl::StatusOr<core::CloudFrontPublicKeys> ParseCloudFrontPublicKeysJson(
    absl::string_view json);

}  // namespace edgepass::client

#endif  // EDGEPASS_CLIENT_VALIDATOR_CLOUDFRONT_KEYS_JSON_H_
