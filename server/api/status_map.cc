#include "server/api/status_map.h"

#include <iostream>
#include <string>

namespace edgepass::server {

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  switch (status.code()) {
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kUnknown:
    case absl::StatusCode::kDataLoss:
      std::cerr << "edgepass-server: error: " << status << std::endl;
      return grpc::Status(static_cast<grpc::StatusCode>(status.code()), "internal error");
    default:
      return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                          std::string(status.message()));
  }
}

}  // namespace edgepass::server
