// What a replica serves from: the catalog and the edge snapshot (keyring +
// compiled revocation list) held in memory and reloaded from the state stores
// when the change feed says so, and periodically as a safety net. Issuing and
// edge sync therefore go on from memory while the stores are unreachable.
//
//   LiveState state(&catalogs, &sessions, &keys, &feed, absl::Now, {});
//   EDGEPASS_RETURN_IF_ERROR(state.Start());
//   std::shared_ptr<const Catalog> c = state.catalog();
#ifndef EDGEPASS_SERVER_APP_LIVE_STATE_H_
#define EDGEPASS_SERVER_APP_LIVE_STATE_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/btree_set.h"
#include "absl/container/flat_hash_set.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "core/keyring.h"
#include "core/revocation_list.h"
#include "server/app/page_allocator.h"
#include "server/state/catalog.h"
#include "server/state/catalog_store.h"
#include "server/state/change_feed.h"
#include "server/state/compact_id.h"
#include "server/state/keyring_source.h"
#include "server/state/session_store.h"

namespace edgepass::server {

struct EdgeRevoked {
  std::string session_id;
  absl::Time expires_at;
  bool operator==(const EdgeRevoked&) const = default;
};

// The compiled revocation list as validators hold it: a persistent set.
// Entries are spread over kBuckets buckets by id hash, each sorted by id; a
// change copies the buckets it touches and shares the rest with the set it
// was made from, so a new snapshot costs O(change), not O(list). Immutable.
// An entry takes 32 bytes (CompactId and expiry).
class EdgeRevokedSet {
 public:
  static constexpr size_t kBuckets = 1024;
  // A position for reading the set in parts (snapshots sent in messages).
  struct Cursor {
    size_t bucket = 0;
    size_t offset = 0;
  };

  size_t size() const { return size_; }
  // The entry for `session_id`, or nullopt.
  std::optional<EdgeRevoked> Find(absl::string_view session_id) const;
  // Appends up to `max` entries from `*cursor` on to `out` (bucket order)
  // and advances the cursor; true while entries remain after it.
  bool Take(Cursor* cursor, size_t max, std::vector<EdgeRevoked>* out) const;
  // Every entry, sorted by session id (tests, small lists).
  std::vector<EdgeRevoked> Sorted() const;
  // This set with `removes` dropped and `adds` added (replacing an entry of
  // the same id). Copies only the buckets they touch.
  EdgeRevokedSet With(absl::Span<const EdgeRevoked> adds, absl::Span<const std::string> removes) const;
  // The same set from scratch (a full load).
  static EdgeRevokedSet Of(const std::vector<EdgeRevoked>& entries);
  // The same, from `each`, which it calls twice (to size each bucket
  // exactly, then to fill it) with a callback to call for every entry.
  using EntrySink = absl::FunctionRef<void(absl::string_view session_id, absl::Time expires_at)>;
  static EdgeRevokedSet Build(absl::FunctionRef<void(EntrySink)> each);
  // What turns `from` into `to`: compares only the buckets they do not share.
  static void Diff(const EdgeRevokedSet& from, const EdgeRevokedSet& to, std::vector<EdgeRevoked>* adds,
                   std::vector<std::string>* removes);
  // Both hold the very same buckets (so the same entries).
  bool SharesAllWith(const EdgeRevokedSet& other) const { return buckets_ == other.buckets_; }

 private:
  struct Packed {
    CompactId session_id;
    absl::Time expires_at;
  };
  // What an entry costs (issue 16: a million in the embedded server under
  // 300 MB); keep it from growing unnoticed.
  static_assert(sizeof(Packed) <= 32);
  // Both copied per change (the touched buckets, the table of them): kept
  // off the heap when large (PageAllocator).
  using Bucket = std::vector<Packed, PageAllocator<Packed>>;
  using Buckets = std::vector<std::shared_ptr<const Bucket>, PageAllocator<std::shared_ptr<const Bucket>>>;
  static size_t BucketOf(absl::string_view session_id);

  std::shared_ptr<const Buckets> buckets_;  // null: empty
  size_t size_ = 0;
};

// What changed on the compiled list from one snapshot to the next.
struct EdgeChange {
  std::vector<EdgeRevoked> adds;  // new or changed (expiry) entries
  std::vector<std::string> removes;
};

// What validators hold at one version.
struct EdgeSnapshot {
  // The session store's version (fleet-wide); together with the keyring
  // fingerprint it names what a validator holds.
  uint64_t version = 0;
  std::shared_ptr<const core::Keyring> keyring;
  std::string keyring_fingerprint;
  // The compiled revocation list.
  EdgeRevokedSet revoked;
  // This replica's count of snapshots (each new one is one more), for
  // EdgeChangesBetween.
  uint64_t sequence = 0;

  bool SameAs(const EdgeSnapshot& other) const {
    return version == other.version && keyring_fingerprint == other.keyring_fingerprint;
  }
};

// A short non-secret digest of a keyring (hex), equal for equal keyrings.
std::string KeyringFingerprint(const core::Keyring& keyring);

struct LiveStateOptions {
  core::RevocationListOptions revocations;
  // Reload of the catalog, and catching up on session changes, even
  // without notifications.
  absl::Duration refresh_interval = absl::Seconds(30);
  // How often the keyring source is asked whether the keyring changed (a
  // kKeyring notification on the feed asks at once).
  absl::Duration keyring_poll_interval = absl::Seconds(1);
  // How often the revocation list is checked against the session store:
  // after catching up on the store's changes, the number of entries this
  // replica counts must be the store's (SessionChanges::stored_count); on a
  // mismatch (a change that bypassed the change log) everything is loaded
  // again. Zero: never. Stores that do not report a count are not checked.
  absl::Duration consistency_check_interval = absl::Minutes(5);
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

  // The changes to the compiled list from the snapshot with sequence `from`
  // to the one with sequence `to`, merged in order (the last change of an
  // id wins), from the change records kept for the newest
  // kKeptEdgeChanges snapshots; nullopt when they no longer cover it (or a
  // full reload lies between): compare the snapshots instead.
  static constexpr size_t kKeptEdgeChanges = 4096;
  std::optional<EdgeChange> EdgeChangesBetween(uint64_t from, uint64_t to) const;

  // Full reloads of the revocation list because a consistency check found
  // it out of step with the store (see consistency_check_interval).
  uint64_t resyncs() const { return resyncs_.load(std::memory_order_relaxed); }

 private:
  // A stored entry still on the list by time, in pool_ (stable address;
  // the sets below point at it): 64 bytes, about 100 with the sets.
  struct Held {
    CompactId id;
    absl::Time added_at;
    absl::Time expires_at;
    double score = 0;
    bool automatic = false;
  };
  static_assert(sizeof(Held) <= 64);  // as Packed's
  // Where an entry ranks: MANUAL newest first, then AUTO by score highest
  // first, ties by id (core::CompileRevocationList's order).
  struct RankLess {
    bool operator()(const Held* a, const Held* b) const;
  };
  // When each entry may leave the list (its expiry, or just past
  // retention), ties by id.
  struct LeaveLess {
    absl::Duration retention;
    absl::Time LeaveAt(const Held* h) const;
    bool operator()(const Held* a, const Held* b) const;
  };
  struct HeldHash {
    using is_transparent = void;
    size_t operator()(absl::string_view id) const { return CompactIdHash()(id); }
    size_t operator()(const Held* h) const { return CompactIdHash()(h->id.view()); }
  };
  struct HeldEq {
    using is_transparent = void;
    static absl::string_view View(absl::string_view id) { return id; }
    static absl::string_view View(const Held* h) { return h->id.view(); }
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      return View(a) == View(b);
    }
  };
  struct Kept {
    uint64_t sequence;
    std::shared_ptr<const EdgeChange> change;  // null: a full reload
  };

  absl::Status ReloadCatalog();
  // `check`: compare the stored entry count after catching up (see
  // LiveStateOptions::consistency_check_interval).
  absl::Status ReloadEdge(bool sessions_changed, bool check = false);
  void Run();
  // The compiled list, kept by the reload thread only (no lock). A null
  // `change` (a full load) records nothing.
  void ClearHeld();
  // Loads the whole list from the store: the version and stored count reached.
  absl::StatusOr<SessionLoad> LoadAll(absl::Time now);
  void Apply(absl::string_view id, const core::RevocationEntry* entry, absl::Time now, EdgeChange* change);
  void Insert(Held* held, EdgeChange* change);
  void Erase(Held* held, EdgeChange* change);
  void Expire(absl::Time now, EdgeChange* change);
  Held* FindHeld(absl::string_view id) const;
  bool OnList(const Held* held) const { return in_list_ > 0 && !RankLess()(last_in_, held); }

  CatalogStore* const catalogs_;
  SessionStore* const sessions_;
  KeyringSource* const keys_;
  ChangeFeed* const feed_;
  const Clock clock_;
  const LiveStateOptions options_;

  // The catalog, read by every issuing call, has a mutex of its own: mu_
  // always has a waiter (the edge-sync hub in WaitForEdgeChange), and then
  // absl::Mutex sends every lock and unlock, readers' too, down its slow path
  // to evaluate the waiters' conditions.
  mutable absl::Mutex catalog_mu_;
  std::shared_ptr<const Catalog> catalog_ ABSL_GUARDED_BY(catalog_mu_);
  mutable absl::Mutex mu_;
  std::shared_ptr<const EdgeSnapshot> edge_ ABSL_GUARDED_BY(mu_);
  std::deque<Kept> kept_changes_ ABSL_GUARDED_BY(mu_);
  // The reload thread's (Start's before it runs): every stored entry still
  // on the list by time, ranked, and when each may leave it.
  bool sessions_loaded_ = false;
  uint64_t stored_sessions_version_ = 0;
  // Entries the store holds at stored_sessions_version_, as counted here
  // (the last full load's, plus created puts, minus removals).
  size_t stored_count_ = 0;
  std::deque<Held> pool_;
  std::vector<Held*> free_;  // in pool_, unused
  absl::flat_hash_set<Held*, HeldHash, HeldEq> held_;
  absl::btree_set<Held*, RankLess> ranked_;
  // The last ranked entry on the list (capacity); null when none is.
  Held* last_in_ = nullptr;
  size_t in_list_ = 0;
  absl::btree_set<Held*, LeaveLess> leaving_;
  EdgeRevokedSet compiled_;
  bool catalog_dirty_ ABSL_GUARDED_BY(mu_) = false;
  bool sessions_dirty_ ABSL_GUARDED_BY(mu_) = false;
  bool keyring_dirty_ ABSL_GUARDED_BY(mu_) = false;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::atomic<uint64_t> resyncs_{0};
  std::thread thread_;
};

}  // namespace edgepass::server

#endif  // EDGEPASS_SERVER_APP_LIVE_STATE_H_
