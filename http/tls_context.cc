#include "http/tls_context.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <boost/asio/buffer.hpp>
#include <boost/asio/ssl.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "http/tls_files.h"

namespace edgepass::http {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using error_code = boost::system::error_code;

absl::StatusOr<std::unique_ptr<ssl::context>> MakeServerTlsContext(
    const TlsOptions& options) {
  constexpr absl::string_view kWhat = "http server tls";
  if (!options.enabled()) {
    if (!options.key_file.empty() || !options.client_ca_file.empty() ||
        options.client_cert != TlsOptions::ClientCert::kNone) {
      return absl::InvalidArgumentError(absl::StrCat(
          kWhat, ": cert_file is empty but other tls fields are set"));
    }
    return nullptr;  // plain HTTP
  }
  const bool wants_client_cert =
      options.client_cert != TlsOptions::ClientCert::kNone;
  if (absl::Status s = CheckClientCertSetting(kWhat, wants_client_cert,
                                              options.client_ca_file);
      !s.ok()) {
    return s;
  }
  absl::StatusOr<TlsPem> pem =
      LoadTlsPem(kWhat, {.cert_file = options.cert_file,
                         .key_file = options.key_file,
                         .client_ca_file = options.client_ca_file});
  if (!pem.ok()) return pem.status();

  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
  SSL_CTX* native = ctx->native_handle();
  auto fail = [&](absl::string_view what, const error_code& ec) {
    ERR_clear_error();
    return absl::InvalidArgumentError(
        absl::StrCat(kWhat, ": ", what, ": ", ec.message()));
  };
  error_code ec;
  if (SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION) != 1) {
    return fail("TLS 1.2 minimum", error_code());
  }
  ctx->set_options(ssl::context::default_workarounds |
                       ssl::context::no_compression |
                       ssl::context::single_dh_use,
                   ec);
  if (ec) return fail("options", ec);
  ctx->use_certificate_chain(asio::buffer(pem->cert_chain), ec);
  if (ec) return fail(absl::StrCat("cert_file '", options.cert_file, "'"), ec);
  ctx->use_private_key(asio::buffer(pem->private_key), ssl::context::pem, ec);
  if (ec) return fail(absl::StrCat("key_file '", options.key_file, "'"), ec);
  if (wants_client_cert) {
    // Trust the bundle for client certificates and name its CAs in the
    // CertificateRequest so clients pick the right certificate.
    BIO* bio = BIO_new_mem_buf(pem->client_ca.data(),
                               static_cast<int>(pem->client_ca.size()));
    X509_STORE* store = SSL_CTX_get_cert_store(native);
    int added = 0;
    while (X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
      if (X509_STORE_add_cert(store, cert) == 1 &&
          SSL_CTX_add_client_CA(native, cert) == 1) {
        ++added;
      }
      X509_free(cert);
    }
    BIO_free(bio);
    ERR_clear_error();
    if (added == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(kWhat, ": client_ca_file '", options.client_ca_file,
                       "': no usable CA certificate"));
    }
    ctx->set_verify_mode(
        options.client_cert == TlsOptions::ClientCert::kRequire
            ? ssl::verify_peer | ssl::verify_fail_if_no_peer_cert
            : ssl::verify_peer,
        ec);
    if (ec) return fail("verify mode", ec);
    // Resumed sessions keep the client certificate of their first handshake.
    static constexpr unsigned char kSessionContext[] = "edgepass-http";
    SSL_CTX_set_session_id_context(native, kSessionContext,
                                   sizeof(kSessionContext) - 1);
  }
  return ctx;
}

std::string PeerIdentity(SSL* ssl) {
  X509* cert = SSL_get0_peer_certificate(ssl);
  if (cert == nullptr || SSL_get_verify_result(ssl) != X509_V_OK) return "";
  X509_NAME* name = X509_get_subject_name(cert);
  const int index = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (index < 0 ||
      X509_NAME_get_index_by_NID(name, NID_commonName, index) >= 0) {
    return "";
  }
  unsigned char* utf8 = nullptr;
  const int n = ASN1_STRING_to_UTF8(
      &utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, index)));
  if (n <= 0) return "";
  std::string cn(reinterpret_cast<const char*>(utf8), static_cast<size_t>(n));
  OPENSSL_free(utf8);
  if (cn.find('\0') != std::string::npos) return "";
  return cn;
}

}  // namespace edgepass::http
