// KeyringSource of the embedded default: the SecretStore's keyring cached in
// process for a TTL, refreshed by one thread at a time (single flight).
//
//   CachedKeyringSource keys(secret_store, &feed, {.ttl = absl::Minutes(5)});
//   absl::StatusOr<std::shared_ptr<const core::Keyring>> k = keys.Current();
//   keys.Invalidate();   // after a rotation wrote the store
#ifndef EDGEPASS_SERVER_ADAPTERS_CACHED_KEYRING_SOURCE_H_
#define EDGEPASS_SERVER_ADAPTERS_CACHED_KEYRING_SOURCE_H_

#include <functional>
#include <memory>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "server/state/change_feed.h"
#include "server/state/keyring_source.h"
#include "server/state/secret_store.h"
#include "server/state/single_flight_keyring.h"

namespace edgepass::server {

struct CachedKeyringSourceOptions {
  // How long a keyring read from the store is served before it is read again.
  absl::Duration ttl = absl::Minutes(5);
  // After a failed read, no new read before this much clock time (the cached
  // keyring, if any, is served meanwhile).
  absl::Duration retry_interval = absl::Seconds(1);
  // Other threads wait this long for the first keyring.
  absl::Duration first_wait = absl::Seconds(5);
  // Time source of every freshness decision (tests pass a fake clock).
  std::function<absl::Time()> clock = [] { return absl::Now(); };
};

// Thread-safe. While fresh, Current() does no I/O. When stale, the first
// caller reads the store; concurrent callers get the stale keyring meanwhile
// (or wait up to first_wait when there is none yet), so the store sees one
// read per ttl however many callers there are. A failed read keeps the old
// keyring. Invalidate() makes the next call read the store again. The source
// does not listen to the feed: on a single replica only its own Share()
// changes the keyring, and re-reading the store after it could bring back
// an older keyring from an eventually consistent store.
class CachedKeyringSource : public KeyringSource {
 public:
  // `store` and `feed` must outlive the source; `feed` may be null.
  CachedKeyringSource(SecretStore& store, ChangeFeed* feed, CachedKeyringSourceOptions options = {});

  // See KeyringSource; with nothing cached, the store's error (UNAVAILABLE
  // while another thread's first read is still running after first_wait).
  absl::StatusOr<std::shared_ptr<const core::Keyring>> Current() override;

  // Serves `keyring` (just written to the store) at once, fresh for ttl, and
  // announces kKeyring on the feed so the edge snapshot follows at once.
  absl::Status Share(const core::Keyring& keyring) override;

  void Invalidate() { cache_.Invalidate(); }

 private:
  SecretStore& store_;
  ChangeFeed* const feed_;
  const CachedKeyringSourceOptions options_;
  SingleFlightKeyring cache_;
};

}  // namespace edgepass::server

#endif  // EDGEPASS_SERVER_ADAPTERS_CACHED_KEYRING_SOURCE_H_
