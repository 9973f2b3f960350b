// Transport security for edgepass's gRPC server: server credentials from PEM
// files with an optional or required client certificate (mTLS), and the
// caller's certificate identity inside a handler. Clients build their channel
// credentials with client/channel/grpc_channel_tls.h.
//
//   absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> creds =
//       MakeGrpcServerCredentials({.cert_file = "server.pem", .key_file =
//       "server.key", .client_ca_file = "ca.pem", .client_cert =
//       GrpcTlsOptions::ClientCert::kOptional});
//   builder.AddListeningPort(addr, *creds, &port);
//   ... in a handler: std::string cn = GrpcPeerIdentity(*context);
#ifndef EDGEPASS_SERVER_AUTH_GRPC_TLS_H_
#define EDGEPASS_SERVER_AUTH_GRPC_TLS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace grpc {
class ServerContextBase;
class ServerCredentials;
}  // namespace grpc

namespace edgepass::server {

struct GrpcTlsOptions {
  enum class ClientCert {
    // No client certificate asked for.
    kNone,
    // Asked for and verified when sent (GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_
    // AND_VERIFY): callers without one (bearer API keys) still connect over
    // TLS; one that does not verify against client_ca_file fails the
    // handshake.
    kOptional,
    // A connection without a certificate that verifies fails the handshake.
    kRequire,
  };
  std::string cert_file;       // PEM chain, leaf first; empty: plaintext
  std::string key_file;        // PEM private key (unencrypted)
  std::string client_ca_file;  // PEM CA bundle; required unless kNone
  ClientCert client_cert = ClientCert::kNone;

  bool enabled() const { return !cert_file.empty(); }
};

// TLS (1.2+) server credentials, or grpc::InsecureServerCredentials() when
// cert_file is empty and nothing else is set. The files are read and checked
// here (http/tls_files.h), so a bad one is reported now and not as a failed
// start or handshake later. Errors start with "grpc tls: " and name the field
// and the file, never key material: NOT_FOUND (missing), PERMISSION_DENIED
// (unreadable), INVALID_ARGUMENT (not PEM, encrypted key, key does not match
// the certificate, client_ca_file missing for kOptional/kRequire or set for
// kNone, TLS fields set without cert_file). Thread-safe.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>>
MakeGrpcServerCredentials(const GrpcTlsOptions& options);

// The subject CN of the client certificate that verified during this call's
// TLS handshake (auth context property "x509_common_name"); empty over
// plaintext, without a client certificate, or when the CN is missing,
// repeated or holds a NUL. Works for sync and callback handlers. Call it from
// the handler's thread (the context caches its auth context lazily).
std::string GrpcPeerIdentity(const grpc::ServerContextBase& context);

}  // namespace edgepass::server

#endif  // EDGEPASS_SERVER_AUTH_GRPC_TLS_H_
