#include "client/validator/edge_validator.h"

#include <utility>

namespace edgepass::client {
namespace {

std::shared_ptr<const RevokedSessions> Share(core::RevocationSet revoked) {
  return RevokedSessions::Share(std::move(revoked));
}

}  // namespace

EdgeValidator::EdgeValidator(core::Keyring keys, core::RevocationSet revoked,
                             core::ValidateOptions options)
    : options_(options),
      snapshot_(std::make_shared<const Snapshot>(Snapshot{std::move(keys), Share(std::move(revoked))})) {}

std::shared_ptr<const EdgeValidator::Snapshot> EdgeValidator::snapshot() const {
  absl::ReaderMutexLock lock(&mu_);
  return snapshot_;
}

core::Decision EdgeValidator::Check(const core::EdgeRequest& request, absl::Time now) const {
  const std::shared_ptr<const Snapshot> s = snapshot();
  return core::Validate(request, s->keys, s->revoked->view(), now, options_);
}

void EdgeValidator::SetKeyring(core::Keyring keys) {
  absl::MutexLock lock(&mu_);
  snapshot_ = std::make_shared<const Snapshot>(Snapshot{std::move(keys), snapshot_->revoked, snapshot_->version});
}

void EdgeValidator::SetRevocations(core::RevocationSet revoked) {
  std::shared_ptr<const RevokedSessions> shared = Share(std::move(revoked));
  absl::MutexLock lock(&mu_);
  snapshot_ = std::make_shared<const Snapshot>(Snapshot{snapshot_->keys, std::move(shared), snapshot_->version});
}

void EdgeValidator::SetState(uint64_t version, core::Keyring keys, core::RevocationSet revoked) {
  SwapState(version, std::move(keys), Share(std::move(revoked)));
}

void EdgeValidator::SetState(uint64_t version, core::Keyring keys,
                             std::shared_ptr<const core::RevocationSet> revoked) {
  SwapState(version, std::move(keys),
            revoked == nullptr ? RevokedSessions::Empty()
                              : std::make_shared<const RevokedSessions>(std::move(revoked)));
}

void EdgeValidator::SwapState(uint64_t version, core::Keyring keys,
                              std::shared_ptr<const RevokedSessions> revoked) {
  if (revoked == nullptr) revoked = RevokedSessions::Empty();
  std::shared_ptr<const Snapshot> previous =
      std::make_shared<const Snapshot>(Snapshot{std::move(keys), std::move(revoked), version});
  {
    absl::MutexLock lock(&mu_);
    snapshot_.swap(previous);
  }
  // `previous` (maybe the last owner of a large set) is freed here, not under mu_.
}

uint64_t EdgeValidator::version() const { return snapshot()->version; }

}  // namespace edgepass::client
