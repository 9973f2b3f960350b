// Internal to tests (core/, tests/cloudfront/): keys generated with OpenSSL
// at test time (no private key is ever committed), cached per test process.
//
//   const std::string& pem = testing::RsaPrivateKeyPem();     // 2048-bit, PKCS#8
//   std::string ec = testing::GenerateEcPrivateKeyPem();
#ifndef EDGEPASS_CORE_CLOUDFRONT_TEST_KEYS_INTERNAL_H_
#define EDGEPASS_CORE_CLOUDFRONT_TEST_KEYS_INTERNAL_H_

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstdlib>
#include <string>

namespace edgepass::core::testing {

// PKCS#8 PEM of `pkey` (freed here); aborts on failure, which only a broken
// OpenSSL causes.
inline std::string PrivateKeyPemAndFree(EVP_PKEY* pkey) {
  if (pkey == nullptr) std::abort();
  BIO* bio = BIO_new(BIO_s_mem());
  if (bio == nullptr ||
      PEM_write_bio_PrivateKey(bio, pkey, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    std::abort();
  }
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(len));
  BIO_free(bio);
  EVP_PKEY_free(pkey);
  return pem;
}

inline std::string GenerateRsaPrivateKeyPem(unsigned bits = 2048) {
  return PrivateKeyPemAndFree(EVP_RSA_gen(bits));
}

inline std::string GenerateEcPrivateKeyPem() { return PrivateKeyPemAndFree(EVP_EC_gen("P-256")); }

// One 2048-bit key per test process, and a second one for "wrong key" cases.
inline const std::string& RsaPrivateKeyPem() {
  static const std::string* pem = new std::string(GenerateRsaPrivateKeyPem());
  return *pem;
}
inline const std::string& OtherRsaPrivateKeyPem() {
  static const std::string* pem = new std::string(GenerateRsaPrivateKeyPem());
  return *pem;
}

}  // namespace edgepass::core::testing

#endif  // EDGEPASS_CORE_CLOUDFRONT_TEST_KEYS_INTERNAL_H_
