// KeyringSource for a fleet: an in-memory keyring per process, refreshed
// through a copy shared in Redis, so the secrets store is read about once per
// TTL for the whole fleet however many replicas and requests there are.
//
//   RedisKeyringCache keys(*redis, secret_store, &feed, {.ttl = absl::Minutes(5)});
//   absl::StatusOr<std::shared_ptr<const core::Keyring>> k = keys.Current();
//   EDGEPASS_RETURN_IF_ERROR(keys.Share(rotated));   // after a rotation wrote the store
#ifndef EDGEPASS_SERVER_ADAPTERS_REDIS_REDIS_KEYRING_CACHE_H_
#define EDGEPASS_SERVER_ADAPTERS_REDIS_REDIS_KEYRING_CACHE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "server/adapters/redis/redis_client.h"
#include "server/state/change_feed.h"
#include "server/state/keyring_source.h"
#include "server/state/secret_store.h"
#include "server/state/single_flight_keyring.h"

namespace edgepass::server {

struct RedisKeyringCacheOptions {
  // How long a keyring read from the secrets store is served (in process and
  // through the Redis copy) before it is read again.
  absl::Duration ttl = absl::Minutes(5);
  // Expiry of the fill lock (only matters when its holder dies mid-fill).
  absl::Duration lock_ttl = absl::Seconds(10);
  // With nothing cached yet and another replica filling the Redis copy: how
  // long to wait for it (polling) before UNAVAILABLE.
  absl::Duration fill_wait = absl::Seconds(2);
  // After a refresh that failed or found another replica filling, no new
  // attempt before this much clock time (the cached keyring is served).
  absl::Duration retry_interval = absl::Seconds(1);
  // Redis unreachable and nothing cached: the secrets store is read directly,
  // at most once per this much clock time.
  absl::Duration store_backoff = absl::Seconds(30);
  // Other threads of the process wait this long for the first keyring.
  absl::Duration first_wait = absl::Seconds(5);
  // Time source of every freshness decision (tests pass a fake clock).
  std::function<absl::Time()> clock = [] { return absl::Now(); };
};

// Thread-safe. Current() returns the in-memory keyring while it is fresh.
// When it is stale, exactly one thread of the process refreshes it (the
// others keep getting the stale keyring, or wait up to first_wait when there
// is none yet): it reads the Redis copy ("<prefix>keyring", stored with
// PX ttl, holding the time it was read from the store); when that copy is
// absent or older than ttl, the replica that wins the lock
// ("<prefix>keyring:lock", SET NX PX lock_ttl) reads the SecretStore and
// writes the copy, and the others use that copy. So the store is read at most
// once per ttl by the fleet (plus once per store_backoff per replica that
// starts while Redis is down). While Redis is unreachable the in-memory
// keyring keeps being served. A kKeyring notification on the feed makes the
// next Current() re-read the Redis copy (not the store).
//
// The Redis copy holds the signing keys: the Redis deployment must be as
// private as the secrets store (network policy, AUTH, no public exposure).
class RedisKeyringCache : public KeyringSource {
 public:
  // `redis` and `store` must outlive the cache; `feed` may be null. The
  // feed's listener holds no reference to the cache, so either may go first.
  RedisKeyringCache(RedisClient& redis, SecretStore& store, ChangeFeed* feed,
                    RedisKeyringCacheOptions options = {});

  // See KeyringSource. Errors (nothing cached yet): UNAVAILABLE when neither
  // Redis nor the store gave a keyring; the store's own error otherwise
  // (e.g. FAILED_PRECONDITION for a keyring that does not parse).
  absl::StatusOr<std::shared_ptr<const core::Keyring>> Current() override;

  // After a rotation stored `keyring` in the SecretStore: replaces the Redis
  // copy (fresh for ttl from now), serves it here at once and publishes
  // kKeyring so other replicas re-read the copy. UNAVAILABLE when the copy
  // could not be written (replicas then pick the keyring up from the store
  // when their copy expires).
  absl::Status Share(const core::Keyring& keyring) override;

  // The next Current() re-reads the Redis copy (ChangeFeed kKeyring does this).
  void Invalidate() { cache_.Invalidate(); }

 private:
  using Fetched = FetchedKeyring;

  // One refresh; nullopt when another replica is filling the copy and a
  // keyring is cached (keep serving it).
  absl::StatusOr<std::optional<Fetched>> Refresh(bool have_cached);
  // The Redis copy when present and fresh at clock(); nullopt when absent,
  // stale or unreadable; UNAVAILABLE when Redis cannot be reached.
  absl::StatusOr<std::optional<Fetched>> ReadCopy();
  absl::Status WriteCopy(const core::Keyring& keyring, absl::Time refreshed_at);
  absl::StatusOr<std::optional<Fetched>> FillFromStore(bool have_cached);
  absl::StatusOr<std::optional<Fetched>> ReadStoreDirectly();

  RedisClient& redis_;
  SecretStore& store_;
  ChangeFeed* const feed_;
  const RedisKeyringCacheOptions options_;
  const std::string copy_key_;
  const std::string lock_key_;

  absl::Mutex direct_read_mu_;
  absl::Time next_direct_read_ ABSL_GUARDED_BY(direct_read_mu_) = absl::InfinitePast();

  SingleFlightKeyring cache_;  // last: its fetch uses the members above
};

}  // namespace edgepass::server

#endif  // EDGEPASS_SERVER_ADAPTERS_REDIS_REDIS_KEYRING_CACHE_H_
