// C++ client for the operator's side of edgepass's EdgeSyncService: which
// validators stream from a replica and the version each holds
// (`edgepass validators list`). Validators themselves subscribe through
// client/sidecar/edge_sync_client.h.
//
//   edgepass::client::ValidatorsClient fleet({.address = "localhost:50051", .api_key = key});
//   absl::StatusOr<v1::ListValidatorsResponse> list = fleet.ListValidators();
#ifndef EDGEPASS_CLIENT_LIB_VALIDATORS_CLIENT_H_
#define EDGEPASS_CLIENT_LIB_VALIDATORS_CLIENT_H_

#include <memory>

#include "absl/status/statusor.h"
#include "client/lib/playback_client.h"
#include "edgepass/v1/edge_sync.pb.h"

namespace edgepass::client {

// One channel to one replica; thread-safe. The API key needs scope
// "edge-sync".
class ValidatorsClient {
 public:
  explicit ValidatorsClient(ClientOptions options);
  ~ValidatorsClient();
  ValidatorsClient(const ValidatorsClient&) = delete;
  ValidatorsClient& operator=(const ValidatorsClient&) = delete;

  // The validators connected to the replica at options.address.
  absl::StatusOr<v1::ListValidatorsResponse> ListValidators();

 private:
  class Stub;
  ClientOptions options_;
  std::unique_ptr<Stub> stub_;
};

}  // namespace edgepass::client

#endif  // EDGEPASS_CLIENT_LIB_VALIDATORS_CLIENT_H_
