#include "server/adapters/cached_keyring_source.h"

#include <utility>

namespace edgepass::server {

CachedKeyringSource::CachedKeyringSource(SecretStore& store, ChangeFeed* feed,
                                         CachedKeyringSourceOptions options)
    : store_(store),
      options_(std::move(options)),
      invalidations_(std::make_shared<std::atomic<uint64_t>>(0)) {
  if (feed != nullptr) {
    feed->Subscribe([invalidations = invalidations_](ChangeKind kind) {
      if (kind == ChangeKind::kKeyring) invalidations->fetch_add(1, std::memory_order_relaxed);
    });
  }
}

absl::StatusOr<std::shared_ptr<const core::Keyring>> CachedKeyringSource::Current() {
  const absl::Time now = options_.clock();
  const uint64_t invalidations = invalidations_->load(std::memory_order_relaxed);
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
  }

  absl::StatusOr<core::Keyring> keys = store_.ReadKeyring();

  absl::MutexLock lock(&mu_);
  refreshing_ = false;
  const absl::Time done = options_.clock();
  if (keys.ok()) {
    cached_ = std::make_shared<const core::Keyring>(*std::move(keys));
    fresh_until_ = now + options_.ttl;
    next_attempt_ = absl::InfinitePast();
    if (invalidations_->load(std::memory_order_relaxed) != invalidations) {
      fresh_until_ = absl::InfinitePast();
    }
  } else {
    last_error_ = keys.status();
    next_attempt_ = done + options_.retry_interval;
  }
  if (cached_ != nullptr) return cached_;
  return last_error_;
}

}  // namespace edgepass::server
