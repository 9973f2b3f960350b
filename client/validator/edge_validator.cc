#include "client/validator/edge_validator.h"

#include <utility>

namespace edgepass::client {

EdgeValidator::EdgeValidator(core::Keyring keys, core::RevocationSet revoked,
                             core::ValidateOptions options)
    : options_(options),
      snapshot_(std::make_shared<const Snapshot>(Snapshot{std::move(keys), std::move(revoked)})) {}

std::shared_ptr<const EdgeValidator::Snapshot> EdgeValidator::snapshot() const {
  absl::ReaderMutexLock lock(&mu_);
  return snapshot_;
}

core::Decision EdgeValidator::Check(const core::EdgeRequest& request, absl::Time now) const {
  const std::shared_ptr<const Snapshot> s = snapshot();
  return core::Validate(request, s->keys, s->revoked, now, options_);
}

void EdgeValidator::SetKeyring(core::Keyring keys) {
  absl::MutexLock lock(&mu_);
  snapshot_ = std::make_shared<const Snapshot>(Snapshot{std::move(keys), snapshot_->revoked, snapshot_->version});
}

void EdgeValidator::SetRevocations(core::RevocationSet revoked) {
  absl::MutexLock lock(&mu_);
  snapshot_ = std::make_shared<const Snapshot>(Snapshot{snapshot_->keys, std::move(revoked), snapshot_->version});
}

void EdgeValidator::SetState(uint64_t version, core::Keyring keys, core::RevocationSet revoked) {
  auto next = std::make_shared<const Snapshot>(Snapshot{std::move(keys), std::move(revoked), version});
  absl::MutexLock lock(&mu_);
  snapshot_ = std::move(next);
}

uint64_t EdgeValidator::version() const { return snapshot()->version; }

}  // namespace edgepass::client
