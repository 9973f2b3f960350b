#include "client/sidecar/state_sink.h"

#include <utility>

namespace edgepass::sidecar {

absl::Status StateSink::ApplyState(ValidatorState state, Timing* timing) {
  absl::MutexLock lock(&mu_);
  const size_t keys = state.keyring.keys().size();
  const bool has_keys = keys > 0;
  const uint64_t version = state.version;
  const size_t revoked = state.revoked->size();
  // The validator shares the set; `state` keeps its keyring for the save.
  validator_->SetState(version, state.keyring, state.revoked);
  version_.store(version, std::memory_order_release);
  revoked_count_.store(revoked, std::memory_order_release);
  key_count_.store(keys, std::memory_order_release);
  ready_.store(has_keys, std::memory_order_release);
  if (timing != nullptr) timing->applied_at = absl::Now();
  absl::Status saved =
      store_ != nullptr ? store_->Save(state) : absl::OkStatus();
  if (timing != nullptr) timing->saved_at = absl::Now();
  return saved;
}

}  // namespace edgepass::sidecar
