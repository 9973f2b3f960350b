// edgepass.v1.EdgeSyncService: streams the keyring and the compiled
// revocation list to edge validators (a snapshot, then one delta per change)
// and tracks which validators are connected and what each has acknowledged.
//
//   EdgeSyncServiceImpl edge_sync(&live_state, absl::Now);
//   builder.RegisterService(&edge_sync);
#ifndef EDGEPASS_SERVER_API_EDGE_SYNC_SERVICE_H_
#define EDGEPASS_SERVER_API_EDGE_SYNC_SERVICE_H_

#include <atomic>
#include <functional>
#include <map>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "edgepass/v1/edge_sync.grpc.pb.h"
#include "server/live_state.h"

namespace edgepass::server {

// How often a waiting stream checks whether its caller has gone.
inline constexpr absl::Duration kCancelPoll = absl::Milliseconds(500);
// Most validators one replica tracks (disconnected ones are forgotten first).
inline constexpr size_t kMaxTrackedValidators = 10000;

// Revoked ids per message of a snapshot, so a 1,000,000-entry list travels
// in messages far below the gRPC message size limit.
inline constexpr size_t kRevokedPerMessage = 20000;

// Thread-safe. Each Subscribe holds one server thread while it streams (the
// synchronous gRPC API); `live` must outlive it.
class EdgeSyncServiceImpl final : public v1::EdgeSyncService::Service {
 public:
  using Clock = std::function<absl::Time()>;

  EdgeSyncServiceImpl(LiveState* live, Clock clock) : live_(live), clock_(std::move(clock)) {}

  // INVALID_ARGUMENT "validator_id: ..." for a bad id. Ends with OK when the
  // caller cancels or the server shuts down.
  grpc::Status Subscribe(grpc::ServerContext* context, const v1::SubscribeRequest* request,
                         grpc::ServerWriter<v1::EdgeUpdate>* writer) override;
  // NOT_FOUND when the validator never subscribed to this replica.
  grpc::Status Acknowledge(grpc::ServerContext* context, const v1::AcknowledgeRequest* request,
                           v1::AcknowledgeResponse* response) override;
  grpc::Status ListValidators(grpc::ServerContext* context, const v1::ListValidatorsRequest* request,
                              v1::ListValidatorsResponse* response) override;

  // Validators with an open stream, and how far their acknowledged versions
  // are behind `edge_version` (a validator that has not acknowledged yet
  // counts as at version 0). For metrics; thread-safe.
  struct ValidatorSummary {
    size_t connected = 0;
    size_t behind = 0;     // connected with acked_version < edge_version
    uint64_t max_lag = 0;  // largest edge_version - acked_version among them
  };
  ValidatorSummary Summarize(uint64_t edge_version) const;

  // Ends every open stream within kCancelPoll (before a server drain, so
  // validators move to another replica instead of waiting for the deadline).
  void Stop() { stopping_.store(true); }

 private:
  struct Validator {
    std::string peer;
    absl::Time connected_at;
    uint64_t sent_version = 0;
    uint64_t acked_version = 0;
    std::string acked_fingerprint;
    int streams = 0;  // open Subscribe calls (a reconnect may overlap the old one)
  };

  LiveState* const live_;
  const Clock clock_;
  std::atomic<bool> stopping_{false};
  mutable absl::Mutex mu_;
  std::map<std::string, Validator> validators_ ABSL_GUARDED_BY(mu_);
};

}  // namespace edgepass::server

#endif  // EDGEPASS_SERVER_API_EDGE_SYNC_SERVICE_H_
