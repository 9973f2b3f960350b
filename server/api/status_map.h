// The one mapping from absl::Status to grpc::Status used by every service.
//
//   absl::StatusOr<Reply> r = DoWork(request);
//   if (!r.ok()) return ToGrpcStatus(r.status());
#ifndef EDGEPASS_SERVER_API_STATUS_MAP_H_
#define EDGEPASS_SERVER_API_STATUS_MAP_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace edgepass::server {

// Same code (the numeric values agree), same message — except INTERNAL,
// UNKNOWN and DATA_LOSS, whose details stay in the server log: the caller sees
// "internal error". Thread-safe.
grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace edgepass::server

#endif  // EDGEPASS_SERVER_API_STATUS_MAP_H_
