// What a replica serves from: the catalog and the edge snapshot (keyring +
// compiled revocation list) held in memory and reloaded from the state stores
// when the change feed says so, and periodically as a safety net. Issuing and
// edge sync therefore go on from memory while the stores are unreachable.
//
//   LiveState state(&catalogs, &sessions, &keys, &feed, absl::Now, {});
//   EDGEPASS_RETURN_IF_ERROR(state.Start());
//   std::shared_ptr<const Catalog> c = state.catalog();
#ifndef EDGEPASS_SERVER_LIVE_STATE_H_
#define EDGEPASS_SERVER_LIVE_STATE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/keyring.h"
#include "core/revocation_list.h"
#include "server/catalog.h"
#include "server/state/catalog_store.h"
#include "server/state/change_feed.h"
#include "server/state/keyring_source.h"
#include "server/state/session_store.h"

namespace edgepass::server {

struct EdgeRevoked {
  std::string session_id;
  absl::Time expires_at;
  bool operator==(const EdgeRevoked&) const = default;
};

// What validators hold at one version.
struct EdgeSnapshot {
  // The session store's version (fleet-wide); together with the keyring
  // fingerprint it names what a validator holds.
  uint64_t version = 0;
  std::shared_ptr<const core::Keyring> keyring;
  std::string keyring_fingerprint;
  // The compiled revocation list, sorted by session id.
  std::vector<EdgeRevoked> revoked;

  bool SameAs(const EdgeSnapshot& other) const {
    return version == other.version && keyring_fingerprint == other.keyring_fingerprint;
  }
};

// A short non-secret digest of a keyring (hex), equal for equal keyrings.
std::string KeyringFingerprint(const core::Keyring& keyring);

struct LiveStateOptions {
  core::RevocationListOptions revocations;
  // Full reload of catalog and sessions even without notifications.
  absl::Duration refresh_interval = absl::Seconds(30);
  // How often the keyring source is asked whether the keyring changed.
  absl::Duration keyring_poll_interval = absl::Seconds(1);
};

// Thread-safe. The stores, source and feed must outlive it.
class LiveState {
 public:
  using Clock = std::function<absl::Time()>;

  LiveState(CatalogStore* catalogs, SessionStore* sessions, KeyringSource* keys, ChangeFeed* feed,
            Clock clock, LiveStateOptions options);
  ~LiveState();  // stops the reload thread
  LiveState(const LiveState&) = delete;
  LiveState& operator=(const LiveState&) = delete;

  // First load of everything, then starts the reload thread. Fails (and
  // the server must not start) when any store or the keyring cannot be read.
  absl::Status Start();

  std::shared_ptr<const Catalog> catalog() const;
  std::shared_ptr<const EdgeSnapshot> edge() const;

  // Asks the reload thread to reload soon (after a local write; the feed
  // also delivers it, this just saves the round trip).
  void RequestReload(ChangeKind kind);

  // Blocks until the edge snapshot's version is at least `version` (a write
  // this replica just stored), or `timeout` passes; true when it is.
  bool AwaitEdgeVersion(uint64_t version, absl::Duration timeout) const;

  // Blocks until the edge snapshot is not SameAs(*have) or `timeout` passes;
  // returns the current snapshot either way.
  std::shared_ptr<const EdgeSnapshot> WaitForEdgeChange(const EdgeSnapshot& have,
                                                        absl::Duration timeout) const;

 private:
  absl::Status ReloadCatalog();
  absl::Status ReloadEdge(bool sessions_changed);
  void Run();

  CatalogStore* const catalogs_;
  SessionStore* const sessions_;
  KeyringSource* const keys_;
  ChangeFeed* const feed_;
  const Clock clock_;
  const LiveStateOptions options_;

  mutable absl::Mutex mu_;
  std::shared_ptr<const Catalog> catalog_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<const EdgeSnapshot> edge_ ABSL_GUARDED_BY(mu_);
  std::vector<core::RevocationEntry> stored_sessions_ ABSL_GUARDED_BY(mu_);
  uint64_t stored_sessions_version_ ABSL_GUARDED_BY(mu_) = 0;
  bool catalog_dirty_ ABSL_GUARDED_BY(mu_) = false;
  bool sessions_dirty_ ABSL_GUARDED_BY(mu_) = false;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace edgepass::server

#endif  // EDGEPASS_SERVER_LIVE_STATE_H_
