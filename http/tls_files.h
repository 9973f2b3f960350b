// Reads and checks the PEM files of a TLS server (certificate chain, private
// key, client CA bundle) once at start, so a bad file is one clear error that
// names the file, instead of a failed handshake later. Shared by the HTTP
// server, the gRPC server credentials (server/auth/grpc_tls.h) and the gRPC
// clients' (client/channel/grpc_channel_tls.h).
//
//   absl::StatusOr<TlsPem> pem = LoadTlsPem(
//       "grpc tls", {.cert_file = "/etc/edgepass/server.pem", ...});
//   if (!pem.ok()) return pem.status();  // "grpc tls: key_file ...: ..."
#ifndef EDGEPASS_HTTP_TLS_FILES_H_
#define EDGEPASS_HTTP_TLS_FILES_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace edgepass::http {

struct TlsFiles {
  std::string cert_file;       // PEM certificate chain, leaf first
  std::string key_file;        // PEM private key of the leaf, unencrypted
  std::string client_ca_file;  // PEM CA bundle for client certs; may be empty
};

// The files' contents; private_key is a secret: never log it.
struct TlsPem {
  std::string cert_chain;
  std::string private_key;
  std::string client_ca;  // empty when TlsFiles::client_ca_file is
};

// Files larger than this are refused (a PEM bundle is a few KiB).
inline constexpr size_t kMaxTlsFileBytes = 1 << 20;

// Reads the files and checks that cert_file holds at least one certificate,
// key_file one private key that matches the first certificate, and
// client_ca_file (when set) at least one certificate. Messages start with
// `what` and name the field and the path, never key material:
// INVALID_ARGUMENT for an empty cert_file/key_file, a file that is empty,
// too large or not PEM, an encrypted key, or a key that does not match the
// certificate; NOT_FOUND when a file does not exist; PERMISSION_DENIED when
// it cannot be read. Thread-safe.
absl::StatusOr<TlsPem> LoadTlsPem(absl::string_view what,
                                  const TlsFiles& files);

// The client-certificate settings agree: a CA when client certificates are
// asked for (`wants_client_cert`), none otherwise. INVALID_ARGUMENT starting
// with `what`.
absl::Status CheckClientCertSetting(absl::string_view what, bool wants_client_cert,
                                    const std::string& client_ca_file);

// Reads a PEM bundle of one or more certificates (a CA file) with the same
// checks and error codes; `field` names it in messages ("ca_file").
absl::StatusOr<std::string> LoadPemCertificates(absl::string_view what,
                                                absl::string_view field,
                                                const std::string& path);

}  // namespace edgepass::http

#endif  // EDGEPASS_HTTP_TLS_FILES_H_
