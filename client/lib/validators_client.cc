#include "client/lib/validators_client.h"

#include <utility>

#include "client/lib/unary_call_internal.h"
#include "edgepass/v1/edge_sync.grpc.pb.h"

namespace edgepass::client {

using v1::EdgeSyncService;

class ValidatorsClient::Stub {
 public:
  explicit Stub(const ClientOptions& options) : stub_(EdgeSyncService::NewStub(internal::MakeChannel(options))) {}
  EdgeSyncService::Stub& get() { return *stub_; }

 private:
  std::unique_ptr<EdgeSyncService::Stub> stub_;
};

ValidatorsClient::ValidatorsClient(ClientOptions options)
    : options_(std::move(options)), stub_(std::make_unique<Stub>(options_)) {}

ValidatorsClient::~ValidatorsClient() = default;

absl::StatusOr<v1::ListValidatorsResponse> ValidatorsClient::ListValidators() {
  return internal::UnaryCall(options_, stub_->get(), &EdgeSyncService::Stub::ListValidators,
                             v1::ListValidatorsRequest());
}

}  // namespace edgepass::client
