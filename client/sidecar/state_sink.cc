#include "client/sidecar/state_sink.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
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
  validator_->SwapState(version, state.keyring, state.revoked);
  version_.store(version, std::memory_order_release);
  revoked_count_.store(revoked, std::memory_order_release);
  key_count_.store(keys, std::memory_order_release);
  if (timing != nullptr) timing->applied_at = absl::Now();
  // The module's file first: nginx workers refuse a revoked session only
  // once it is there, while the snapshot only serves the next restart.
  absl::Status published;
  bool new_keyring = false;
  if (!module_state_file_.empty()) {
    published = PublishModuleState(state, &new_keyring);
    if (published.ok()) {
      unpublished_.reset();
    } else {  // RetryModuleState() tries again; the set is shared, not copied
      unpublished_ = ValidatorState{.version = state.version,
                                    .keyring_fingerprint = state.keyring_fingerprint,
                                    .keyring = state.keyring,
                                    .revoked = state.revoked};
    }
  }
  UpdateReady(has_keys);
  const absl::Time published_at = absl::Now();
  if (timing != nullptr) {
    timing->published_at = published_at;
    timing->module_state = published;
  }
  absl::Status saved =
      store_ != nullptr ? store_->Save(state) : absl::OkStatus();
  if (timing != nullptr) {
    timing->saved_at = absl::Now();
    timing->snapshot = saved;
  }
  if (new_keyring) absl::SleepFor(published_at + kModuleStateSettle - absl::Now());
  if (published.ok()) return saved;
  if (saved.ok()) return published;
  // Both failed: one status naming both, the module's code first.
  return absl::Status(published.code(), absl::StrCat(published.message(), "; and ", saved.message()));
}

absl::StatusOr<bool> StateSink::RetryModuleState(uint64_t* written) {
  absl::MutexLock lock(&mu_);
  if (!unpublished_.has_value()) return false;
  bool new_keyring = false;
  if (absl::Status published = PublishModuleState(*unpublished_, &new_keyring); !published.ok()) {
    return published;
  }
  const bool has_keys = !unpublished_->keyring.keys().empty();
  if (written != nullptr) *written = unpublished_->version;
  unpublished_.reset();
  UpdateReady(has_keys);
  // As in ApplyState: whoever acknowledges next does so once every worker
  // has looked at the file (module_state_pending() waits on the lock).
  if (new_keyring) absl::SleepFor(kModuleStateSettle);
  return true;
}

void StateSink::UpdateReady(bool has_keys) {
  // With the module, nginx can check nothing until a file is there; once
  // one is, a failed write leaves nginx the last one.
  module_published_ = module_published_ || (!module_state_file_.empty() && !unpublished_.has_value());
  ready_.store(has_keys && (module_state_file_.empty() || module_published_), std::memory_order_release);
}

absl::Status StateSink::PublishModuleState(const ValidatorState& state, bool* new_keyring) {
  absl::Status written = WriteModuleState(state);
  if (!written.ok()) return absl::Status(written.code(), absl::StrCat("module state: ", written.message()));
  *new_keyring = state.keyring_fingerprint != published_fingerprint_ ||
                 state.keyring.keys().size() != published_keys_;
  published_fingerprint_ = state.keyring_fingerprint;
  published_keys_ = state.keyring.keys().size();
  return absl::OkStatus();
}

absl::Status StateSink::WriteModuleState(const ValidatorState& state) {
  const std::string overlay_path = client::ModuleOverlayPath(module_state_file_);
  const client::RevokedSessions& revoked = *state.revoked;
  const bool same_keyring = published_base_ != nullptr &&
                            state.keyring_fingerprint == published_fingerprint_ &&
                            state.keyring.keys().size() == published_keys_;
  if (same_keyring && revoked.base() == published_base_) {
    // The base file holds this base (perhaps with an older overlay folded in:
    // the overlay's entries are final states, so laying them over it again
    // changes nothing): rewrite the small overlay only.
    return files::WriteFileAtomically(
        overlay_path, client::SerializeModuleOverlay(state.version, published_base_version_,
                                                     revoked.size(), revoked.overlay()),
        {.mode = 0600});
  }
  // A new base (a snapshot, a fold, a new keyring): the whole file, with any
  // overlay folded in, so that a worker that pairs the old overlay with the
  // new base (and ignores the overlay as stale) misses nothing. Then the
  // overlay goes.
  published_base_ = nullptr;
  absl::Status written;
  if (revoked.overlay().size() == 0) {
    written = files::WriteFileAtomically(
        module_state_file_,
        client::SerializeModuleState(state.version, state.keyring, *revoked.base()));
  } else {
    written = files::WriteFileAtomically(
        module_state_file_,
        client::SerializeModuleState(state.version, state.keyring, revoked.Compacted()));
  }
  if (!written.ok()) return written;
  if (::unlink(overlay_path.c_str()) != 0 && errno != ENOENT) {
    return absl::InternalError(absl::StrCat(overlay_path, ": unlink: ", std::strerror(errno)));
  }
  published_base_ = revoked.base();
  published_base_version_ = state.version;
  return absl::OkStatus();
}

}  // namespace edgepass::sidecar
