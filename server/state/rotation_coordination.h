// What key rotation needs from the fleet (DESIGN.md, Key lifecycle): one
// rotation at a time, through a lease whose fencing token every write checks,
// and the directory of validators the replicas serve with the keyring each
// one acknowledged, so that a new key is promoted only once every live
// validator holds it.
//
//   EDGEPASS_ASSIGN_OR_RETURN(std::optional<RotationLease> lease, lock.Acquire(absl::Seconds(30)));
//   if (!lease) return;                                   // another replica rotates
//   EDGEPASS_RETURN_IF_ERROR(lock.Renew(*lease, ttl));    // before every write
//   lock.Release(*lease);
//
//   directory.Publish("replica-a", {{.validator_id = "edge-1", .keyring_fingerprint = fp, ...}});
//   absl::StatusOr<std::vector<ValidatorAck>> live = directory.List(now - absl::Seconds(10));
#ifndef EDGEPASS_SERVER_STATE_ROTATION_COORDINATION_H_
#define EDGEPASS_SERVER_STATE_ROTATION_COORDINATION_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace edgepass::server {

// The right to rotate until it expires. `fence` grows with every lease ever
// granted, so a holder that stalled past its expiry cannot pass for the
// newer one.
struct RotationLease {
  uint64_t fence = 0;
};

// Implementations are thread-safe.
class RotationLock {
 public:
  virtual ~RotationLock() = default;

  // A lease valid for `ttl`, or nullopt when another holder has one.
  // UNAVAILABLE when the lock cannot be reached.
  virtual absl::StatusOr<std::optional<RotationLease>> Acquire(absl::Duration ttl) = 0;

  // OK when `lease` still holds the lock, which then lasts `ttl` from now.
  // ABORTED "rotation lock lost (fence N)" when another lease replaced it or
  // it expired; UNAVAILABLE when the lock cannot be reached. Every write a
  // rotation makes is preceded by this check.
  virtual absl::Status Renew(const RotationLease& lease, absl::Duration ttl) = 0;

  // Gives the lock up if `lease` still holds it.
  virtual void Release(const RotationLease& lease) = 0;
};

// One validator as a replica last reported it.
struct ValidatorAck {
  std::string validator_id;
  std::string replica;              // the replica it streams from
  std::string keyring_fingerprint;  // the keyring it acknowledged ("" before any)
  uint64_t acked_version = 0;
  absl::Time seen_at = absl::InfinitePast();  // when the replica last reported it connected

  bool operator==(const ValidatorAck&) const = default;
};

// Implementations are thread-safe.
class ValidatorDirectory {
 public:
  virtual ~ValidatorDirectory() = default;

  // Records the validators with an open stream to `replica`, as of their
  // seen_at. UNAVAILABLE when the directory cannot be reached.
  virtual absl::Status Publish(absl::string_view replica, const std::vector<ValidatorAck>& validators) = 0;

  // Drops `validator_ids` that `replica` reported and no replica has
  // reported since (they disconnected from it), so a rotation does not wait
  // for them. UNAVAILABLE when the directory cannot be reached.
  virtual absl::Status Forget(absl::string_view replica, const std::vector<std::string>& validator_ids) = 0;

  // Every validator some replica reported after `seen_after`, one entry per
  // validator id (the newest report), ordered by id.
  virtual absl::StatusOr<std::vector<ValidatorAck>> List(absl::Time seen_after) = 0;
};

}  // namespace edgepass::server

#endif  // EDGEPASS_SERVER_STATE_ROTATION_COORDINATION_H_
