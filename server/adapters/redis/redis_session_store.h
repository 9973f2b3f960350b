// SessionStore in Redis: a hash "<prefix>sessions" (session id ->
// core::RevocationEntryToJson), a version counter "<prefix>sessions:version"
// and a change log, the stream "<prefix>sessions:changes" (one record per
// changed session, id "<version>-<n>", fields id and, unless removed, entry,
// plus new=1 when a put added a session the hash did not hold),
// trimmed to the newest change_log_length records, and an id index, the
// sorted set "<prefix>sessions:ids" (every field of the hash, score 0) that
// ListPage reads a page of in id order. All four change together in one Lua
// script, so a replica at version V applies exactly the records after V
// (ChangesSince) instead of re-reading the hash; one that fell behind the log
// loads the hash once. Every change is announced on the change feed.
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
  // Records kept in the change log: a replica more than this many changes
  // behind loads the whole hash once.
  static constexpr size_t kDefaultChangeLogLength = 100000;
  // Most records one ChangesSince() returns (more: too_old).
  static constexpr size_t kMaxChangesPerRead = 50000;
  // HSCAN COUNT of one Prune() step (a hint to Redis: about this many
  // entries are read, and at most that many removed, per step), and the
  // COUNT of one step of putting the id index right.
  static constexpr size_t kDefaultPruneScanCount = 1000;
  // Most entries one ListPage() returns (Lua's unpack() takes about 8000).
  static constexpr size_t kMaxPageEntries = 5000;

  // `redis` and `feed` (may be null) must outlive the store.
  RedisSessionStore(RedisClient& redis, ChangeFeed* feed,
                    size_t change_log_length = kDefaultChangeLogLength,
                    size_t prune_scan_count = kDefaultPruneScanCount);

  absl::StatusOr<uint64_t> Put(const core::RevocationEntry& entry) override;
  absl::StatusOr<uint64_t> Remove(absl::string_view session_id) override;
  absl::StatusOr<ReportResult> Report(absl::Span<const core::RevocationEntry> entries) override;
  // FAILED_PRECONDITION naming the record when a logged entry does not parse.
  // stored_count is the hash's HLEN at the returned version.
  absl::StatusOr<SessionChanges> ChangesSince(uint64_t version) override;
  // Every entry at one version, read as Load() reads it (pages, then the
  // changes made meanwhile), so no reply grows with the list: one HGETALL
  // of a million entries does not fit the command timeout. FAILED_PRECONDITION
  // naming the key and field when a stored entry does not parse.
  absl::StatusOr<SessionList> List() override;
  // SET sessions:prune-claim NX with `period` as its expiry.
  absl::StatusOr<bool> ClaimPrune(absl::Duration period) override;
  // One script: ZRANGEBYLEX on the id index, HMGET of those fields (O(page +
  // log n)). When the index's size differs from the hash's (data stored
  // before the index existed, an edit by hand) it is put right first, in
  // steps of prune_scan_count ids (RepairIndex), so no command takes long
  // however large the list. INVALID_ARGUMENT for an `after` that is no session id;
  // FAILED_PRECONDITION naming the field for an entry that does not parse.
  absl::StatusOr<SessionPage> ListPage(absl::string_view after, size_t max) override;
  // Streams the list without holding it: every page in id order
  // (kMaxPageEntries each), then the changes stored since the first page's
  // version, which bring what the pages showed to one version (the pages
  // were read at several). UNAVAILABLE when more changed meanwhile than
  // the change log keeps (try again).
  absl::StatusOr<SessionLoad> Load(LoadVisitor visit) override;
  // Walks the hash with HSCAN (prune_scan_count entries a step, so memory
  // stays bounded at any list size) and drops each step's expired entries in
  // one script (one version per step that drops any). FAILED_PRECONDITION
  // naming the field when an entry does not parse (steps before it stay
  // done).
  absl::StatusOr<size_t> Prune(absl::Time cutoff) override;

 private:
  // `hash`: field, value pairs (an HSCAN step's); `what` names the call.
  absl::StatusOr<std::vector<core::RevocationEntry>> ParseEntries(const RedisReply& hash,
                                                                  absl::string_view what) const;
  absl::StatusOr<SessionChanges> TryChangesSince(uint64_t version);
  // Runs the write script; its reply (after WAIT) or the error.
  absl::StatusOr<RedisReply> Write(const std::vector<std::string>& args, absl::string_view what);
  void Announce();
  // Makes the id index hold the hash's ids: bounded steps (kIndexStepScript),
  // first indexing every field, then dropping every id not in the hash.
  absl::Status RepairIndex();

  RedisClient& redis_;
  ChangeFeed* feed_;
  const std::string hash_key_;
  const std::string version_key_;
  const std::string changes_key_;
  const std::string index_key_;
  const std::string prune_claim_key_;
  const std::string change_log_length_;
  const size_t prune_scan_count_;
};

}  // namespace edgepass::server

#endif  // EDGEPASS_SERVER_ADAPTERS_REDIS_REDIS_SESSION_STORE_H_
