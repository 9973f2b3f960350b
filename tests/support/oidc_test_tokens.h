// Test only (edgepass::testing): an identity provider in a
// few lines — RSA keys generated at test time (no key is ever committed), a
// JWKS document for them, and ID tokens signed with them, well-formed or
// hostile (HS256 under the public key, `alg: none`, any header); and a
// JWKS URL served on loopback, slow on demand.
//
//   OidcTestKey key("kid-1");
//   WriteJwksFile(dir + "/jwks.json", {&key});
//   std::string token = key.Mint(IdTokenClaims("https://idp.test", "app", now, {"gold"}));
#ifndef EDGEPASS_TESTS_SUPPORT_OIDC_TEST_TOKENS_H_
#define EDGEPASS_TESTS_SUPPORT_OIDC_TEST_TOKENS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "http/http_server.h"
#include "nlohmann/json.hpp"

namespace edgepass::testing {

// An RSA key pair, generated at construction (2048 bits: ~50 ms). Copies
// share the key. Thread-safe. Aborts if OpenSSL fails (a broken install).
class OidcTestKey {
 public:
  explicit OidcTestKey(std::string kid, int bits = 2048);

  const std::string& kid() const;
  // {"kty":"RSA","use":"sig","alg":"RS256","kid":..,"n":..,"e":..}; no "kid"
  // when kid() is empty.
  nlohmann::json PublicJwk() const;
  // SubjectPublicKeyInfo PEM ("-----BEGIN PUBLIC KEY-----..."), the bytes an
  // HS256 key-confusion attack uses as the HMAC secret.
  std::string PublicKeyPem() const;

  // base64url(header) "." base64url(claims) "." base64url(RS256 signature),
  // the JSON texts taken as given (so tests can sign anything).
  std::string SignRs256(absl::string_view header_json, absl::string_view claims_json) const;
  // SignRs256 with header {"alg":"RS256","typ":"JWT","kid":kid()} (no kid
  // when kid() is empty).
  std::string Mint(const nlohmann::json& claims) const;

 private:
  struct Impl;
  std::shared_ptr<const Impl> impl_;
};

// Claims of a valid Cognito-style ID token: iss, aud, sub, token_use "id",
// iat = now, exp = now + ttl, and `groups` under `groups_claim` (omitted when
// `groups` is empty). Tweak the result to make invalid ones.
nlohmann::json IdTokenClaims(const std::string& issuer, const std::string& audience, absl::Time now,
                             const std::vector<std::string>& groups = {}, absl::Duration ttl = absl::Hours(1),
                             const std::string& groups_claim = "cognito:groups",
                             const std::string& subject = "viewer-1");

// {"keys":[PublicJwk()...]} of `keys`, in order.
std::string JwksJson(const std::vector<const OidcTestKey*>& keys);
// Writes JwksJson(keys) to `path` atomically (a reader never sees half of
// it). Aborts on I/O failure.
void WriteJwksFile(const std::string& path, const std::vector<const OidcTestKey*>& keys);

// header.claims.HMAC-SHA256 under `secret`, the texts taken as given.
std::string SignHs256(absl::string_view header_json, absl::string_view claims_json, absl::string_view secret);
// header.claims. with an empty signature, as `alg: none` tokens are.
std::string UnsignedToken(absl::string_view header_json, absl::string_view claims_json);

// A JWKS provider on loopback (the project's HTTP server): url() answers
// Serve()'s status and body (200 and {"keys":[]} until then), each answer
// after SetDelay()'s delay; other paths get 404. Counts the requests as they
// arrive. Thread-safe.
class JwksHost {
 public:
  JwksHost();
  std::string url() const;  // http://127.0.0.1:PORT/.well-known/jwks.json
  void Serve(int status, std::string body);
  void SetDelay(absl::Duration delay);
  int requests() const;
  // False when fewer than `n` requests have arrived within 10 s.
  bool AwaitRequests(int n) const;

 private:
  mutable absl::Mutex mu_;
  int status_ ABSL_GUARDED_BY(mu_) = 200;
  std::string body_ ABSL_GUARDED_BY(mu_) = R"({"keys":[]})";
  absl::Duration delay_ ABSL_GUARDED_BY(mu_);
  int requests_ ABSL_GUARDED_BY(mu_) = 0;
  std::unique_ptr<http::Server> server_;  // last: stopped before the state it reads goes
};

}  // namespace edgepass::testing

#endif  // EDGEPASS_TESTS_SUPPORT_OIDC_TEST_TOKENS_H_
