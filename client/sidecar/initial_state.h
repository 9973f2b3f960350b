// What edgepass-validator starts with, from its options: the static
// --keyring/--revoked files when given (they win), else the --snapshot file,
// else nothing until the edge-sync subscriber delivers.
//
//   absl::StatusOr<std::optional<ValidatorState>> start =
//       LoadInitialState(options, snapshot_store.get(), LogEvent);
//   if (!start.ok()) { std::cerr << start.status().message() << "\n"; return 2;
//   }
#ifndef EDGEPASS_CLIENT_SIDECAR_INITIAL_STATE_H_
#define EDGEPASS_CLIENT_SIDECAR_INITIAL_STATE_H_

#include <optional>

#include "absl/status/statusor.h"
#include "client/sidecar/sidecar_options.h"
#include "client/sidecar/sidecar_service.h"
#include "client/sidecar/snapshot_store.h"
#include "client/sidecar/validator_state.h"

namespace edgepass::sidecar {

// Static files: version 0, errors name the flag and file (INVALID_ARGUMENT or
// the I/O code). Snapshot (`store`, may be null): its state; when it is
// missing or damaged the sidecar may start empty (nullopt, with a warning
// line on `log` for a damaged one) only if options.servers can fill it,
// otherwise the error is returned (the damaged file is left untouched).
absl::StatusOr<std::optional<ValidatorState>> LoadInitialState(
    const SidecarOptions& options, const SnapshotStore* store,
    const LogSink& log);

}  // namespace edgepass::sidecar

#endif  // EDGEPASS_CLIENT_SIDECAR_INITIAL_STATE_H_
