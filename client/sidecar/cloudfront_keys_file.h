// The CloudFront public keys the sidecar trusts, from a JSON file mapping
// each key pair id (the id CloudFront shows for a public key) to its PEM
// SubjectPublicKeyInfo, as `openssl rsa -pubout` writes it:
//
//   {"K2JCJMDEHXQW5F": "-----BEGIN PUBLIC KEY-----\nMIIB...\n-----END PUBLIC KEY-----\n"}
//
//   absl::StatusOr<core::CloudFrontPublicKeys> keys =
//       LoadCloudFrontPublicKeysFile("/etc/edgepass/cloudfront-keys.json");
#ifndef EDGEPASS_CLIENT_SIDECAR_CLOUDFRONT_KEYS_FILE_H_
#define EDGEPASS_CLIENT_SIDECAR_CLOUDFRONT_KEYS_FILE_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/cloudfront_verifier.h"

namespace edgepass::sidecar {

// Larger key files are refused (a 4096-bit public key is under 1 KiB).
inline constexpr size_t kMaxCloudFrontKeysFileBytes = 1 << 20;

// Parses the JSON object above. INVALID_ARGUMENT "not a JSON object ...",
// "no keys" for an empty object, or "key 'ID': ..." naming the key pair id at
// fault (an id CloudFront would not issue, a value that is not a string, a
// PEM that is not an RSA public key of 2048 to 4096 bits). Messages never
// hold key material.
absl::StatusOr<core::CloudFrontPublicKeys> ParseCloudFrontPublicKeysJson(
    absl::string_view json);

// Reads `path` (at most kMaxCloudFrontKeysFileBytes) and parses it; errors
// start with the path (ReadFileUpTo codes for the read, INVALID_ARGUMENT for
// the content).
absl::StatusOr<core::CloudFrontPublicKeys> LoadCloudFrontPublicKeysFile(
    const std::string& path);

}  // namespace edgepass::sidecar

#endif  // EDGEPASS_CLIENT_SIDECAR_CLOUDFRONT_KEYS_FILE_H_
