// SessionStore in Redis: a hash "<prefix>sessions" (session id ->
// core::RevocationEntryToJson) and a version counter
// "<prefix>sessions:version" changed in the same transaction; every change is
// announced on the change feed.
//
//   RedisSessionStore store(*redis, &feed);
//   absl::StatusOr<uint64_t> v = store.Put(entry);   // OK only once stored
//   absl::StatusOr<SessionList> all = store.List();
#ifndef EDGEPASS_SERVER_ADAPTERS_REDIS_REDIS_SESSION_STORE_H_
#define EDGEPASS_SERVER_ADAPTERS_REDIS_REDIS_SESSION_STORE_H_

#include <cstdint>
#include <optional>
#include <string>

#include "server/adapters/redis/redis_client.h"
#include "server/state/change_feed.h"
#include "server/state/session_store.h"

namespace edgepass::server {

// Thread-safe; any number of instances (replicas) may share one Redis.
//
// "Durably stored": Put() and Remove() return OK only after Redis replied to
// the EXEC (or script) that wrote the entry and the version together. Redis
// must run with `appendonly yes`: with `appendfsync always` (what the tests
// use, and the recommended setting for the revocation list) the AOF is
// fsync'd before Redis replies, so OK means on disk on the primary; with
// `everysec` a crash can lose the last second. To survive the loss of the
// primary, set RedisOptions::wait_replicas: each write then also waits (WAIT)
// for that many replicas, and fails with UNAVAILABLE when they do not
// acknowledge in time (the entry may then be stored; a retry is idempotent).
// WAIT is off by default because a single-node Redis has no replica to wait
// for. A failed call is never reported as OK.
class RedisSessionStore : public SessionStore {
 public:
  static constexpr int kMaxAttempts = 16;
  static constexpr size_t kMaxSessionIdBytes = 256;

  // `redis` and `feed` (may be null) must outlive the store.
  RedisSessionStore(RedisClient& redis, ChangeFeed* feed);

  absl::StatusOr<uint64_t> Put(const core::RevocationEntry& entry) override;
  absl::StatusOr<uint64_t> Remove(absl::string_view session_id) override;
  // FAILED_PRECONDITION naming the key and field when a stored entry does
  // not parse (nothing is changed).
  absl::StatusOr<SessionList> List() override;
  // ABORTED after kMaxAttempts conflicting concurrent writes.
  absl::StatusOr<size_t> Prune(absl::Time cutoff) override;

 private:
  absl::StatusOr<std::vector<core::RevocationEntry>> ParseEntries(const RedisReply& hash) const;
  absl::StatusOr<SessionList> TryList();
  absl::StatusOr<std::optional<size_t>> TryPrune(absl::Time cutoff);
  void Announce();

  RedisClient& redis_;
  ChangeFeed* feed_;
  const std::string hash_key_;
  const std::string version_key_;
};

}  // namespace edgepass::server

#endif  // EDGEPASS_SERVER_ADAPTERS_REDIS_REDIS_SESSION_STORE_H_
