#include "core/cloudfront_rsa_key.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace edgepass::core {
namespace {

struct BioDeleter {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using BioPtr = std::unique_ptr<BIO, BioDeleter>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;

// Never prompts for a passphrase: encrypted keys fail to load.
int NoPassphrase(char*, int, int, void*) { return -1; }

absl::Status KeyError(absl::string_view field, absl::string_view message) {
  ERR_clear_error();  // leave no OpenSSL error behind for unrelated callers
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", message));
}

// Shared checks of both PEM forms; `pkey` may be null (did not parse).
absl::Status CheckPem(absl::string_view pem, absl::string_view field) {
  if (pem.empty()) return KeyError(field, "is empty");
  if (pem.size() > kMaxPemBytes) {
    return KeyError(field, absl::StrCat("larger than ", kMaxPemBytes, " bytes"));
  }
  if (!absl::StrContains(pem, "-----BEGIN ")) return KeyError(field, "is not PEM text");
  return absl::OkStatus();
}

absl::Status CheckRsa(EVP_PKEY* pkey, absl::string_view field) {
  if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA) {
    const char* type = EVP_PKEY_get0_type_name(pkey);
    return KeyError(field, absl::StrCat("must be an RSA key; got ", type ? type : "another type"));
  }
  const int bits = EVP_PKEY_get_bits(pkey);
  if (bits < kMinCloudFrontRsaBits || bits > kMaxCloudFrontRsaBits) {
    return KeyError(field, absl::StrCat("RSA key must have ", kMinCloudFrontRsaBits, " to ",
                                        kMaxCloudFrontRsaBits, " bits; got ", bits));
  }
  return absl::OkStatus();
}

}  // namespace

struct CloudFrontRsaKey::Impl {
  ~Impl() { EVP_PKEY_free(pkey); }
  EVP_PKEY* pkey = nullptr;
  bool is_private = false;
};

CloudFrontRsaKey::CloudFrontRsaKey(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

absl::StatusOr<CloudFrontRsaKey> CloudFrontRsaKey::FromPrivateKeyPem(absl::string_view pem) {
  constexpr absl::string_view kField = "private_key";
  if (absl::Status s = CheckPem(pem, kField); !s.ok()) return s;
  if (absl::StrContains(pem, "ENCRYPTED")) {
    return KeyError(kField, "encrypted PEM keys are not supported; decrypt it first");
  }
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return absl::InternalError("private_key: out of memory");
  auto impl = std::make_shared<Impl>();
  impl->pkey = PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassphrase, nullptr);
  if (impl->pkey == nullptr) {
    return KeyError(kField,
                    "is not a PEM private key (BEGIN PRIVATE KEY or BEGIN RSA PRIVATE KEY)");
  }
  if (absl::Status s = CheckRsa(impl->pkey, kField); !s.ok()) return s;
  impl->is_private = true;
  return CloudFrontRsaKey(std::move(impl));
}

absl::StatusOr<CloudFrontRsaKey> CloudFrontRsaKey::FromPublicKeyPem(absl::string_view pem) {
  constexpr absl::string_view kField = "public_key";
  if (absl::Status s = CheckPem(pem, kField); !s.ok()) return s;
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return absl::InternalError("public_key: out of memory");
  auto impl = std::make_shared<Impl>();
  impl->pkey = PEM_read_bio_PUBKEY(bio.get(), nullptr, NoPassphrase, nullptr);
  if (impl->pkey == nullptr) return KeyError(kField, "is not a PEM public key (BEGIN PUBLIC KEY)");
  if (absl::Status s = CheckRsa(impl->pkey, kField); !s.ok()) return s;
  return CloudFrontRsaKey(std::move(impl));
}

bool CloudFrontRsaKey::has_private_key() const { return impl_->is_private; }

int CloudFrontRsaKey::bits() const { return EVP_PKEY_get_bits(impl_->pkey); }

absl::StatusOr<std::string> CloudFrontRsaKey::SignSha1(absl::string_view data) const {
  if (!impl_->is_private) {
    return absl::FailedPreconditionError("private_key: a public key cannot sign");
  }
  MdCtxPtr ctx(EVP_MD_CTX_new());
  size_t len = static_cast<size_t>(EVP_PKEY_get_size(impl_->pkey));
  std::string sig(len, '\0');
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha1(), nullptr, impl_->pkey) != 1 ||
      EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                     reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1) {
    ERR_clear_error();
    return absl::InternalError("RSA-SHA1 signing failed in OpenSSL");
  }
  sig.resize(len);
  return sig;
}

bool CloudFrontRsaKey::VerifySha1(absl::string_view data, absl::string_view signature) const {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  const bool ok =
      ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha1(), nullptr, impl_->pkey) == 1 &&
      EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                       signature.size(), reinterpret_cast<const unsigned char*>(data.data()),
                       data.size()) == 1;
  ERR_clear_error();
  return ok;
}

std::string CloudFrontRsaKey::PublicKeyPem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), impl_->pkey) != 1) {
    ERR_clear_error();
    return "";
  }
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

}  // namespace edgepass::core
