// CatalogStore in Redis: the catalog's JSON (Catalog::ToJson) under
// "<prefix>catalog" and its version under "<prefix>catalog:version", changed
// together in one MULTI/EXEC guarded by WATCH (optimistic concurrency across
// replicas), then announced on the change feed.
//
//   RedisCatalogStore store(*redis, &feed);
//   absl::StatusOr<uint64_t> v = store.Update([&](const Catalog& c) {
//     return Catalog::Merge(c, overlay, "request"); });
#ifndef EDGEPASS_SERVER_ADAPTERS_REDIS_REDIS_CATALOG_STORE_H_
#define EDGEPASS_SERVER_ADAPTERS_REDIS_REDIS_CATALOG_STORE_H_

#include <cstdint>
#include <optional>
#include <string>

#include "server/adapters/redis/redis_client.h"
#include "server/state/catalog_store.h"
#include "server/state/change_feed.h"

namespace edgepass::server {

// Thread-safe; any number of instances (replicas) may share one Redis.
// Durability is Redis': OK means the primary applied the write, which with
// `appendonly yes` + `appendfsync always` is on disk before the reply (with
// `everysec`, at most a second of writes can be lost in a crash), plus
// replica acknowledgements when RedisOptions::wait_replicas > 0.
class RedisCatalogStore : public CatalogStore {
 public:
  // A WATCH conflict is retried (after a short random pause) this many
  // times before ABORTED.
  static constexpr int kMaxAttempts = 32;

  // `redis` and `feed` (may be null) must outlive the store.
  RedisCatalogStore(RedisClient& redis, ChangeFeed* feed);

  // FAILED_PRECONDITION naming the key when the stored catalog does not
  // parse (it is left as it is); UNAVAILABLE when Redis cannot be reached.
  absl::StatusOr<VersionedCatalog> Load() override;

  // See CatalogStore. ABORTED after kMaxAttempts conflicting writes.
  absl::StatusOr<uint64_t> Update(const Mutation& mutate) override;

 private:
  // One WATCH/MULTI/EXEC round; nullopt on a conflict.
  absl::StatusOr<std::optional<uint64_t>> TryUpdate(const Mutation& mutate);
  absl::StatusOr<VersionedCatalog> Parse(const RedisReply& catalog, const RedisReply& version) const;

  RedisClient& redis_;
  ChangeFeed* feed_;
  const std::string catalog_key_;
  const std::string version_key_;
};

}  // namespace edgepass::server

#endif  // EDGEPASS_SERVER_ADAPTERS_REDIS_REDIS_CATALOG_STORE_H_
