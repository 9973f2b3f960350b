// The rotation lock and validator directory of the embedded default: one
// process, so both live in memory.
//
//   LocalRotationLock lock(absl::Now);
//   LocalValidatorDirectory directory;
#ifndef EDGEPASS_SERVER_ADAPTERS_LOCAL_ROTATION_H_
#define EDGEPASS_SERVER_ADAPTERS_LOCAL_ROTATION_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/state/rotation_coordination.h"

namespace edgepass::server {

// Thread-safe.
class LocalRotationLock : public RotationLock {
 public:
  explicit LocalRotationLock(std::function<absl::Time()> clock) : clock_(std::move(clock)) {}
  absl::StatusOr<std::optional<RotationLease>> Acquire(absl::Duration ttl) override;
  absl::Status Renew(const RotationLease& lease, absl::Duration ttl) override;
  void Release(const RotationLease& lease) override;

 private:
  const std::function<absl::Time()> clock_;
  absl::Mutex mu_;
  uint64_t fence_ ABSL_GUARDED_BY(mu_) = 0;     // the newest lease granted
  bool held_ ABSL_GUARDED_BY(mu_) = false;      // by fence_
  absl::Time expires_ ABSL_GUARDED_BY(mu_);
};

// Thread-safe.
class LocalValidatorDirectory : public ValidatorDirectory {
 public:
  absl::Status Publish(absl::string_view replica, const std::vector<ValidatorAck>& validators) override;
  absl::Status Forget(absl::string_view replica, const std::vector<std::string>& validator_ids) override;
  absl::StatusOr<std::vector<ValidatorAck>> List(absl::Time seen_after) override;

 private:
  absl::Mutex mu_;
  std::map<std::string, ValidatorAck> by_id_ ABSL_GUARDED_BY(mu_);
};

}  // namespace edgepass::server

#endif  // EDGEPASS_SERVER_ADAPTERS_LOCAL_ROTATION_H_
