// The validator state as one immutable, memory-mappable file: what the sidecar
// publishes (--module-state) for the nginx module, whose workers map the same
// file read-only and so share one copy of a million revoked sessions.
//
//   std::string bytes = SerializeModuleState(version, keyring, revoked);
//   ... written atomically (files::WriteFileAtomically), mapped by the reader ...
//   absl::StatusOr<ModuleState> state = ParseModuleState(mapped_bytes);
//   core::Validate(request, state->keyring, state->revoked, now);
//
// Layout (native byte order, little-endian on every platform we ship):
//   0   char[8]  magic "EPMODST\0"
//   8   uint32   format version (kModuleStateFormatVersion; a reader of the
//                other byte order sees a different number and refuses)
//   12  uint32   core::kRevocationLayoutVersion
//   16  uint64   edge-sync state version
//   24  uint64   keyring offset    32 uint64 keyring length  (core::KeyringToJson)
//   40  uint64   arena offset      48 uint64 arena length    (RevocationView)
//   56  uint64   slots offset (8-aligned)  64 uint64 slot count
//   72  uint64   revoked entry count
//   80  uint64   file length
//   88  (header end; sections follow in the order keyring, arena, slots)
// The file holds the signing keys: keep it 0600, readable by nginx workers only.
//
// Next to it, "<state file>.overlay" (ModuleOverlayPath) may hold the
// revocation changes since that base file was written, so that a delta
// rewrites a few kilobytes instead of the whole table; the sidecar folds it
// into a new base file when it grows (client/validator/revoked_sessions.h).
// Same layout rules:
//   0   char[8]  magic "EPMODOV\0"
//   8   uint32   format version (kModuleStateFormatVersion)
//   12  uint32   core::kRevocationLayoutVersion
//   16  uint64   edge-sync state version of the newest change
//   24  uint64   base version: the version of the base file it amends
//   32  uint64   revoked entry count of base and overlay together
//   40  uint64   arena offset      48 uint64 arena length
//   56  uint64   slots offset (8-aligned)  64 uint64 slot count
//   72  uint64   overlay entry count
//   80  uint64   file length
//   88  (header end; arena, then slots: a core::RevocationView whose entries
//       override the base's, an entry expiring at INT64_MIN removing the id)
// A reader uses an overlay only when its base version is the base file's
// version; the writer replaces the base before it writes or removes the
// overlay, so a reader that opens the overlay first and the base second
// never pairs a newer overlay with an older base: a stale overlay (base
// version below the base file's) is ignored, the base being newer.
#ifndef EDGEPASS_CLIENT_VALIDATOR_MODULE_STATE_H_
#define EDGEPASS_CLIENT_VALIDATOR_MODULE_STATE_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "core/keyring.h"
#include "core/revocation.h"

namespace edgepass::client {

inline constexpr uint32_t kModuleStateFormatVersion = 1;
inline constexpr size_t kModuleStateHeaderBytes = 88;
// Keyrings larger than this are refused (a few hundred keys fit).
inline constexpr size_t kMaxModuleStateKeyringBytes = 1 << 20;

// The file's bytes for this state.
std::string SerializeModuleState(uint64_t version, const core::Keyring& keyring,
                                 const core::RevocationSet& revoked);

struct ModuleState {
  uint64_t version = 0;
  core::Keyring keyring;          // parsed (a copy: small)
  core::RevocationView revoked;   // views the bytes given to ParseModuleState
};

// Checks and reads a file's bytes, which must outlive the result and start
// 8-byte aligned (a mapping is). DATA_LOSS "module state: <what>" for a
// wrong magic, version or layout, a section out of bounds or overlapping the
// header, a length that does not match, a bad keyring or a damaged table
// (core::RevocationView::FromBytes); INVALID_ARGUMENT for unaligned bytes.
absl::StatusOr<ModuleState> ParseModuleState(absl::Span<const char> bytes);

// The overlay file's name for a state file.
std::string ModuleOverlayPath(absl::string_view state_path);

// The overlay file's bytes: `overlay` (core::RevocationSet::Put entries; a
// removal expires at absl::InfinitePast()) amending the base file of
// `base_version`; `revoked_total` is the count of base and overlay together.
std::string SerializeModuleOverlay(uint64_t version, uint64_t base_version, uint64_t revoked_total,
                                   const core::RevocationSet& overlay);

struct ModuleOverlay {
  uint64_t version = 0;
  uint64_t base_version = 0;
  uint64_t revoked_total = 0;
  core::RevocationView entries;  // views the bytes; lay over the base with WithOverlay
};

// As ParseModuleState, for an overlay file ("module state overlay: <what>").
absl::StatusOr<ModuleOverlay> ParseModuleOverlay(absl::Span<const char> bytes);

}  // namespace edgepass::client

#endif  // EDGEPASS_CLIENT_VALIDATOR_MODULE_STATE_H_
