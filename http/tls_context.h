// The HTTPS side of edgepass::http's server, apart from connection handling:
// the server TLS context built from TlsOptions (certificate chain and key,
// TLS 1.2 minimum, optional or required client certificates against a CA
// bundle) and the identity of a verified client. Internal to edgepass::http:
// it names Asio's ssl::context, which http_server.h keeps from its callers.
//
//   absl::StatusOr<std::unique_ptr<ssl::context>> ctx =
//   MakeServerTlsContext(tls); if (*ctx == nullptr) { /* plain HTTP */ }
//   std::string cn = PeerIdentity(stream.native_handle());  // after handshake
#ifndef EDGEPASS_HTTP_TLS_CONTEXT_H_
#define EDGEPASS_HTTP_TLS_CONTEXT_H_

#include <openssl/ssl.h>

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "http/http_server.h"

namespace edgepass::http {

// The server context for `options`, or nullptr when TLS is off (no
// cert_file). Reads and checks the PEM files (http/tls_files.h) once.
// INVALID_ARGUMENT for inconsistent fields (other fields set without
// cert_file, client certificates without a CA bundle), a file that is not
// PEM, a key that does not match the certificate or a CA bundle without a
// usable certificate; NOT_FOUND / PERMISSION_DENIED for a missing /
// unreadable file. Messages start "http server tls: " and name field and path.
absl::StatusOr<std::unique_ptr<boost::asio::ssl::context>> MakeServerTlsContext(
    const TlsOptions& options);

// The subject CN of the peer's verified certificate; empty when there is
// none, or the CN is missing, repeated, not UTF-8 text, or holds a NUL.
std::string PeerIdentity(SSL* ssl);

}  // namespace edgepass::http

#endif  // EDGEPASS_HTTP_TLS_CONTEXT_H_
