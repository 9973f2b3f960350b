// Where a validator keeps its last state so that a restart validates at once,
// before any edge-sync server answers.
//
//   FileSnapshotStore store("/var/lib/edgepass/validator.snapshot");
//   absl::StatusOr<std::optional<ValidatorState>> last = store.Load();
//   EDGEPASS_RETURN_IF_ERROR(store.Save(state));
#ifndef EDGEPASS_CLIENT_SIDECAR_SNAPSHOT_STORE_H_
#define EDGEPASS_CLIENT_SIDECAR_SNAPSHOT_STORE_H_

#include <optional>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "client/sidecar/validator_state.h"

namespace edgepass::sidecar {

class SnapshotStore {
 public:
  virtual ~SnapshotStore() = default;
  // The saved state; nullopt when none was ever saved. DATA_LOSS when what is
  // stored is damaged; other codes for I/O errors. Never modifies the store.
  virtual absl::StatusOr<std::optional<ValidatorState>> Load() const = 0;
  // Replaces the saved state atomically: after a crash, Load() returns either
  // the previous state or this one. Thread-compatible (one writer).
  virtual absl::Status Save(const ValidatorState& state) = 0;
};

}  // namespace edgepass::sidecar

#endif  // EDGEPASS_CLIENT_SIDECAR_SNAPSHOT_STORE_H_
