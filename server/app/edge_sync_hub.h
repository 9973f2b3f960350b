// The edge-sync hub: what each subscribed validator must be sent (the
// keyring and compiled revocation list as a snapshot, then one delta per
// change) and which validators are connected and what each acknowledged.
// No transport and no thread per stream: a transport opens a Subscription
// with a wake-up callback and pulls messages whenever it can write one; one
// hub thread watches the replica's edge snapshot and wakes every
// subscription when it changes. A slow stream is never queued more than one
// message: it gets one delta from what it was last sent to the newest, made
// from the replica's change records (LiveState::EdgeChangesBetween), so its
// cost is the size of the change, not of the list.
//
//   EdgeSyncHub hub(&live_state, absl::Now);
//   hub.Start();
//   auto sub = hub.Subscribe({.validator_id = "edge-1"}, [&] { /* try to write */ });
//   std::optional<EdgeMessage> m = (*sub)->Pull();  // nullopt: up to date
#ifndef EDGEPASS_SERVER_APP_EDGE_SYNC_HUB_H_
#define EDGEPASS_SERVER_APP_EDGE_SYNC_HUB_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/app/live_state.h"

namespace edgepass::server {

// Most validators one replica tracks (disconnected ones are forgotten first).
inline constexpr size_t kMaxTrackedValidators = 10000;
// Revoked ids per message of a snapshot, so a 1,000,000-entry list travels
// in messages far below the gRPC message size limit.
inline constexpr size_t kRevokedPerMessage = 20000;
inline constexpr size_t kMaxValidatorIdBytes = 128;
inline constexpr size_t kMaxFingerprintBytes = 64;

// One message of the stream (edgepass.v1.EdgeUpdate).
struct EdgeMessage {
  uint64_t version = 0;
  bool snapshot = false;  // part of a full snapshot (the validator replaces its state)
  bool complete = false;  // the last message of a snapshot, or a delta
  std::string keyring_fingerprint;
  // Set when the keyring changed (every key, with its state).
  std::shared_ptr<const core::Keyring> keyring;
  // The first message of a snapshot: how many revoked ids it carries in all.
  std::optional<uint64_t> snapshot_revoked_count;
  std::vector<EdgeRevoked> revoked_add;
  std::vector<std::string> revoked_remove;
};

struct ValidatorInfo {
  std::string validator_id;
  std::string peer;
  absl::Time connected_at = absl::InfiniteFuture();
  uint64_t sent_version = 0;
  uint64_t acked_version = 0;
  std::string acked_fingerprint;
  bool connected = false;
};

// Validators with an open stream, and how far their acknowledged versions
// are behind the replica's (one that has not acknowledged yet counts as at
// version 0). For metrics.
struct ValidatorSummary {
  size_t connected = 0;
  size_t behind = 0;     // connected with acked_version < edge_version
  uint64_t max_lag = 0;  // largest edge_version - acked_version among them
};

struct SubscribeRequest {
  std::string validator_id;
  std::string peer;  // for ListValidators
  // What the validator already holds (a resumed stream starts with a
  // marker instead of a snapshot when both match).
  uint64_t have_version = 0;
  std::string have_keyring_fingerprint;
};

class EdgeSyncHub;

// One open stream. Thread-safe.
class EdgeSubscription {
 public:
  // The next message to send, nullopt when the validator is up to date (the
  // wake-up callback is called when that changes). After the hub stops,
  // ended() is true and Pull() returns nullopt.
  std::optional<EdgeMessage> Pull();
  bool ended() const;

 private:
  friend class EdgeSyncHub;
  EdgeSubscription(EdgeSyncHub* hub, std::string validator_id, std::function<void()> wake)
      : hub_(hub), validator_id_(std::move(validator_id)), wake_(std::move(wake)) {}
  void Wake();
  void Close();  // no Wake() after it returns

  EdgeSyncHub* const hub_;
  const std::string validator_id_;
  absl::Mutex wake_mu_;
  std::function<void()> wake_ ABSL_GUARDED_BY(wake_mu_);
  mutable absl::Mutex mu_;
  // What the validator has been sent (the start of the next delta).
  std::shared_ptr<const EdgeSnapshot> sent_ ABSL_GUARDED_BY(mu_);
  // A snapshot being sent: how many revoked ids went out, and where the
  // next message starts; or the resume marker.
  std::shared_ptr<const EdgeSnapshot> sending_ ABSL_GUARDED_BY(mu_);
  size_t next_revoked_ ABSL_GUARDED_BY(mu_) = 0;
  EdgeRevokedSet::Cursor cursor_ ABSL_GUARDED_BY(mu_);
  bool marker_ ABSL_GUARDED_BY(mu_) = false;
};

// Thread-safe; `live` outlives it.
class EdgeSyncHub {
 public:
  using Clock = std::function<absl::Time()>;

  EdgeSyncHub(LiveState* live, Clock clock) : live_(live), clock_(std::move(clock)) {}
  ~EdgeSyncHub();  // Stop()s

  // Starts the thread that wakes subscriptions when the edge snapshot
  // changes. Call it before the first Subscribe().
  void Start();
  // Ends every subscription (before a server drain, so validators move to
  // another replica instead of waiting for the deadline).
  void Stop();

  // INVALID_ARGUMENT "validator_id: ..." for a bad id; RESOURCE_EXHAUSTED
  // when the replica tracks kMaxTrackedValidators connected validators;
  // UNAVAILABLE once stopped. `wake` is called (from any thread, never after
  // Unsubscribe returns) when Pull() has something new.
  absl::StatusOr<std::shared_ptr<EdgeSubscription>> Subscribe(const SubscribeRequest& request,
                                                              std::function<void()> wake);
  void Unsubscribe(const std::shared_ptr<EdgeSubscription>& subscription);

  // Called (on the caller's thread; keep it short) after every new
  // subscription, every accepted acknowledgement and every stream's end. Set it before the first
  // Subscribe().
  void SetValidatorListener(std::function<void()> listener) { validator_listener_ = std::move(listener); }

  // NOT_FOUND when the validator never subscribed to this replica.
  absl::Status Acknowledge(absl::string_view validator_id, uint64_t version, absl::string_view fingerprint);
  std::vector<ValidatorInfo> ListValidators() const;
  uint64_t current_version() const { return live_->edge()->version; }
  ValidatorSummary Summarize(uint64_t edge_version) const;

 private:
  friend class EdgeSubscription;
  struct Validator {
    std::string peer;
    absl::Time connected_at;
    uint64_t sent_version = 0;
    uint64_t acked_version = 0;
    std::string acked_fingerprint;
    int streams = 0;  // open subscriptions (a reconnect may overlap the old one)
  };
  // The delta from `from` to the newest snapshot, shared by every
  // subscription that was sent `from` (the common case: one computation per
  // change however many validators).
  struct SharedDelta {
    std::shared_ptr<const EdgeSnapshot> from, to;
    std::shared_ptr<const EdgeMessage> message;
  };
  void Run(std::shared_ptr<const EdgeSnapshot> seen);
  void SetSent(const std::string& validator_id, uint64_t version);
  std::shared_ptr<const EdgeMessage> DeltaFrom(const std::shared_ptr<const EdgeSnapshot>& from,
                                               const std::shared_ptr<const EdgeSnapshot>& to);

  LiveState* const live_;
  const Clock clock_;
  std::atomic<bool> stopping_{false};
  mutable absl::Mutex mu_;
  std::map<std::string, Validator> validators_ ABSL_GUARDED_BY(mu_);
  std::set<std::shared_ptr<EdgeSubscription>> subscriptions_ ABSL_GUARDED_BY(mu_);
  SharedDelta shared_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
  std::function<void()> validator_listener_;
};

// The validator id rule: 1 to kMaxValidatorIdBytes of [A-Za-z0-9_.:-].
absl::Status CheckValidatorId(absl::string_view id);

}  // namespace edgepass::server

#endif  // EDGEPASS_SERVER_APP_EDGE_SYNC_HUB_H_
