// Where revoked sessions are stored (DESIGN.md, Revocation): the data
// directory for the embedded default, Redis for a fleet. Validators receive the
// list compiled from these entries (core::CompileRevocationList).
//
//   EDGEPASS_RETURN_IF_ERROR(store.Put(entry));     // OK only once durable
//   absl::StatusOr<SessionList> all = store.List();
//   absl::StatusOr<SessionChanges> since = store.ChangesSince(all->version);
#ifndef EDGEPASS_SERVER_STATE_SESSION_STORE_H_
#define EDGEPASS_SERVER_STATE_SESSION_STORE_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "core/revocation_list.h"

namespace edgepass::server {

struct SessionList {
  std::vector<core::RevocationEntry> entries;  // in no particular order
  // Increases with every stored change (0 for a store never written).
  uint64_t version = 0;
};

// One page of stored entries in session id order (ListPage()).
struct SessionPage {
  std::vector<core::RevocationEntry> entries;  // session id order
  bool more = false;                           // entries follow the last one
  uint64_t version = 0;                        // read at this version
};

// Most entries one Report() call stores (a bulk report from log analysis).
inline constexpr size_t kMaxReportBatch = 1000;

// What Report() did with one entry.
enum class ReportOutcome {
  kStored,         // was not on the list; stored now
  kAlreadyManual,  // a MANUAL entry is kept: a report never demotes it
  kAlreadyAuto,    // already reported: kept as it was (never duplicated)
};

struct ReportResult {
  // One per reported entry, in order; `entries[i]` is what is stored for it
  // (the existing entry unless kStored).
  std::vector<ReportOutcome> outcomes;
  std::vector<core::RevocationEntry> entries;
  // The store's version after the call: one bump for the whole batch, none
  // when nothing was stored.
  uint64_t version = 0;
};

// One stored change, as ChangesSince() returns it.
struct SessionChange {
  uint64_t version = 0;  // the version the change was stored at
  std::string session_id;
  std::optional<core::RevocationEntry> entry;  // the new entry; nullopt: removed
  // With an entry: the store did not hold this session before (set by
  // stores that report SessionChanges::stored_count, so a replica can keep
  // its own count of stored entries without holding expired ones).
  bool created = false;
};

struct SessionChanges {
  // The store no longer holds every change after the asked version (or the
  // asked version is not one of its own): load everything with List().
  bool too_old = false;
  uint64_t version = 0;  // the store's version these bring the caller to
  // Oldest first; every change of every version in (since, version].
  std::vector<SessionChange> changes;
  // How many entries the store holds at `version`, read in the same atomic
  // step, when the store can tell cheaply (nullopt otherwise). A replica that
  // applied these compares it with its own count to find drift (a change
  // that bypassed the log, e.g. a hand edit) and then loads everything.
  std::optional<size_t> stored_count;
};

// What a streamed full load (SessionStore::Load) brought the caller to.
struct SessionLoad {
  uint64_t version = 0;
  size_t count = 0;  // entries stored at `version`
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

  // Stores the AUTO entries of a bulk report atomically (all or none) with
  // one version bump, as one conditional write inside the store: an entry
  // whose session is already on the list (MANUAL or AUTO) is left as it is,
  // so a report never demotes a MANUAL entry and a repeated report never
  // duplicates one, whatever runs concurrently. At most kMaxReportBatch
  // entries (INVALID_ARGUMENT beyond). OK only once durably stored.
  virtual absl::StatusOr<ReportResult> Report(absl::Span<const core::RevocationEntry> entries) = 0;

  // Every stored entry. UNAVAILABLE when the store cannot be reached.
  virtual absl::StatusOr<SessionList> List() = 0;

  // The stored entries whose session id sorts after `after` ("": from the
  // first), in session id order, at most `max`, read at one version.
  // UNAVAILABLE when the store cannot be reached. The default sorts what
  // List() returns; a store with an ordered index reads only the page.
  virtual absl::StatusOr<SessionPage> ListPage(absl::string_view after, size_t max) {
    absl::StatusOr<SessionList> list = List();
    if (!list.ok()) return list.status();
    std::vector<core::RevocationEntry*> rest;
    for (core::RevocationEntry& e : list->entries) {
      if (e.session_id > after) rest.push_back(&e);
    }
    const auto by_id = [](const auto* a, const auto* b) { return a->session_id < b->session_id; };
    const size_t n = std::min(rest.size(), max);
    std::partial_sort(rest.begin(), rest.begin() + static_cast<ptrdiff_t>(n), rest.end(), by_id);
    SessionPage page{.more = rest.size() > n, .version = list->version};
    page.entries.reserve(n);
    for (size_t i = 0; i < n; ++i) page.entries.push_back(std::move(*rest[i]));
    return page;
  }

  // A full load without the whole list in memory at once: calls `visit`
  // with stored changes, oldest first (a put: `entry` set; a removal: null)
  // such that applying them in order leaves exactly List()'s entries, and
  // returns the version they bring the caller to and how many entries are
  // stored at it. `visit` must not call the
  // store. The default visits List()'s entries; a store that can stream
  // its contents overrides it.
  using LoadVisitor = absl::FunctionRef<void(absl::string_view session_id, const core::RevocationEntry* entry)>;
  virtual absl::StatusOr<SessionLoad> Load(LoadVisitor visit) {
    absl::StatusOr<SessionList> list = List();
    if (!list.ok()) return list.status();
    for (const core::RevocationEntry& e : list->entries) visit(e.session_id, &e);
    return SessionLoad{.version = list->version, .count = list->entries.size()};
  }

  // The changes stored after `version` (what a replica at `version` has
  // not applied), or too_old when the store no longer keeps all of them.
  // The default (a store without a change log) always says too_old.
  virtual absl::StatusOr<SessionChanges> ChangesSince(uint64_t /*version*/) {
    SessionChanges out{.too_old = true};
    return out;
  }

  // Drops entries whose expires_at is before `cutoff` (housekeeping; they no
  // longer reach validators anyway), each logged as a removal like Remove()
  // so replicas apply it as a delta. Returns how many were dropped.
  virtual absl::StatusOr<size_t> Prune(absl::Time cutoff) = 0;

  // Claims the prune for the next `period` across the replicas sharing
  // this store: true when no replica claimed it within that time (the
  // caller prunes), false when one did (the caller skips its turn). The
  // default, for a store one server owns, always says true.
  virtual absl::StatusOr<bool> ClaimPrune(absl::Duration /*period*/) { return true; }
};

}  // namespace edgepass::server

#endif  // EDGEPASS_SERVER_STATE_SESSION_STORE_H_
