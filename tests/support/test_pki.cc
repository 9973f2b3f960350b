#include "tests/support/test_pki.h"

#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <system_error>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/status_macros.h"

namespace edgepass::testing {
namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};
struct BioFree {
  void operator()(BIO* p) const { BIO_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using BioPtr = std::unique_ptr<BIO, BioFree>;

// INTERNAL with `what` and OpenSSL's queued reason (the queue is cleared).
absl::Status OpenSslError(absl::string_view what) {
  unsigned long code = ERR_get_error();
  char reason[256] = "unknown error";
  if (code != 0) ERR_error_string_n(code, reason, sizeof(reason));
  ERR_clear_error();
  return absl::InternalError(absl::StrCat("test pki: ", what, ": ", reason));
}

absl::StatusOr<PkeyPtr> NewKey() {
  PkeyPtr key(EVP_EC_gen("P-256"));
  if (key == nullptr) return OpenSslError("EC key generation");
  return key;
}

// One X.509 v3 extension in openssl.cnf syntax ("critical,CA:TRUE").
absl::Status AddExtension(X509* cert, X509* issuer, int nid,
                          const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (ext == nullptr) return OpenSslError(absl::StrCat("extension ", value));
  const int ok = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  if (!ok) return OpenSslError(absl::StrCat("adding extension ", value));
  return absl::OkStatus();
}

struct CertSpec {
  std::string common_name;
  bool is_ca = false;
  const char* extended_key_usage = nullptr;  // "serverAuth", "clientAuth"
  const char* subject_alt_name = nullptr;
};

// A certificate for `key`, signed by `issuer_key` (self-signed when `issuer`
// is null).
absl::StatusOr<X509Ptr> NewCert(const CertSpec& spec, EVP_PKEY* key,
                                X509* issuer, EVP_PKEY* issuer_key) {
  X509Ptr cert(X509_new());
  if (cert == nullptr) return OpenSslError("X509_new");
  unsigned char serial[16];
  if (RAND_bytes(serial, sizeof(serial)) != 1) return OpenSslError("serial");
  serial[0] &= 0x7f;  // positive
  BIGNUM* bn = BN_bin2bn(serial, sizeof(serial), nullptr);
  const bool serial_ok =
      bn != nullptr &&
      BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get())) != nullptr;
  BN_free(bn);
  if (!serial_ok) return OpenSslError("serial");

  X509_NAME* name = X509_get_subject_name(cert.get());
  if (X509_set_version(cert.get(), 2) != 1 ||
      X509_NAME_add_entry_by_txt(
          name, "CN", MBSTRING_UTF8,
          reinterpret_cast<const unsigned char*>(spec.common_name.c_str()), -1,
          -1, 0) != 1 ||
      X509_set_issuer_name(cert.get(), issuer != nullptr
                                           ? X509_get_subject_name(issuer)
                                           : name) != 1 ||
      X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) == nullptr ||
      X509_gmtime_adj(X509_getm_notAfter(cert.get()), 30L * 24 * 3600) ==
          nullptr ||
      X509_set_pubkey(cert.get(), key) != 1) {
    return OpenSslError(
        absl::StrCat("certificate fields for ", spec.common_name));
  }
  X509* signer = issuer != nullptr ? issuer : cert.get();
  if (spec.is_ca) {
    EDGEPASS_RETURN_IF_ERROR(AddExtension(
        cert.get(), signer, NID_basic_constraints, "critical,CA:TRUE"));
    EDGEPASS_RETURN_IF_ERROR(AddExtension(cert.get(), signer, NID_key_usage,
                                          "critical,keyCertSign,cRLSign"));
  } else {
    EDGEPASS_RETURN_IF_ERROR(AddExtension(
        cert.get(), signer, NID_basic_constraints, "critical,CA:FALSE"));
    EDGEPASS_RETURN_IF_ERROR(AddExtension(cert.get(), signer, NID_key_usage,
                                          "critical,digitalSignature"));
  }
  EDGEPASS_RETURN_IF_ERROR(
      AddExtension(cert.get(), signer, NID_subject_key_identifier, "hash"));
  if (issuer != nullptr) {
    EDGEPASS_RETURN_IF_ERROR(AddExtension(
        cert.get(), signer, NID_authority_key_identifier, "keyid:always"));
  }
  if (spec.extended_key_usage != nullptr) {
    EDGEPASS_RETURN_IF_ERROR(AddExtension(cert.get(), signer, NID_ext_key_usage,
                                          spec.extended_key_usage));
  }
  if (spec.subject_alt_name != nullptr) {
    EDGEPASS_RETURN_IF_ERROR(AddExtension(
        cert.get(), signer, NID_subject_alt_name, spec.subject_alt_name));
  }
  if (X509_sign(cert.get(), issuer_key != nullptr ? issuer_key : key,
                EVP_sha256()) == 0) {
    return OpenSslError(absl::StrCat("signing ", spec.common_name));
  }
  return cert;
}

std::string BioText(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  return n > 0 ? std::string(data, static_cast<size_t>(n)) : std::string();
}

absl::StatusOr<std::string> CertPem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr || PEM_write_bio_X509(bio.get(), cert) != 1)
    return OpenSslError("PEM-encoding a certificate");
  return BioText(bio.get());
}

absl::StatusOr<std::string> KeyPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr ||
      PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr,
                               nullptr) != 1) {
    return OpenSslError("PEM-encoding a private key");
  }
  return BioText(bio.get());
}

// Writes `text` to `path` with `mode` (also when the file already existed).
absl::Status WriteFile(const std::string& path, const std::string& text,
                       mode_t mode) {
  auto fail = [&](absl::string_view what) {
    const int err = errno;
    return absl::Status(absl::ErrnoToStatusCode(err),
                        absl::StrCat("test pki: ", what, " ", path, ": ",
                                     std::generic_category().message(err)));
  };
  const int fd =
      ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return fail("cannot open");
  if (::fchmod(fd, mode) != 0) {
    absl::Status status = fail("cannot chmod");
    ::close(fd);
    return status;
  }
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      absl::Status status = fail("cannot write");
      ::close(fd);
      return status;
    }
    done += static_cast<size_t>(n);
  }
  if (::close(fd) != 0) return fail("cannot close");
  return absl::OkStatus();
}

struct Issuer {
  PkeyPtr key;
  X509Ptr cert;
  std::string pem;
};

absl::StatusOr<Issuer> WriteCa(const std::string& common_name,
                               const std::string& path) {
  Issuer ca;
  EDGEPASS_ASSIGN_OR_RETURN(ca.key, NewKey());
  EDGEPASS_ASSIGN_OR_RETURN(ca.cert,
                            NewCert({.common_name = common_name, .is_ca = true},
                                    ca.key.get(), nullptr, nullptr));
  EDGEPASS_ASSIGN_OR_RETURN(ca.pem, CertPem(ca.cert.get()));
  EDGEPASS_RETURN_IF_ERROR(WriteFile(path, ca.pem, 0644));
  return ca;
}

absl::StatusOr<TestCert> WriteLeaf(const CertSpec& spec, const Issuer& issuer,
                                   const std::string& dir,
                                   const std::string& base_name) {
  TestCert out;
  out.name = spec.common_name;
  out.cert_file = absl::StrCat(dir, "/", base_name, ".pem");
  out.key_file = absl::StrCat(dir, "/", base_name, ".key");
  EDGEPASS_ASSIGN_OR_RETURN(PkeyPtr key, NewKey());
  EDGEPASS_ASSIGN_OR_RETURN(
      X509Ptr cert,
      NewCert(spec, key.get(), issuer.cert.get(), issuer.key.get()));
  EDGEPASS_ASSIGN_OR_RETURN(out.cert_pem, CertPem(cert.get()));
  EDGEPASS_ASSIGN_OR_RETURN(out.key_pem, KeyPem(key.get()));
  EDGEPASS_RETURN_IF_ERROR(WriteFile(out.key_file, out.key_pem, 0600));
  EDGEPASS_RETURN_IF_ERROR(WriteFile(out.cert_file, out.cert_pem, 0644));
  return out;
}

absl::Status CheckClientName(const std::string& name) {
  bool ok = !name.empty() && name.size() <= 64 && name != "rogue";
  for (char c : name) {
    const bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                         (c >= '0' && c <= '9') || c == '.' || c == '_' ||
                         c == '-';
    if (!allowed) ok = false;
  }
  if (ok) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "test pki: client name \"", name,
      "\" must be 1-64 characters of [A-Za-z0-9._-] and not \"rogue\""));
}

}  // namespace

absl::StatusOr<TestPki> MakeTestPki(
    const std::string& dir, const std::vector<std::string>& client_names) {
  for (const std::string& name : client_names) {
    EDGEPASS_RETURN_IF_ERROR(CheckClientName(name));
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("test pki: cannot create ", dir, ": ", ec.message()));
  }
  TestPki pki;
  pki.dir = dir;
  pki.ca_file = dir + "/ca.pem";
  pki.rogue_ca_file = dir + "/rogue-ca.pem";

  EDGEPASS_ASSIGN_OR_RETURN(Issuer ca,
                            WriteCa("edgepass test CA", pki.ca_file));
  pki.ca_pem = ca.pem;
  EDGEPASS_ASSIGN_OR_RETURN(
      pki.server,
      WriteLeaf({.common_name = "localhost",
                 .extended_key_usage = "serverAuth",
                 .subject_alt_name = "DNS:localhost,IP:127.0.0.1,IP:::1"},
                ca, dir, "server"));
  for (const std::string& name : client_names) {
    EDGEPASS_ASSIGN_OR_RETURN(
        TestCert client,
        WriteLeaf({.common_name = name, .extended_key_usage = "clientAuth"}, ca,
                  dir, "client-" + name));
    pki.clients[name] = std::move(client);
  }

  EDGEPASS_ASSIGN_OR_RETURN(Issuer rogue,
                            WriteCa("edgepass rogue CA", pki.rogue_ca_file));
  pki.rogue_ca_pem = rogue.pem;
  EDGEPASS_ASSIGN_OR_RETURN(
      pki.rogue_client,
      WriteLeaf({.common_name = "rogue", .extended_key_usage = "clientAuth"},
                rogue, dir, "client-rogue"));
  return pki;
}

}  // namespace edgepass::testing
