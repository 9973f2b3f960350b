#include "server/state/single_flight_keyring.h"

#include <utility>

namespace edgepass::server {

SingleFlightKeyring::SingleFlightKeyring(ChangeFeed* feed, SingleFlightKeyringOptions options, Fetch fetch)
    : options_(std::move(options)),
      fetch_(std::move(fetch)),
      invalidations_(std::make_shared<std::atomic<uint64_t>>(0)) {
  if (feed != nullptr) {
    // Holds the counter, not this object: safe whichever is destroyed first.
    feed->Subscribe([invalidations = invalidations_](ChangeKind kind) {
      if (kind == ChangeKind::kKeyring) invalidations->fetch_add(1, std::memory_order_relaxed);
    });
  }
}

absl::StatusOr<std::shared_ptr<const core::Keyring>> SingleFlightKeyring::Current() {
  const absl::Time now = options_.clock();
  const uint64_t invalidations = invalidations_->load(std::memory_order_relaxed);
  {
    // The common case, fresh and not invalidated, under a reader lock: the
    // issuing threads read it on every call and must not queue behind each
    // other.
    absl::ReaderMutexLock lock(&mu_);
    if (cached_ != nullptr && now < fresh_until_ && invalidations == seen_invalidations_) return cached_;
  }
  bool have_cached = false;
  uint64_t sets_before = 0;
  {
    absl::MutexLock lock(&mu_);
    if (invalidations != seen_invalidations_) {
      seen_invalidations_ = invalidations;
      fresh_until_ = absl::InfinitePast();
      next_attempt_ = absl::InfinitePast();
    }
    if (cached_ != nullptr && now < fresh_until_) return cached_;
    if (refreshing_) {
      if (cached_ != nullptr) return cached_;
      mu_.AwaitWithTimeout(absl::Condition(
                               +[](bool* refreshing) { return !*refreshing; }, &refreshing_),
                           options_.first_wait);
      if (cached_ != nullptr) return cached_;
      return refreshing_ ? absl::UnavailableError("keyring: still loading from the secrets store")
                         : last_error_;
    }
    if (now < next_attempt_) {
      if (cached_ != nullptr) return cached_;
      return last_error_;
    }
    refreshing_ = true;
    have_cached = cached_ != nullptr;
    sets_before = sets_;
  }

  absl::StatusOr<std::optional<FetchedKeyring>> fetched = fetch_(now, have_cached);

  absl::MutexLock lock(&mu_);
  refreshing_ = false;
  if (sets_ != sets_before) {
    // Set() served a keyring just written while this fetch ran: what the
    // fetch read may be older.
  } else if (fetched.ok() && fetched->has_value()) {
    cached_ = std::move((*fetched)->keyring);
    fresh_until_ = (*fetched)->fresh_until;
    next_attempt_ = absl::InfinitePast();
    // A notification that arrived during the fetch may be newer than what
    // was read: look again on the next call.
    if (invalidations_->load(std::memory_order_relaxed) != invalidations) {
      fresh_until_ = absl::InfinitePast();
    }
  } else {
    if (!fetched.ok()) last_error_ = fetched.status();
    next_attempt_ = options_.clock() + options_.retry_interval;
  }
  if (cached_ != nullptr) return cached_;
  return last_error_;
}

void SingleFlightKeyring::Set(std::shared_ptr<const core::Keyring> keyring, absl::Time fresh_until) {
  absl::MutexLock lock(&mu_);
  cached_ = std::move(keyring);
  fresh_until_ = fresh_until;
  ++sets_;
}

}  // namespace edgepass::server
