#include "server/adapters/redis/redis_catalog_store.h"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "core/status_macros.h"

namespace edgepass::server {
namespace {

// Up to 1, 2, 4 ... 32 ms, random, so that writers that conflicted do not
// collide again in lockstep.
void ConflictBackoff(int attempt) {
  thread_local std::minstd_rand random(
      static_cast<uint32_t>(absl::ToUnixNanos(absl::Now()) ^ reinterpret_cast<uintptr_t>(&attempt)));
  const int64_t max_micros = int64_t{1000} << std::min(attempt, 5);
  absl::SleepFor(absl::Microseconds(std::uniform_int_distribution<int64_t>(0, max_micros)(random)));
}

}  // namespace

RedisCatalogStore::RedisCatalogStore(RedisClient& redis, ChangeFeed* feed)
    : redis_(redis),
      feed_(feed),
      catalog_key_(redis.Key("catalog")),
      version_key_(redis.Key("catalog:version")) {}

absl::StatusOr<VersionedCatalog> RedisCatalogStore::Parse(const RedisReply& catalog,
                                                          const RedisReply& version) const {
  VersionedCatalog out;
  if (version.type == RedisReply::Type::kString) {
    if (!absl::SimpleAtoi(version.str, &out.version)) {
      return absl::FailedPreconditionError(
          absl::StrCat("redis key ", version_key_, ": not a version number"));
    }
  } else if (!version.is_nil()) {
    return RedisReplyError(version, absl::StrCat("GET ", version_key_));
  }
  if (catalog.is_nil()) {
    out.catalog = std::make_shared<const Catalog>();
    return out;
  }
  if (catalog.type != RedisReply::Type::kString) {
    return RedisReplyError(catalog, absl::StrCat("GET ", catalog_key_));
  }
  absl::StatusOr<Catalog> parsed = Catalog::Parse(catalog.str, absl::StrCat("redis key ", catalog_key_));
  if (!parsed.ok()) {
    // What is stored was written by a different (newer?) version or by hand:
    // report it, never overwrite it.
    return absl::FailedPreconditionError(parsed.status().message());
  }
  out.catalog = std::make_shared<const Catalog>(*std::move(parsed));
  return out;
}

absl::StatusOr<VersionedCatalog> RedisCatalogStore::Load() {
  EDGEPASS_ASSIGN_OR_RETURN(RedisReply r, redis_.Read({"MGET", catalog_key_, version_key_}));
  if (r.type != RedisReply::Type::kArray || r.elements.size() != 2) return RedisReplyError(r, "MGET");
  return Parse(r.elements[0], r.elements[1]);
}

absl::StatusOr<std::optional<uint64_t>> RedisCatalogStore::TryUpdate(const Mutation& mutate) {
  EDGEPASS_ASSIGN_OR_RETURN(RedisClient::Connection c, redis_.Acquire());
  EDGEPASS_ASSIGN_OR_RETURN(RedisReply watched, c.Command({"WATCH", catalog_key_, version_key_}));
  if (watched.is_error()) return RedisReplyError(watched, "WATCH");
  EDGEPASS_ASSIGN_OR_RETURN(RedisReply r, c.Command({"MGET", catalog_key_, version_key_}));
  if (r.type != RedisReply::Type::kArray || r.elements.size() != 2) {
    return RedisReplyError(r, "MGET");
  }
  EDGEPASS_ASSIGN_OR_RETURN(VersionedCatalog current, Parse(r.elements[0], r.elements[1]));
  EDGEPASS_ASSIGN_OR_RETURN(Catalog next, mutate(*current.catalog));
  const std::string json = next.ToJson();

  EDGEPASS_ASSIGN_OR_RETURN(RedisReply multi, c.Command({"MULTI"}));
  if (multi.is_error()) return RedisReplyError(multi, "MULTI");
  EDGEPASS_ASSIGN_OR_RETURN(RedisReply set, c.Command({"SET", catalog_key_, json}));
  if (set.is_error()) return RedisReplyError(set, "SET");
  EDGEPASS_ASSIGN_OR_RETURN(RedisReply incr, c.Command({"INCR", version_key_}));
  if (incr.is_error()) return RedisReplyError(incr, "INCR");
  EDGEPASS_ASSIGN_OR_RETURN(RedisReply exec, c.Command({"EXEC"}));
  if (exec.is_nil()) return std::nullopt;  // a concurrent write touched the keys
  if (exec.type != RedisReply::Type::kArray || exec.elements.size() != 2) {
    return RedisReplyError(exec, "EXEC");
  }
  if (exec.elements[0].is_error()) return RedisReplyError(exec.elements[0], "SET");
  EDGEPASS_ASSIGN_OR_RETURN(int64_t version, RedisInteger(exec.elements[1], "INCR"));
  if (absl::Status waited = redis_.WaitForReplicas(c); !waited.ok()) {
    { RedisClient::Connection release = std::move(c); }  // back to the pool before publishing
    // Stored on the primary all the same: other replicas load it.
    if (feed_ != nullptr) feed_->Publish(ChangeKind::kCatalog);
    return waited;
  }
  return static_cast<uint64_t>(version);
}

absl::StatusOr<uint64_t> RedisCatalogStore::Update(const Mutation& mutate) {
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    EDGEPASS_ASSIGN_OR_RETURN(std::optional<uint64_t> version, TryUpdate(mutate));
    if (!version.has_value()) {  // conflict: retry on the new catalog, after a jittered pause
      ConflictBackoff(attempt);
      continue;
    }
    if (feed_ != nullptr) feed_->Publish(ChangeKind::kCatalog);
    return *version;
  }
  return absl::AbortedError(absl::StrCat("catalog update: ", kMaxAttempts,
                                         " attempts conflicted with concurrent writers; retry"));
}

}  // namespace edgepass::server
