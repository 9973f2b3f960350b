// What an edge validator holds — the keyring and the revoked sessions, tagged
// with the edge-sync version they came from — and its snapshot file format.
//
//   ValidatorState state{.version = 42, .keyring = *ParseKeyringJson(text)};
//   std::string file = SnapshotToJson(state);
//   absl::StatusOr<ValidatorState> back = ParseSnapshotJson(file);
#ifndef EDGEPASS_CLIENT_SIDECAR_VALIDATOR_STATE_H_
#define EDGEPASS_CLIENT_SIDECAR_VALIDATOR_STATE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "client/validator/revoked_sessions.h"
#include "core/keyring.h"
#include "core/revocation.h"

namespace edgepass::sidecar {

// The shared empty set ValidatorState starts with.
std::shared_ptr<const client::RevokedSessions> EmptyRevocationSet();

struct ValidatorState {
  uint64_t version = 0;  // edge-sync version; 0 for static sources
  // Names the keyring for resuming the edge-sync stream; empty when unknown.
  std::string keyring_fingerprint;
  core::Keyring keyring;
  // Never null. Shared, never copied: the edge-sync subscriber, the validator
  // and the snapshot writer hold one set of a million ids between them, and
  // a delta shares its base set with the version before (revoked_sessions.h).
  std::shared_ptr<const client::RevokedSessions> revoked = EmptyRevocationSet();
  // Set when this state is the one of version *delta_from with `changes`
  // applied to its revoked sessions, keyring and fingerprint unchanged: a
  // sink that holds that version persists only the changes.
  std::optional<uint64_t> delta_from;
  std::vector<client::RevocationChange> changes;
};

// The snapshot file:
//   {"format":"edgepass-validator-snapshot","format_version":1,"version":N,
//    "keyring_fingerprint":"...","keyring":<core::KeyringToJson>,
//    "revoked":[["session-id",EXPIRES_EPOCH_OR_NULL],...]}
// null expiry = revoked until removed. Written compactly, one entry per line.
std::string SnapshotToJson(const ValidatorState& state);

// Parses SnapshotToJson's format. DATA_LOSS "snapshot: <field>: ..." for
// anything else (truncated, not JSON, wrong format tag, bad keyring or
// entry), so a damaged file is told apart from a missing one.
absl::StatusOr<ValidatorState> ParseSnapshotJson(absl::string_view text);

}  // namespace edgepass::sidecar

#endif  // EDGEPASS_CLIENT_SIDECAR_VALIDATOR_STATE_H_
