// Keeps the revoked-session list from growing forever: every interval, drops
// the entries whose expires_at lies more than a grace period in the past from
// the session store (SessionStore::Prune). Those no longer reach validators
// (the token they block has expired); the store logs each removal as a
// change, so the other replicas apply it as a delta. Every replica may run
// one; each interval, the one that claims it in the store
// (SessionStore::ClaimPrune) walks the store and the others skip their turn.
// Should two prune at once anyway, the stores re-check each entry inside
// their atomic write, so each entry is removed (and logged, and counted) once.
//
//   RevocationPruner pruner(&sessions, absl::Now, {.interval = absl::Hours(1)});
//   pruner.Start();  // first run after options.first_delay
//   uint64_t total = pruner.pruned();
#ifndef EDGEPASS_SERVER_APP_REVOCATION_PRUNER_H_
#define EDGEPASS_SERVER_APP_REVOCATION_PRUNER_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/state/session_store.h"

namespace edgepass::server {

struct RevocationPrunerOptions {
  // Between the end of one run and the start of the next; zero: Start()
  // runs nothing (PruneOnce() still works).
  absl::Duration interval = absl::Hours(1);
  // An entry is dropped once clock() - grace is past its expires_at: a
  // replica whose clock is behind by less than this still holds the entry
  // for as long as it believes the token is live.
  absl::Duration grace = absl::Hours(1);
  // From Start() to the first run (the server picks it at random within the
  // interval, so replicas started together do not prune together).
  absl::Duration first_delay = absl::ZeroDuration();
};

// Thread-safe; `store` outlives it. Runs on its own thread because a prune
// of a large Redis list takes seconds (an HSCAN walk of the hash), which
// must not hold up the reload of the revocation list (LiveState).
class RevocationPruner {
 public:
  RevocationPruner(SessionStore* store, std::function<absl::Time()> clock, RevocationPrunerOptions options)
      : store_(store), clock_(std::move(clock)), options_(options) {}
  ~RevocationPruner() { Stop(); }
  RevocationPruner(const RevocationPruner&) = delete;
  RevocationPruner& operator=(const RevocationPruner&) = delete;

  // One prune now: drops entries with expires_at before clock() - grace.
  // Returns how many this call dropped (added to pruned(); logged as
  // "revocations_pruned" when not 0), or the store's error (UNAVAILABLE
  // while it cannot be reached; logged as "revocation_prune_failed", and the
  // next run retries).
  absl::StatusOr<size_t> PruneOnce();

  // Runs PruneOnce() after first_delay, then every interval, until Stop(),
  // each time the store grants this replica the claim for the interval (a
  // claim that fails is logged as "revocation_prune_failed" and that run
  // skipped). Does nothing when the interval is zero.
  void Start();
  // Waits for a run in progress to finish. Idempotent.
  void Stop();

  // Entries this replica's runs dropped (entries another replica dropped
  // first are not counted here).
  uint64_t pruned() const { return pruned_.load(std::memory_order_relaxed); }

 private:
  SessionStore* const store_;
  const std::function<absl::Time()> clock_;
  const RevocationPrunerOptions options_;
  std::atomic<uint64_t> pruned_{0};
  absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace edgepass::server

#endif  // EDGEPASS_SERVER_APP_REVOCATION_PRUNER_H_
