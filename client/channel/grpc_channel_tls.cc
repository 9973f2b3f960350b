#include "client/channel/grpc_channel_tls.h"

#include <grpcpp/security/credentials.h>

#include <utility>

#include "absl/status/status.h"
#include "http/tls_files.h"

namespace edgepass::client {

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>>
MakeGrpcChannelCredentials(const GrpcClientTlsOptions& options) {
  constexpr absl::string_view kWhat = "grpc client tls";
  grpc::SslCredentialsOptions ssl;
  absl::StatusOr<std::string> ca =
      http::LoadPemCertificates(kWhat, "ca_file", options.ca_file);
  if (!ca.ok()) return ca.status();
  ssl.pem_root_certs = std::move(*ca);
  if (!options.cert_file.empty() || !options.key_file.empty()) {
    absl::StatusOr<http::TlsPem> pem = http::LoadTlsPem(
        kWhat, {.cert_file = options.cert_file, .key_file = options.key_file});
    if (!pem.ok()) return pem.status();
    ssl.pem_cert_chain = std::move(pem->cert_chain);
    ssl.pem_private_key = std::move(pem->private_key);
  }
  return grpc::SslCredentials(ssl);
}

}  // namespace edgepass::client
