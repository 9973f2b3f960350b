#include "server/auth/grpc_tls.h"

#include <grpc/grpc_security_constants.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_context.h>

#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "http/tls_files.h"

namespace edgepass::server {
namespace {

constexpr absl::string_view kWhat = "grpc tls";

grpc_ssl_client_certificate_request_type RequestType(
    GrpcTlsOptions::ClientCert mode) {
  switch (mode) {
    case GrpcTlsOptions::ClientCert::kNone:
      return GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE;
    case GrpcTlsOptions::ClientCert::kOptional:
      return GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY;
    case GrpcTlsOptions::ClientCert::kRequire:
      return GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  return GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>>
MakeGrpcServerCredentials(const GrpcTlsOptions& options) {
  const bool wants_client_cert =
      options.client_cert != GrpcTlsOptions::ClientCert::kNone;
  if (!options.enabled()) {
    if (!options.key_file.empty() || !options.client_ca_file.empty() ||
        wants_client_cert) {
      return absl::InvalidArgumentError(absl::StrCat(
          kWhat, ": cert_file is empty but other tls fields are set"));
    }
    return grpc::InsecureServerCredentials();
  }
  if (absl::Status s = http::CheckClientCertSetting(kWhat, wants_client_cert, options.client_ca_file);
      !s.ok()) {
    return s;
  }
  absl::StatusOr<http::TlsPem> pem =
      http::LoadTlsPem(kWhat, {.cert_file = options.cert_file,
                               .key_file = options.key_file,
                               .client_ca_file = options.client_ca_file});
  if (!pem.ok()) return pem.status();
  grpc::SslServerCredentialsOptions ssl(RequestType(options.client_cert));
  ssl.pem_root_certs = pem->client_ca;
  ssl.pem_key_cert_pairs.push_back(
      {.private_key = pem->private_key, .cert_chain = pem->cert_chain});
  return grpc::SslServerCredentials(ssl);
}

std::string GrpcPeerIdentity(const grpc::ServerContextBase& context) {
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (auth == nullptr || !auth->IsPeerAuthenticated()) return "";
  const std::vector<grpc::string_ref> transport =
      auth->FindPropertyValues(GRPC_TRANSPORT_SECURITY_TYPE_PROPERTY_NAME);
  if (transport.size() != 1 ||
      transport[0] != grpc::string_ref(GRPC_SSL_TRANSPORT_SECURITY_TYPE)) {
    return "";
  }
  const std::vector<grpc::string_ref> names =
      auth->FindPropertyValues(GRPC_X509_CN_PROPERTY_NAME);
  if (names.size() != 1) return "";
  std::string cn(names[0].data(), names[0].size());
  if (cn.find('\0') != std::string::npos) return "";
  return cn;
}

}  // namespace edgepass::server
