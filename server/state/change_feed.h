// Change notifications between replicas: after a store changes, every
// replica's listener is told which kind of state to reload (in process for the
// embedded default, Redis pub/sub for a fleet).
//
//   feed.Subscribe([&](ChangeKind kind) { if (kind == ChangeKind::kSessions) Reload(); });
//   feed.Publish(ChangeKind::kSessions);   // after a store write
#ifndef EDGEPASS_SERVER_STATE_CHANGE_FEED_H_
#define EDGEPASS_SERVER_STATE_CHANGE_FEED_H_

#include <functional>

#include "absl/strings/string_view.h"

namespace edgepass::server {

enum class ChangeKind { kCatalog, kSessions, kKeyring };

absl::string_view ChangeKindName(ChangeKind kind);  // "catalog", "sessions", "keyring"

// Thread-safe.
class ChangeFeed {
 public:
  using Listener = std::function<void(ChangeKind)>;

  virtual ~ChangeFeed() = default;

  // Tells every subscriber, on every replica, that `kind` changed. Best
  // effort: subscribers also reload periodically, and after a reconnect of
  // the feed they are told every kind changed, since notifications may have
  // been missed.
  virtual void Publish(ChangeKind kind) = 0;

  // `listener` is called from an internal thread, never concurrently with
  // itself; it must not block for long. Listeners live as long as the feed.
  virtual void Subscribe(Listener listener) = 0;
};

}  // namespace edgepass::server

#endif  // EDGEPASS_SERVER_STATE_CHANGE_FEED_H_
