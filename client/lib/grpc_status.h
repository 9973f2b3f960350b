// Conversion of gRPC call results into absl::Status, so SDK callers see one
// error type.
//
//   grpc::Status s = stub->IssuePlayback(&ctx, req, &resp);
//   absl::Status status = edgepass::client::FromGrpcStatus(s);
//   // same code (numeric values agree), same message
#ifndef EDGEPASS_CLIENT_LIB_GRPC_STATUS_H_
#define EDGEPASS_CLIENT_LIB_GRPC_STATUS_H_

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace edgepass::client {

// Same code and message; the gRPC error details (binary) are dropped. An
// out-of-range code becomes UNKNOWN. Thread-safe.
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace edgepass::client

#endif  // EDGEPASS_CLIENT_LIB_GRPC_STATUS_H_
