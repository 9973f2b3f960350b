#include "http/tls_files.h"

#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <system_error>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace edgepass::http {
namespace {

struct BioFree {
  void operator()(BIO* p) const { BIO_free(p); }
};
struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};

// "WHAT: FIELD 'PATH': "
std::string Prefix(absl::string_view what, absl::string_view field,
                   absl::string_view path) {
  return absl::StrCat(what, ": ", field, " '", path, "': ");
}

absl::StatusOr<std::string> ReadFile(absl::string_view what,
                                     absl::string_view field,
                                     const std::string& path) {
  auto errno_status = [&](int err) {
    absl::StatusCode code = absl::StatusCode::kInvalidArgument;
    if (err == ENOENT || err == ENOTDIR) code = absl::StatusCode::kNotFound;
    if (err == EACCES || err == EPERM)
      code = absl::StatusCode::kPermissionDenied;
    return absl::Status(
        code, Prefix(what, field, path) + std::generic_category().message(err));
  };
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return errno_status(errno);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return errno_status(err);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return absl::InvalidArgumentError(Prefix(what, field, path) +
                                      "not a regular file");
  }
  std::string text;
  char buf[16384];
  while (true) {
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      return errno_status(err);
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > kMaxTlsFileBytes) {
      ::close(fd);
      return absl::InvalidArgumentError(
          absl::StrCat(Prefix(what, field, path), "larger than ",
                       kMaxTlsFileBytes, " bytes"));
    }
  }
  ::close(fd);
  if (text.empty()) {
    return absl::InvalidArgumentError(Prefix(what, field, path) + "empty file");
  }
  return text;
}

std::unique_ptr<BIO, BioFree> MemBio(const std::string& text) {
  return std::unique_ptr<BIO, BioFree>(
      BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

// The certificates in `pem`, in order; INVALID_ARGUMENT when there are none
// or one is malformed.
absl::StatusOr<std::vector<std::unique_ptr<X509, X509Free>>> ParseCerts(
    absl::string_view what, absl::string_view field, const std::string& path,
    const std::string& pem) {
  std::vector<std::unique_ptr<X509, X509Free>> certs;
  auto bio = MemBio(pem);
  if (bio == nullptr) return absl::InternalError(absl::StrCat(what, ": BIO"));
  ERR_clear_error();
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    certs.emplace_back(cert);
  }
  // The loop ends with "no start line" at the end of the input; anything
  // else is a malformed certificate.
  const unsigned long err = ERR_peek_last_error();
  const bool clean_end = ERR_GET_LIB(err) == ERR_LIB_PEM &&
                         ERR_GET_REASON(err) == PEM_R_NO_START_LINE;
  ERR_clear_error();
  if (certs.empty()) {
    return absl::InvalidArgumentError(Prefix(what, field, path) +
                                      "no PEM certificate in the file");
  }
  if (!clean_end) {
    return absl::InvalidArgumentError(
        absl::StrCat(Prefix(what, field, path), "PEM certificate ",
                     certs.size() + 1, " is malformed"));
  }
  return certs;
}

// Refuses to prompt for a pass phrase.
int NoPassphrase(char*, int, int, void*) { return -1; }

}  // namespace

absl::StatusOr<TlsPem> LoadTlsPem(absl::string_view what,
                                  const TlsFiles& files) {
  if (files.cert_file.empty())
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": cert_file is empty"));
  if (files.key_file.empty())
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": key_file is empty"));
  TlsPem pem;
  absl::StatusOr<std::string> text =
      ReadFile(what, "cert_file", files.cert_file);
  if (!text.ok()) return text.status();
  pem.cert_chain = std::move(*text);
  auto certs = ParseCerts(what, "cert_file", files.cert_file, pem.cert_chain);
  if (!certs.ok()) return certs.status();

  text = ReadFile(what, "key_file", files.key_file);
  if (!text.ok()) return text.status();
  pem.private_key = std::move(*text);
  {
    auto bio = MemBio(pem.private_key);
    ERR_clear_error();
    std::unique_ptr<EVP_PKEY, PkeyFree> key(
        bio == nullptr ? nullptr
                       : PEM_read_bio_PrivateKey(bio.get(), nullptr,
                                                 NoPassphrase, nullptr));
    const unsigned long err = ERR_peek_last_error();
    ERR_clear_error();
    if (key == nullptr) {
      const bool encrypted =
          pem.private_key.find("ENCRYPTED") != std::string::npos ||
          ERR_GET_REASON(err) == PEM_R_BAD_PASSWORD_READ;
      return absl::InvalidArgumentError(
          Prefix(what, "key_file", files.key_file) +
          (encrypted ? "encrypted private keys are not supported"
                     : "no PEM private key in the file"));
    }
    if (X509_check_private_key(certs->front().get(), key.get()) != 1) {
      ERR_clear_error();
      return absl::InvalidArgumentError(
          absl::StrCat(Prefix(what, "key_file", files.key_file),
                       "does not match the certificate in cert_file '",
                       files.cert_file, "'"));
    }
  }

  if (!files.client_ca_file.empty()) {
    absl::StatusOr<std::string> ca =
        LoadPemCertificates(what, "client_ca_file", files.client_ca_file);
    if (!ca.ok()) return ca.status();
    pem.client_ca = std::move(*ca);
  }
  return pem;
}

absl::StatusOr<std::string> LoadPemCertificates(absl::string_view what,
                                                absl::string_view field,
                                                const std::string& path) {
  if (path.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": ", field, " is empty"));
  }
  absl::StatusOr<std::string> text = ReadFile(what, field, path);
  if (!text.ok()) return text.status();
  auto certs = ParseCerts(what, field, path, *text);
  if (!certs.ok()) return certs.status();
  return text;
}

absl::Status CheckClientCertSetting(absl::string_view what, bool wants_client_cert,
                                    const std::string& client_ca_file) {
  if (wants_client_cert && client_ca_file.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": client_ca_file is required when client_cert is optional or require"));
  }
  if (!wants_client_cert && !client_ca_file.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, ": client_ca_file is set but client_cert is none (no client certificate would be asked for)"));
  }
  return absl::OkStatus();
}

}  // namespace edgepass::http
