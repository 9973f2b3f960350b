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
#include "client/validator/cloudfront_keys_json.h"
#include "core/cloudfront_verifier.h"

namespace edgepass::sidecar {

// The parser and its size limit live in the validator library, shared with
// the nginx module (client/validator/cloudfront_keys_json.h).
using client::kMaxCloudFrontKeysFileBytes;
using client::ParseCloudFrontPublicKeysJson;

// Reads `path` (at most kMaxCloudFrontKeysFileBytes) and parses it; errors
// start with the path (ReadFileUpTo codes for the read, INVALID_ARGUMENT for
// the content).
absl::StatusOr<core::CloudFrontPublicKeys> LoadCloudFrontPublicKeysFile(
    const std::string& path);

}  // namespace edgepass::sidecar

#endif  // EDGEPASS_CLIENT_SIDECAR_CLOUDFRONT_KEYS_FILE_H_
