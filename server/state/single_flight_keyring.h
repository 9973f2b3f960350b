// The in-process half of every keyring cache: serves the cached keyring while
// it is fresh, lets one thread at a time refresh it (the others keep getting
// the stale keyring, or wait up to first_wait when there is none yet), waits
// retry_interval after a failed refresh, and forgets freshness when the change
// feed reports a keyring change. Where a refresh reads from (the secrets
// store, a Redis copy) is the owner's `fetch`.
//
//   SingleFlightKeyring cache(&feed, {.clock = clock}, [&](absl::Time now, bool have_cached) {
//     return ReadFromSomewhere(now, have_cached); });
//   absl::StatusOr<std::shared_ptr<const core::Keyring>> k = cache.Current();
#ifndef EDGEPASS_SERVER_STATE_SINGLE_FLIGHT_KEYRING_H_
#define EDGEPASS_SERVER_STATE_SINGLE_FLIGHT_KEYRING_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "core/keyring.h"
#include "server/state/change_feed.h"

namespace edgepass::server {

struct FetchedKeyring {
  std::shared_ptr<const core::Keyring> keyring;
  absl::Time fresh_until;
};

struct SingleFlightKeyringOptions {
  // After a refresh that failed or brought nothing, no new one before this
  // much clock time (the cached keyring, if any, is served meanwhile).
  absl::Duration retry_interval = absl::Seconds(1);
  // Other threads wait this long for the first keyring.
  absl::Duration first_wait = absl::Seconds(5);
  // Time source of every freshness decision (tests pass a fake clock).
  std::function<absl::Time()> clock = [] { return absl::Now(); };
};

// Thread-safe.
class SingleFlightKeyring {
 public:
  // Called by one thread at a time, with the clock time of the call and
  // whether a keyring is cached. A keyring, nullopt (nothing new: keep
  // serving the cached one), or the error to report while nothing is cached.
  using Fetch =
      std::function<absl::StatusOr<std::optional<FetchedKeyring>>(absl::Time now, bool have_cached)>;

  // `feed` may be null. Its listener holds no reference to this object, so
  // either may be destroyed first.
  SingleFlightKeyring(ChangeFeed* feed, SingleFlightKeyringOptions options, Fetch fetch);

  // The cached keyring, refreshed first when stale (by this thread, unless
  // another is already at it). With nothing cached: the last fetch error, or
  // UNAVAILABLE while another thread's first fetch runs past first_wait.
  absl::StatusOr<std::shared_ptr<const core::Keyring>> Current();

  // The next Current() refreshes (a kKeyring notification does this too).
  void Invalidate() { invalidations_->fetch_add(1, std::memory_order_relaxed); }

  // Serves `keyring` from now on, fresh until `fresh_until` (after a rotation).
  // A fetch already under way when it is called is dropped: it may have read
  // the store before `keyring` was written there.
  void Set(std::shared_ptr<const core::Keyring> keyring, absl::Time fresh_until);

 private:
  const SingleFlightKeyringOptions options_;
  const Fetch fetch_;
  const std::shared_ptr<std::atomic<uint64_t>> invalidations_;

  absl::Mutex mu_;
  std::shared_ptr<const core::Keyring> cached_ ABSL_GUARDED_BY(mu_);
  absl::Time fresh_until_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  absl::Time next_attempt_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  uint64_t seen_invalidations_ ABSL_GUARDED_BY(mu_) = 0;
  bool refreshing_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t sets_ ABSL_GUARDED_BY(mu_) = 0;  // Set() calls
  absl::Status last_error_ ABSL_GUARDED_BY(mu_) = absl::UnavailableError("keyring: not loaded yet");
};

}  // namespace edgepass::server

#endif  // EDGEPASS_SERVER_STATE_SINGLE_FLIGHT_KEYRING_H_
