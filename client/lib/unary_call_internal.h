// Internal to the SDK's clients (includes gRPC; include it from .cc files
// only): the channel ClientOptions describe, and one unary call with the
// options' deadline and API key, its result as absl::StatusOr.
//
//   auto stub = v1::CatalogService::NewStub(internal::MakeChannel(options));
//   absl::StatusOr<v1::Asset> asset =
//       internal::UnaryCall(options, *stub, &v1::CatalogService::Stub::GetAsset, request);
#ifndef EDGEPASS_CLIENT_LIB_UNARY_CALL_INTERNAL_H_
#define EDGEPASS_CLIENT_LIB_UNARY_CALL_INTERNAL_H_

#include <memory>

#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "client/lib/grpc_status.h"
#include "client/lib/playback_client.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"

namespace edgepass::client::internal {

// A lazily connecting channel to options.address (plaintext unless
// options.credentials).
inline std::shared_ptr<grpc::Channel> MakeChannel(const ClientOptions& options) {
  return grpc::CreateChannel(options.address,
                             options.credentials != nullptr ? options.credentials : grpc::InsecureChannelCredentials());
}

// Calls `method` of `stub` with the deadline counted from now and the API key
// as bearer metadata. The gRPC status as absl::Status on failure.
template <typename Stub, typename Request, typename Response>
absl::StatusOr<Response> UnaryCall(const ClientOptions& options, Stub& stub,
                                   grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&, Response*),
                                   const Request& request) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + options.deadline));
  if (!options.api_key.empty()) context.AddMetadata("authorization", "Bearer " + options.api_key);
  Response response;
  absl::Status status = FromGrpcStatus((stub.*method)(&context, request, &response));
  if (!status.ok()) return status;
  return response;
}

}  // namespace edgepass::client::internal

#endif  // EDGEPASS_CLIENT_LIB_UNARY_CALL_INTERNAL_H_
