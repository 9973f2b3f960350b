// Key rotation (DESIGN.md, Key lifecycle): a new key is stored pending,
// published to every validator over the edge-sync stream, marked distributed
// once every live validator acknowledged the keyring holding it, then
// promoted to primary; the old primary stays as secondary (it still
// validates what it signed), the old secondary retires with a not_after past
// the longest token lifetime, and retired keys past not_after are dropped.
// The secrets store is the only record of where a rotation stands: each step
// is one write of the keyring computed from the stored one, so a rotation
// interrupted anywhere is resumed by whichever replica runs the next one.
// One replica rotates at a time (RotationLock; every write renews the lease
// first and stops if it was lost). No transport in here: see server/api.
//
//   KeyRotator rotator({.store = &secrets, .keys = &keyring_source, .lock = &lock,
//                       .directory = &directory, .random = &random, .clock = absl::Now}, options);
//   absl::StatusOr<RotationReport> r = rotator.Rotate();   // on demand
//   rotator.Start();                                       // on the schedule
#ifndef EDGEPASS_SERVER_APP_KEY_ROTATOR_H_
#define EDGEPASS_SERVER_APP_KEY_ROTATOR_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/keyring.h"
#include "core/random.h"
#include "server/app/rotation_schedule.h"
#include "server/state/keyring_source.h"
#include "server/state/rotation_coordination.h"
#include "server/state/secret_store.h"

namespace edgepass::server {

class ServerMetrics;

// The points a rotation passes; the test hook is called after each.
enum class RotationStep {
  kStoredPending,  // the new key is in the store as pending
  kDistributed,    // every live validator acknowledged it; stored as distributed
  kPromoted,       // it is the primary
};
absl::string_view RotationStepName(RotationStep step);

struct KeyRotatorDeps {
  SecretStore* store = nullptr;
  KeyringSource* keys = nullptr;  // Share()s each keyring written
  RotationLock* lock = nullptr;
  ValidatorDirectory* directory = nullptr;
  core::RandomSource* random = nullptr;  // thread-safe
  std::function<absl::Time()> clock;
  ServerMetrics* metrics = nullptr;  // may be null
};

struct KeyRotatorOptions {
  RotationSchedule schedule;  // default: on demand only
  // How long a new key may wait for validators' acknowledgements before the
  // rotation stops (the key stays pending; nothing is promoted).
  absl::Duration ack_deadline = absl::Seconds(60);
  // A validator counts as live when a replica reported it within this.
  absl::Duration validator_liveness = absl::Seconds(15);
  // A new key is not promoted before this much time after it was shared,
  // however few validators the directory lists: a validator that subscribed
  // just before is listed by then (replicas report at least every second).
  absl::Duration directory_settle = absl::Milliseconds(1500);
  // How long a retired key keeps validating: the longest token lifetime plus
  // the key-cache TTL (issuers may sign with the old primary until their
  // cache refreshes).
  absl::Duration retired_validity = absl::Hours(24) + absl::Minutes(5);
  absl::Duration lock_ttl = absl::Seconds(30);
  absl::Duration poll = absl::Milliseconds(100);
  // How often the scheduler looks whether a rotation is due or interrupted.
  absl::Duration check_interval = absl::Seconds(1);
  // After a failed scheduled rotation, the next attempt waits this long.
  absl::Duration retry_after = absl::Seconds(30);
  // A Rotate() caller waits at most this long for a rotation already running
  // on this replica (the schedule's check takes a store read), then is
  // refused ABORTED.
  absl::Duration caller_wait = absl::Seconds(5);
  // Test hook, called after each step (a crash test exits the process there).
  std::function<void(RotationStep)> after_step;
};

struct RotationReport {
  std::string new_primary;       // key id
  std::string previous_primary;  // "" when there was none
  bool resumed = false;          // an interrupted rotation was finished
  absl::Duration waited_for_acks;
  size_t validators = 0;  // live validators that acknowledged
};

// A rotation's state, as the status RPC and metrics show it.
struct RotationState {
  bool in_progress = false;
  std::string last_outcome;  // "" (none yet), "ok", or the lower-case status code
  std::string last_message;
  absl::Time last_attempt = absl::InfinitePast();
  absl::Time last_success = absl::InfinitePast();
  bool stalled = false;  // the last rotation stopped on its acknowledgement deadline
  std::vector<std::string> unacknowledged;  // validators that held it back
};

struct KeyInfo {
  std::string id;
  core::KeyState state = core::KeyState::kPrimary;
  absl::Time created_at;
  absl::Time not_after;  // InfiniteFuture: none
  bool foreign = false;  // another rotation's key (SMD's): validators accept it, nobody signs with it
};

struct KeyringStatus {
  std::vector<KeyInfo> keys;  // never the values
  RotationState rotation;
  std::string schedule;
  absl::Time next_due = absl::InfiniteFuture();  // interval schedules only
};

// Thread-safe; the dependencies outlive it.
class KeyRotator {
 public:
  KeyRotator(KeyRotatorDeps deps, KeyRotatorOptions options);
  ~KeyRotator();  // Stop()s

  // Runs one whole rotation now, or finishes an interrupted one (then
  // `resumed`); first waits up to options.caller_wait for one already
  // running on this replica (the schedule's, another caller's), else
  // ABORTED. ABORTED when another replica holds the rotation lock or the
  // lease was lost midway; DEADLINE_EXCEEDED naming the validators that did
  // not acknowledge (the key stays pending, nothing promoted); the store's
  // error (UNAVAILABLE, FAILED_PRECONDITION for a stored keyring that does
  // not parse) with nothing written.
  absl::StatusOr<RotationReport> Rotate();

  // Removes `key_id` at once (a compromised key): validators and issuers
  // drop it with the next keyring, and tokens it signed are refused from
  // then on, hence `confirm_tokens_refused` must be true
  // (FAILED_PRECONDITION otherwise). When it is the primary, a distributed
  // key is promoted, else a new key becomes primary without waiting for
  // validators. NOT_FOUND for an unknown id; ABORTED while another replica
  // rotates.
  absl::StatusOr<KeyringStatus> RevokeKey(absl::string_view key_id, bool confirm_tokens_refused);

  // Ids, states and dates of the stored keys (never values) and this
  // replica's view of rotations.
  absl::StatusOr<KeyringStatus> Status();
  RotationState state() const;

  // Starts the thread that rotates when the schedule says so and finishes
  // interrupted rotations (a pending or distributed key in the store whose
  // rotator's lease expired).
  void Start();
  void Stop();

 private:
  // A rotation is wanted: one is interrupted in `keyring`, it has no
  // primary, or the schedule says its primary is due.
  bool Wanted(const core::Keyring& keyring) const;
  // Rotate(); with `only_if_wanted` (the schedule's thread), nullopt without
  // writing anything when the stored keyring wants no rotation.
  absl::StatusOr<std::optional<RotationReport>> Attempt(bool only_if_wanted);
  absl::StatusOr<RotationReport> RotateLocked(const RotationLease& lease);
  absl::Status Write(const RotationLease& lease, const core::Keyring& keyring);
  absl::Status AwaitAcknowledgements(const RotationLease& lease, const core::Keyring& keyring,
                                     RotationReport* report);
  void Finish(const absl::Status& outcome, bool stalled);
  void Run();

  const KeyRotatorDeps deps_;
  const KeyRotatorOptions options_;

  mutable absl::Mutex mu_;
  RotationState state_ ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time next_try_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  std::thread thread_;
};

}  // namespace edgepass::server

#endif  // EDGEPASS_SERVER_APP_KEY_ROTATOR_H_
