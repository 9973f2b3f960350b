// The seam between where validator state comes from (static files now, the
// edge-sync subscriber later) and where it goes: the EdgeValidator that
// checks requests and the SnapshotStore that lets a restart validate at once.
//
//   StateSink sink(&validator, &snapshot_store);
//   absl::Status saved = sink.ApplyState(std::move(state_from_server));
//   if (!saved.ok()) LogAndCount(saved);   // the validator uses the state
//   anyway
#ifndef EDGEPASS_CLIENT_SIDECAR_STATE_SINK_H_
#define EDGEPASS_CLIENT_SIDECAR_STATE_SINK_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "client/sidecar/snapshot_store.h"
#include "client/sidecar/validator_state.h"
#include "client/validator/edge_validator.h"

namespace edgepass::sidecar {

class StateSink {
 public:
  // When ApplyState's steps ended, and how each write went, so a caller can
  // name each failure on its own (the status returned names both at once).
  // The two writes are all that can fail: ApplyState returns OK exactly when
  // both statuses here are OK.
  struct Timing {
    absl::Time applied_at;  // the validator checks against the new state
    absl::Time published_at;  // the module state file is written (or failed)
    absl::Time saved_at;    // the snapshot file is written (or failed)
    // The module state file's write (OK without one). Unlike a later
    // module_state_pending(), not changed by a retry that succeeded since.
    absl::Status module_state;
    absl::Status snapshot;  // the snapshot's save (OK without a store)
  };

  // `validator` must outlive the sink; `store` may be null (nothing persisted).
  StateSink(client::EdgeValidator* validator, SnapshotStore* store)
      : validator_(validator), store_(store) {}

  // Swaps `state` into the validator, which checks against it from then on,
  // then persists it (when there is a store): new keys and revocations take
  // effect without waiting for the disk, and the state replaced is freed
  // before the file is written (a million-entry set and its file text are
  // never held together with the previous set). A failed save is returned
  // (the previous snapshot file stays intact); the state is applied
  // regardless. Thread-safe; calls are serialized. `timing` may be null.
  absl::Status ApplyState(ValidatorState state, Timing* timing = nullptr);

  // Also publish every applied state, before the snapshot is saved, as the
  // nginx module's state file (client/validator/module_state.h), replaced
  // atomically (temporary file, fsync, rename; mode 0600) so readers that
  // mapped the previous one keep it intact. A state that shares its base set
  // with the last one published (an edge-sync delta) rewrites only the small
  // overlay file next to it ("<path>.overlay"); a new base (a snapshot, an
  // overlay folded in, a new keyring) rewrites the state file and removes
  // the overlay. A failed write is returned like a failed save, the previous
  // file staying (when both fail, one status names both, the write's code
  // first; Timing has each on its own). Call before the first ApplyState.
  //
  // A state with a new keyring returns only kModuleStateSettle after its file
  // was written, so that the acknowledgement the edge-sync client sends next
  // (which lets the server promote a key) comes once every worker has looked
  // at the file (each looks every 50 ms): a token signed with a key just
  // promoted never meets a worker that does not know the key yet.
  void set_module_state_file(std::string path) { module_state_file_ = std::move(path); }
  static constexpr absl::Duration kModuleStateSettle = absl::Milliseconds(120);

  // Writes again the module state of the last applied state when writing it
  // failed (a directory not mounted yet, a full disk): true when it is now
  // written, false when nothing was pending, the error when it failed again.
  // The sidecar calls it every second, so that neither a static keyring
  // (applied once) nor a quiet fleet leaves nginx without the state. A new
  // keyring written returns only kModuleStateSettle later, as ApplyState.
  // `written`, when not null, gets the version written (true only).
  absl::StatusOr<bool> RetryModuleState(uint64_t* written = nullptr);
  // True while the last applied state is not in the module state file
  // (its write failed and no retry has succeeded yet): not to be
  // acknowledged, nginx's workers do not hold it.
  bool module_state_pending() const {
    absl::MutexLock lock(&mu_);
    return unpublished_.has_value();
  }

  // True once a state with at least one key has been applied and, with a
  // module state file, a state has been published there (nginx's workers
  // refuse everything with 503 until then).
  bool ready() const { return ready_.load(std::memory_order_acquire); }
  uint64_t version() const { return version_.load(std::memory_order_acquire); }
  size_t revoked_count() const {
    return revoked_count_.load(std::memory_order_acquire);
  }
  // Keys in the last applied keyring.
  size_t key_count() const {
    return key_count_.load(std::memory_order_acquire);
  }

 private:
  client::EdgeValidator* const validator_;
  SnapshotStore* const store_;
  std::string module_state_file_;
  // WriteModuleState, then records the keyring the file holds; *new_keyring
  // says whether it differs from the one written before. Errors say
  // "module state: ".
  absl::Status PublishModuleState(const ValidatorState& state, bool* new_keyring)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Writes the module's state file or its overlay for `state`.
  absl::Status WriteModuleState(const ValidatorState& state) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void UpdateReady(bool has_keys) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  std::string published_fingerprint_;  // keyring of the last file written
  size_t published_keys_ = 0;
  // The base set the module's state file holds, and its version; null when
  // the next publish must write the whole file.
  std::shared_ptr<const core::RevocationSet> published_base_;
  uint64_t published_base_version_ = 0;
  bool module_published_ = false;  // a module state file was written once
  // The last applied state when its module state could not be written.
  std::optional<ValidatorState> unpublished_;
  mutable absl::Mutex mu_;
  std::atomic<bool> ready_{false};
  std::atomic<uint64_t> version_{0};
  std::atomic<size_t> revoked_count_{0};
  std::atomic<size_t> key_count_{0};
};

}  // namespace edgepass::sidecar

#endif  // EDGEPASS_CLIENT_SIDECAR_STATE_SINK_H_
