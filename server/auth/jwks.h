// The RS256 signature keys of an OpenID provider, parsed from its JSON Web Key
// Set (RFC 7517, the document at the provider's `jwks_uri`). OpenSSL stays
// behind an opaque handle; only the public keys are ever held.
//
//   absl::StatusOr<JwksKeySet> keys = JwksKeySet::Parse(text, "jwks file /etc/jwks.json");
//   const JwksKey* key = keys->Find("kid-1");           // nullptr: unknown kid
//   bool ok = key && key->VerifyRs256(signing_input, signature);
#ifndef EDGEPASS_SERVER_AUTH_JWKS_H_
#define EDGEPASS_SERVER_AUTH_JWKS_H_

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace edgepass::server {

inline constexpr size_t kMaxJwksBytes = 256 * 1024;
inline constexpr size_t kMaxJwksKeys = 100;
inline constexpr size_t kMaxJwkKidBytes = 256;
inline constexpr int kMinJwkRsaBits = 2048;
inline constexpr int kMaxJwkRsaBits = 4096;

// One RSA public key of a JWKS. Copies share the key. Thread-safe.
class JwksKey {
 public:
  const std::string& kid() const;  // "" when the JWK has no "kid"
  int bits() const;

  // True when `signature` is a valid RSASSA-PKCS1-v1_5 SHA-256 signature
  // (JWS "RS256") of `data` under this key, and exactly as long as the modulus.
  bool VerifyRs256(absl::string_view data, absl::string_view signature) const;

 private:
  friend class JwksKeySet;
  struct Impl;
  explicit JwksKey(std::shared_ptr<const Impl> impl);
  std::shared_ptr<const Impl> impl_;
};

// The usable keys of one JWKS document. Immutable after Parse; thread-safe.
class JwksKeySet {
 public:
  // Parses a JWKS document. Keeps every key with "kty" "RSA", "use" "sig" or
  // absent, "alg" "RS256" or absent and "key_ops" absent or containing
  // "verify"; other keys (EC, encryption keys, RS512 ...) are skipped.
  // INVALID_ARGUMENT "<source>: ..." when the text is empty or larger than
  // kMaxJwksBytes, is not JSON, has no "keys" array, has more than
  // kMaxJwksKeys keys, a kept key has a bad "n" or "e" (missing, not strict
  // unpadded base64url, modulus outside kMinJwkRsaBits..kMaxJwkRsaBits bits,
  // even or tiny exponent) or a bad "kid", two kept keys share a kid, or no key
  // is kept (the message says what was skipped).
  static absl::StatusOr<JwksKeySet> Parse(absl::string_view text, absl::string_view source);

  // The key a token's header selects: the key with that kid; with no kid
  // (nullopt), the only key when the set holds exactly one. nullptr otherwise.
  const JwksKey* Find(std::optional<absl::string_view> kid) const;

  size_t size() const { return keys_.size(); }
  const std::vector<JwksKey>& keys() const { return keys_; }

 private:
  std::vector<JwksKey> keys_;
};

}  // namespace edgepass::server

#endif  // EDGEPASS_SERVER_AUTH_JWKS_H_
