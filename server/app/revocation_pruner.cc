#include "server/app/revocation_pruner.h"

#include <utility>

#include "absl/time/clock.h"
#include "logging/json_log.h"

namespace edgepass::server {

absl::StatusOr<size_t> RevocationPruner::PruneOnce() {
  const absl::Time now = clock_();
  const absl::Time cutoff = now - options_.grace;
  const absl::Time started = absl::Now();  // real time, for the log only
  absl::StatusOr<size_t> dropped = store_->Prune(cutoff);
  if (!dropped.ok()) {
    logging::Warning("revocation_prune_failed").Str("error", dropped.status().ToString());
    return dropped;
  }
  if (*dropped > 0) {
    pruned_.fetch_add(*dropped, std::memory_order_relaxed);
    logging::Info("revocations_pruned")
        .Int("removed", static_cast<int64_t>(*dropped))
        .Str("expired_before", absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", cutoff, absl::UTCTimeZone()))
        .Int("took_ms", absl::ToInt64Milliseconds(absl::Now() - started));
  }
  return dropped;
}

void RevocationPruner::Start() {
  if (options_.interval <= absl::ZeroDuration() || thread_.joinable()) return;
  thread_ = std::thread([this] {
    absl::Duration wait = options_.first_delay;
    while (true) {
      {
        absl::MutexLock lock(&mu_);
        mu_.AwaitWithTimeout(absl::Condition(&stop_), wait);
        if (stop_) return;
      }
      // One replica walks the store per interval; the others skip their turn.
      absl::StatusOr<bool> mine = store_->ClaimPrune(options_.interval);
      if (!mine.ok()) {
        logging::Warning("revocation_prune_failed").Str("error", mine.status().ToString());
      } else if (*mine) {
        (void)PruneOnce();  // logged; a failed run is retried at the next interval
      }
      wait = options_.interval;
    }
  });
}

void RevocationPruner::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

}  // namespace edgepass::server
