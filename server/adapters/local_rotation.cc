#include "server/adapters/local_rotation.h"

#include "absl/strings/str_cat.h"

namespace edgepass::server {

absl::StatusOr<std::optional<RotationLease>> LocalRotationLock::Acquire(absl::Duration ttl) {
  absl::MutexLock lock(&mu_);
  const absl::Time now = clock_();
  if (held_ && now < expires_) return std::nullopt;
  held_ = true;
  expires_ = now + ttl;
  return RotationLease{.fence = ++fence_};
}

absl::Status LocalRotationLock::Renew(const RotationLease& lease, absl::Duration ttl) {
  absl::MutexLock lock(&mu_);
  const absl::Time now = clock_();
  if (!held_ || lease.fence != fence_ || now >= expires_) {
    return absl::AbortedError(absl::StrCat("rotation lock lost (fence ", lease.fence, ")"));
  }
  expires_ = now + ttl;
  return absl::OkStatus();
}

void LocalRotationLock::Release(const RotationLease& lease) {
  absl::MutexLock lock(&mu_);
  if (held_ && lease.fence == fence_) held_ = false;
}

absl::Status LocalValidatorDirectory::Publish(absl::string_view replica,
                                              const std::vector<ValidatorAck>& validators) {
  absl::MutexLock lock(&mu_);
  for (const ValidatorAck& v : validators) {
    ValidatorAck& entry = by_id_[v.validator_id];
    if (v.seen_at < entry.seen_at) continue;
    entry = v;
    entry.replica = std::string(replica);
  }
  return absl::OkStatus();
}

absl::Status LocalValidatorDirectory::Forget(absl::string_view replica,
                                             const std::vector<std::string>& validator_ids) {
  absl::MutexLock lock(&mu_);
  for (const std::string& id : validator_ids) {
    auto it = by_id_.find(id);
    if (it != by_id_.end() && it->second.replica == replica) by_id_.erase(it);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<ValidatorAck>> LocalValidatorDirectory::List(absl::Time seen_after) {
  absl::MutexLock lock(&mu_);
  std::vector<ValidatorAck> out;
  for (auto it = by_id_.begin(); it != by_id_.end();) {
    if (it->second.seen_at > seen_after) {
      out.push_back(it->second);
      ++it;
    } else {
      it = by_id_.erase(it);  // gone quiet: forgotten
    }
  }
  return out;
}

}  // namespace edgepass::server
