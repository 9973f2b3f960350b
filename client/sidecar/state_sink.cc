#include "client/sidecar/state_sink.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/validator/module_state.h"
#include "files/atomic_file.h"

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
  // The module's file first: nginx workers refuse a revoked session only
  // once it is there, while the snapshot only serves the next restart.
  absl::Status published;
  if (!module_state_file_.empty()) {
    published = files::WriteFileAtomically(
        module_state_file_,
        client::SerializeModuleState(version, state.keyring, *state.revoked));
    if (!published.ok()) {
      published = absl::Status(published.code(),
                               absl::StrCat("module state: ", published.message()));
    }
  }
  const absl::Time published_at = absl::Now();
  if (timing != nullptr) timing->published_at = published_at;
  absl::Status saved =
      store_ != nullptr ? store_->Save(state) : absl::OkStatus();
  if (timing != nullptr) timing->saved_at = absl::Now();
  if (!module_state_file_.empty() && published.ok()) {
    const bool new_keyring =
        state.keyring_fingerprint != published_fingerprint_ || keys != published_keys_;
    published_fingerprint_ = state.keyring_fingerprint;
    published_keys_ = keys;
    if (new_keyring) absl::SleepFor(published_at + kModuleStateSettle - absl::Now());
  }
  return published.ok() ? saved : published;
}

}  // namespace edgepass::sidecar
