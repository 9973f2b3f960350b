#include "tests/support/oidc_test_tokens.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstdlib>
#include <iostream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "core/crypto.h"
#include "files/atomic_file.h"

namespace edgepass::testing {
namespace {

[[noreturn]] void Die(absl::string_view what) {
  std::cerr << "oidc_test_tokens: " << what << " failed\n";
  std::abort();
}

std::string BigNumParam(const EVP_PKEY* pkey, const char* name) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, name, &bn) != 1) Die("EVP_PKEY_get_bn_param");
  std::string bytes(static_cast<size_t>(BN_num_bytes(bn)), '\0');
  BN_bn2bin(bn, reinterpret_cast<unsigned char*>(bytes.data()));
  BN_free(bn);
  return core::Base64UrlEncode(bytes);
}

std::string SigningInput(absl::string_view header_json, absl::string_view claims_json) {
  return absl::StrCat(core::Base64UrlEncode(header_json), ".", core::Base64UrlEncode(claims_json));
}

}  // namespace

struct OidcTestKey::Impl {
  ~Impl() { EVP_PKEY_free(pkey); }
  std::string kid;
  EVP_PKEY* pkey = nullptr;
};

OidcTestKey::OidcTestKey(std::string kid, int bits) {
  auto impl = std::make_shared<Impl>();
  impl->kid = std::move(kid);
  impl->pkey = EVP_RSA_gen(static_cast<unsigned>(bits));
  if (impl->pkey == nullptr) Die("EVP_RSA_gen");
  impl_ = std::move(impl);
}

const std::string& OidcTestKey::kid() const { return impl_->kid; }

nlohmann::json OidcTestKey::PublicJwk() const {
  nlohmann::json jwk = {{"kty", "RSA"},
                        {"use", "sig"},
                        {"alg", "RS256"},
                        {"n", BigNumParam(impl_->pkey, OSSL_PKEY_PARAM_RSA_N)},
                        {"e", BigNumParam(impl_->pkey, OSSL_PKEY_PARAM_RSA_E)}};
  if (!impl_->kid.empty()) jwk["kid"] = impl_->kid;
  return jwk;
}

std::string OidcTestKey::PublicKeyPem() const {
  BIO* bio = BIO_new(BIO_s_mem());
  if (bio == nullptr || PEM_write_bio_PUBKEY(bio, impl_->pkey) != 1) Die("PEM_write_bio_PUBKEY");
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(len));
  BIO_free(bio);
  return pem;
}

std::string OidcTestKey::SignRs256(absl::string_view header_json, absl::string_view claims_json) const {
  const std::string input = SigningInput(header_json, claims_json);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  size_t len = static_cast<size_t>(EVP_PKEY_get_size(impl_->pkey));
  std::string sig(len, '\0');
  if (ctx == nullptr || EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, impl_->pkey) != 1 ||
      EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                     reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1) {
    Die("EVP_DigestSign");
  }
  EVP_MD_CTX_free(ctx);
  sig.resize(len);
  return absl::StrCat(input, ".", core::Base64UrlEncode(sig));
}

std::string OidcTestKey::Mint(const nlohmann::json& claims) const {
  nlohmann::json header = {{"alg", "RS256"}, {"typ", "JWT"}};
  if (!impl_->kid.empty()) header["kid"] = impl_->kid;
  return SignRs256(header.dump(), claims.dump());
}

nlohmann::json IdTokenClaims(const std::string& issuer, const std::string& audience, absl::Time now,
                             const std::vector<std::string>& groups, absl::Duration ttl,
                             const std::string& groups_claim, const std::string& subject) {
  nlohmann::json claims = {{"iss", issuer},
                           {"aud", audience},
                           {"sub", subject},
                           {"token_use", "id"},
                           {"iat", absl::ToUnixSeconds(now)},
                           {"exp", absl::ToUnixSeconds(now + ttl)}};
  if (!groups.empty()) claims[groups_claim] = groups;
  return claims;
}

std::string JwksJson(const std::vector<const OidcTestKey*>& keys) {
  nlohmann::json list = nlohmann::json::array();
  for (const OidcTestKey* key : keys) list.push_back(key->PublicJwk());
  return nlohmann::json{{"keys", list}}.dump();
}

void WriteJwksFile(const std::string& path, const std::vector<const OidcTestKey*>& keys) {
  if (!files::WriteFileAtomically(path, JwksJson(keys)).ok()) Die(absl::StrCat("writing ", path));
}

std::string SignHs256(absl::string_view header_json, absl::string_view claims_json,
                      absl::string_view secret) {
  const std::string input = SigningInput(header_json, claims_json);
  return absl::StrCat(input, ".", core::Base64UrlEncode(core::HmacSha256(secret, input)));
}

std::string UnsignedToken(absl::string_view header_json, absl::string_view claims_json) {
  return absl::StrCat(SigningInput(header_json, claims_json), ".");
}

JwksHost::JwksHost() {
  absl::StatusOr<std::unique_ptr<http::Server>> server =
      http::Server::Start({}, [this](const http::Request& request) {
        absl::Duration delay;
        http::Response response;
        {
          absl::MutexLock lock(&mu_);
          ++requests_;
          if (request.target != "/.well-known/jwks.json") return http::Response::Error(404, "no such path");
          response = http::Response::Json(status_, body_);
          delay = delay_;
        }
        absl::SleepFor(delay);
        return response;
      });
  if (!server.ok()) {
    std::cerr << "JwksHost: " << server.status() << "\n";
    std::abort();
  }
  server_ = *std::move(server);
}

std::string JwksHost::url() const {
  return absl::StrCat("http://127.0.0.1:", server_->port(), "/.well-known/jwks.json");
}

void JwksHost::Serve(int status, std::string body) {
  absl::MutexLock lock(&mu_);
  status_ = status;
  body_ = std::move(body);
}

void JwksHost::SetDelay(absl::Duration delay) {
  absl::MutexLock lock(&mu_);
  delay_ = delay;
}

int JwksHost::requests() const {
  absl::MutexLock lock(&mu_);
  return requests_;
}

bool JwksHost::AwaitRequests(int n) const {
  absl::MutexLock lock(&mu_);
  auto enough = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return requests_ >= n; };
  return mu_.AwaitWithTimeout(absl::Condition(&enough), absl::Seconds(10));
}

}  // namespace edgepass::testing
