// TLS for edgepass's gRPC clients (the validator sidecar, the CLI, the load
// generator, tests): channel credentials from PEM files that verify the
// server, with an optional client certificate for mTLS. The files are read
// and checked here (http/tls_files.h), so a bad one is one clear error at
// start, not a failed handshake later.
//
//   absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> creds =
//       MakeGrpcChannelCredentials({.ca_file = "ca.pem", .cert_file =
//       "edge.pem", .key_file = "edge.key"});
//   auto channel = grpc::CreateChannel("edgepass.internal:50051", *creds);
#ifndef EDGEPASS_CLIENT_CHANNEL_GRPC_CHANNEL_TLS_H_
#define EDGEPASS_CLIENT_CHANNEL_GRPC_CHANNEL_TLS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace grpc {
class ChannelCredentials;
}  // namespace grpc

namespace edgepass::client {

struct GrpcClientTlsOptions {
  std::string ca_file;    // PEM CA bundle that must verify the server
  std::string cert_file;  // client certificate chain; empty: send none
  std::string key_file;   // its key; set exactly when cert_file is
};

// SSL channel credentials from PEM files. Errors start with "grpc client
// tls: " and name the field and the file, never key material: NOT_FOUND
// (missing), PERMISSION_DENIED (unreadable), INVALID_ARGUMENT (empty
// ca_file, not PEM, encrypted key, key not matching the certificate,
// cert_file without key_file or the reverse). The server's certificate must
// name the target host; for another name use ChannelArguments::
// SetSslTargetNameOverride. Thread-safe.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>>
MakeGrpcChannelCredentials(const GrpcClientTlsOptions& options);

}  // namespace edgepass::client

#endif  // EDGEPASS_CLIENT_CHANNEL_GRPC_CHANNEL_TLS_H_
