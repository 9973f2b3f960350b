// Where revoked sessions are stored (DESIGN.md, Revocation): the data
// directory for the embedded default, Redis for a fleet. Validators receive the
// list compiled from these entries (core::CompileRevocationList).
//
//   EDGEPASS_RETURN_IF_ERROR(store.Put(entry));     // OK only once durable
//   absl::StatusOr<SessionList> all = store.List();
#ifndef EDGEPASS_SERVER_STATE_SESSION_STORE_H_
#define EDGEPASS_SERVER_STATE_SESSION_STORE_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/revocation_list.h"

namespace edgepass::server {

struct SessionList {
  std::vector<core::RevocationEntry> entries;  // in no particular order
  // Increases with every stored change (0 for a store never written).
  uint64_t version = 0;
};

// Implementations are thread-safe and safe across replicas. Entries are
// validated by the caller (core::ValidateRevocationEntry).
class SessionStore {
 public:
  virtual ~SessionStore() = default;

  // Adds or replaces the entry for entry.session_id. Returns the new
  // version; OK only once durably stored; UNAVAILABLE (nothing stored) when
  // the store cannot be reached.
  virtual absl::StatusOr<uint64_t> Put(const core::RevocationEntry& entry) = 0;

  // Removes the entry (restores the session). NOT_FOUND when absent.
  virtual absl::StatusOr<uint64_t> Remove(absl::string_view session_id) = 0;

  // Every stored entry. UNAVAILABLE when the store cannot be reached.
  virtual absl::StatusOr<SessionList> List() = 0;

  // Drops entries whose expires_at is before `cutoff` (housekeeping; they no
  // longer reach validators anyway). Returns how many were dropped.
  virtual absl::StatusOr<size_t> Prune(absl::Time cutoff) = 0;
};

}  // namespace edgepass::server

#endif  // EDGEPASS_SERVER_STATE_SESSION_STORE_H_
