// The rotation lock and validator directory of a fleet, in Redis.
//
//   RedisRotationLock lock(*redis);           // "<prefix>rotation:lock", fence "<prefix>rotation:fence"
//   RedisValidatorDirectory directory(*redis);  // hash "<prefix>validators"
#ifndef EDGEPASS_SERVER_ADAPTERS_REDIS_REDIS_ROTATION_H_
#define EDGEPASS_SERVER_ADAPTERS_REDIS_REDIS_ROTATION_H_

#include <string>
#include <vector>

#include "server/adapters/redis/redis_client.h"
#include "server/state/rotation_coordination.h"

namespace edgepass::server {

// Thread-safe. The lock is one key holding the fence of its lease, set with
// PX ttl only when absent; the fence comes from INCR of a counter that is
// never reset. Renew and Release compare the stored fence in a script, so
// only the current lease extends or frees the lock.
class RedisRotationLock : public RotationLock {
 public:
  explicit RedisRotationLock(RedisClient& redis);
  absl::StatusOr<std::optional<RotationLease>> Acquire(absl::Duration ttl) override;
  absl::Status Renew(const RotationLease& lease, absl::Duration ttl) override;
  void Release(const RotationLease& lease) override;

 private:
  RedisClient& redis_;
  const std::string lock_key_;
  const std::string fence_key_;
};

// Thread-safe. One hash field per validator id holding
// "<seen unix ms> <acked version> <replica> <fingerprint>"; List() drops the
// fields not reported after `seen_after`.
class RedisValidatorDirectory : public ValidatorDirectory {
 public:
  explicit RedisValidatorDirectory(RedisClient& redis);
  absl::Status Publish(absl::string_view replica, const std::vector<ValidatorAck>& validators) override;
  absl::Status Forget(absl::string_view replica, const std::vector<std::string>& validator_ids) override;
  absl::StatusOr<std::vector<ValidatorAck>> List(absl::Time seen_after) override;

 private:
  RedisClient& redis_;
  const std::string hash_key_;
};

}  // namespace edgepass::server

#endif  // EDGEPASS_SERVER_ADAPTERS_REDIS_REDIS_ROTATION_H_
