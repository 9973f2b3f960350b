// An RSA key for CloudFront signatures (RSA-SHA1, PKCS#1 v1.5), parsed from
// PEM text and held behind an opaque handle so no OpenSSL type leaks out of
// core. Copies share the key; it never leaves the object except as the public
// half.
//
//   absl::StatusOr<CloudFrontRsaKey> key = CloudFrontRsaKey::FromPrivateKeyPem(pem);
//   absl::StatusOr<std::string> sig = key->SignSha1(policy_json);   // raw bytes
//   bool ok = key->VerifySha1(policy_json, *sig);
#ifndef EDGEPASS_CORE_CLOUDFRONT_RSA_KEY_H_
#define EDGEPASS_CORE_CLOUDFRONT_RSA_KEY_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace edgepass::core {

inline constexpr size_t kMaxPemBytes = 16 * 1024;
inline constexpr int kMinCloudFrontRsaBits = 2048;
inline constexpr int kMaxCloudFrontRsaBits = 4096;

class CloudFrontRsaKey {
 public:
  // Parses an unencrypted RSA private key in PEM: PKCS#8 ("BEGIN PRIVATE KEY",
  // what `openssl genrsa` writes) or PKCS#1 ("BEGIN RSA PRIVATE KEY"), of
  // kMinCloudFrontRsaBits to kMaxCloudFrontRsaBits bits. INVALID_ARGUMENT
  // "private_key: ..." when it is empty, too large, not PEM, encrypted, not an
  // RSA key (an EC key, say) or of another size. The message never holds key
  // material.
  static absl::StatusOr<CloudFrontRsaKey> FromPrivateKeyPem(absl::string_view pem);

  // Parses an RSA public key in PEM SubjectPublicKeyInfo form ("BEGIN PUBLIC
  // KEY", the form CloudFront takes), same sizes. INVALID_ARGUMENT
  // "public_key: ..." otherwise.
  static absl::StatusOr<CloudFrontRsaKey> FromPublicKeyPem(absl::string_view pem);

  bool has_private_key() const;
  int bits() const;

  // RSASSA-PKCS1-v1_5 with SHA-1 over `data`: the raw signature bytes
  // (deterministic). FAILED_PRECONDITION for a public key; INTERNAL if OpenSSL
  // fails. Thread-safe.
  absl::StatusOr<std::string> SignSha1(absl::string_view data) const;

  // True when `signature` is a valid RSASSA-PKCS1-v1_5 SHA-1 signature of
  // `data` under this key. Thread-safe.
  bool VerifySha1(absl::string_view data, absl::string_view signature) const;

  // The public half as PEM SubjectPublicKeyInfo, ready to upload to CloudFront.
  std::string PublicKeyPem() const;

 private:
  struct Impl;
  explicit CloudFrontRsaKey(std::shared_ptr<const Impl> impl);
  std::shared_ptr<const Impl> impl_;
};

}  // namespace edgepass::core

#endif  // EDGEPASS_CORE_CLOUDFRONT_RSA_KEY_H_
