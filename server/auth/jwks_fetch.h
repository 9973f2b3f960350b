// Reads a JWKS document from where an OIDC deployment keeps it: a local file
// (mounted from a secret or config map) or the provider's `jwks_uri` over
// http:// or https://. Only the bytes are fetched here; jwks.h parses them.
//
//   absl::StatusOr<std::string> text = FetchJwks(
//       "https://cognito-idp.eu-west-1.amazonaws.com/POOL/.well-known/jwks.json", {});
//   if (!text.ok()) LOG(ERROR) << text.status();  // names the source and the failure
#ifndef EDGEPASS_SERVER_AUTH_JWKS_FETCH_H_
#define EDGEPASS_SERVER_AUTH_JWKS_FETCH_H_

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/auth/jwks.h"

namespace edgepass::server {

struct JwksFetchOptions {
  // URLs: the whole exchange (resolve, connect, TLS handshake, request,
  // response) must finish within this.
  absl::Duration timeout = absl::Seconds(5);
  // https: a PEM bundle of CA certificates to trust instead of the system
  // store (/etc/ssl/certs), for providers behind a private CA.
  std::string ca_file;
  // Larger documents (file or response body) are refused.
  size_t max_bytes = kMaxJwksBytes;
};

// True when `source` is an http:// or https:// URL rather than a file path.
bool IsJwksUrl(absl::string_view source);

// OK for a file path and a well-formed https:// URL; an http:// URL only when
// its host is loopback (127.0.0.0/8, ::1, "localhost"; other names are not
// resolved): keys fetched in the clear could be swapped on the way, and with
// them every viewer's identity. INVALID_ARGUMENT naming the URL otherwise
// ("jwks url URL: http:// is allowed on loopback only ...") or for a
// malformed URL. FetchJwks applies it too; call it at start to report a
// configuration error. Thread-safe.
absl::Status CheckJwksSource(absl::string_view source);

// Returns the document at `source`: a file path, or an http:// or https://
// URL fetched with one GET (HTTP/1.1, no redirects followed, 200 required).
// https verifies the server's certificate chain (system store or ca_file) and
// that it names the URL's host, with TLS 1.2 or later. Errors name the source:
// INVALID_ARGUMENT for a malformed URL (userinfo, bad port, other scheme), an
// http:// URL that is not loopback (CheckJwksSource) or an unreadable ca_file;
// NOT_FOUND for a missing file; FAILED_PRECONDITION for a file or body larger
// than max_bytes; UNAVAILABLE for network, TLS and HTTP failures and timeouts.
// Blocks the calling thread; thread-safe.
absl::StatusOr<std::string> FetchJwks(absl::string_view source, const JwksFetchOptions& options);

}  // namespace edgepass::server

#endif  // EDGEPASS_SERVER_AUTH_JWKS_FETCH_H_
