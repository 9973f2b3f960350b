// Per-session aggregates of the requests inside the analysis window: what
// SMD's query computes per session id (distinct viewer-IP+URI pairs, first
// and last request, distinct IPs, referers and user agents). Memory grows
// with the number of sessions and of their distinct requests, not with the
// log size: values are kept as 64-bit hashes (exact up to hash collisions,
// about n²/2⁶⁵ for n values), and IP/referer/user-agent sets stop growing at
// kMaxDistinctTracked since only "more than one" scores.
//
// Sessions of a log are interleaved, so each request touches a session and a
// distinct-request set that are not in the cache. Add therefore keeps the
// last few requests pending, prefetching the memory they will touch, and
// applies each some requests later (the ring of kPipelineDepth); every
// reader (sessions(), Merge) sees them applied.
//
//   SessionTable table({.start_ms = now_ms - 600000, .end_ms = now_ms});
//   table.Add(record);                 // kept, filtered or no session id
//   other.Merge(std::move(table));     // per-thread tables into one
//   for (const SessionStats& s : other.sessions()) ...
#ifndef EDGEPASS_CLIENT_ANALYZE_SESSION_TABLE_H_
#define EDGEPASS_CLIENT_ANALYZE_SESSION_TABLE_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/strings/string_view.h"
#include "client/analyze/log_record.h"

namespace edgepass::analyze {

// Requests kept: status 200 or 206 and more than this many bytes (SMD's).
inline constexpr uint64_t kMinResponseBytes = 1024;
inline constexpr size_t kMaxDistinctTracked = 16;

// Request times kept, both ends inclusive, Unix milliseconds.
struct Window {
  int64_t start_ms = INT64_MIN;
  int64_t end_ms = INT64_MAX;
};

// Distinct values by hash, counted up to kMaxDistinctTracked.
class DistinctCounter {
 public:
  void Add(uint64_t hash);
  void Merge(const DistinctCounter& other);
  // Distinct values seen, at most kMaxDistinctTracked.
  uint32_t count() const { return static_cast<uint32_t>(seen_.size()); }

 private:
  absl::InlinedVector<uint64_t, 2> seen_;
};

struct SessionStats {
  std::string id;
  int64_t first_ms = INT64_MAX;
  int64_t last_ms = INT64_MIN;
  uint64_t requests = 0;  // distinct (client IP, URI) pairs
  DistinctCounter ips, referers, user_agents;
};

enum class AddResult { kKept, kFiltered, kNoSession };

// Not thread-safe: one per thread, merged at the end.
class SessionTable {
 public:
  explicit SessionTable(Window window = {});
  // Tests: ids hashed by `id_hash` (to make two ids collide) instead of absl::Hash.
  using IdHash = uint64_t (*)(absl::string_view id);
  SessionTable(Window window, IdHash id_hash);

  // Keeps `r` when its status is 200/206, it sent more than
  // kMinResponseBytes, its time is in the window, and it has a session id
  // (r.session_id, else SessionIdFromUri(r.uri)). `r`'s views need not
  // outlive the call.
  AddResult Add(const LogRecord& r);
  // Adds every session of `other` (same window) into this one.
  void Merge(SessionTable&& other);

  const Window& window() const { return window_; }
  // Every session, in the order first seen (requests still pending applied).
  const std::vector<SessionStats>& sessions() const;

 private:
  // Zeroed memory; large arrays on transparent huge pages, since lookups
  // land anywhere in them (a TLB miss per lookup on 4 KiB pages).
  class ZeroedBytes {
   public:
    explicit ZeroedBytes(size_t n);
    ZeroedBytes(const ZeroedBytes& other);
    ZeroedBytes& operator=(const ZeroedBytes& other);
    ZeroedBytes(ZeroedBytes&& other) noexcept;
    ZeroedBytes& operator=(ZeroedBytes&& other) noexcept;
    ~ZeroedBytes();
    void* data() const { return data_; }

   private:
    void Release();
    void* data_ = nullptr;
    size_t size_ = 0;
    bool mapped_ = false;
  };

  // Open addressing with linear probing over a power-of-two number of
  // slots, each a 64-bit key (0: empty; keys are hashes, 0 is mapped to 1)
  // and a 32-bit value, kept apart so that a probe reads keys only.
  class HashIndex {
   public:
    HashIndex() : HashIndex(16) {}
    void Prefetch(uint64_t key) const {
      __builtin_prefetch(&keys()[key & mask_]);
      __builtin_prefetch(&values()[key & mask_]);
    }
    // The slot holding `key` for which same(value) holds, or the empty slot
    // where it would go (then Insert there).
    template <typename Same>
    size_t Find(uint64_t key, Same same) const {
      for (size_t i = key & mask_;; i = (i + 1) & mask_) {
        const uint64_t k = keys()[i];
        if (k == 0 || (k == key && same(values()[i]))) return i;
      }
    }
    bool empty(size_t slot) const { return keys()[slot] == 0; }
    uint64_t key(size_t slot) const { return keys()[slot]; }
    uint32_t value(size_t slot) const { return values()[slot]; }
    // Fills the empty `slot` found for `key`; may move every slot.
    void Insert(size_t slot, uint64_t key, uint32_t value);
    size_t slots() const { return mask_ + 1; }
    size_t used() const { return used_; }

   private:
    explicit HashIndex(size_t slots);
    uint64_t* keys() const { return static_cast<uint64_t*>(keys_.data()); }
    uint32_t* values() const { return static_cast<uint32_t*>(values_.data()); }
    size_t mask_;
    size_t used_ = 0;
    ZeroedBytes keys_, values_;
  };

  // A kept request between Add and its application.
  struct Pending {
    std::string id;
    uint64_t id_hash = 0, request_key = 0, ip = 0, referer = 0, user_agent = 0;
    int64_t time_ms = 0;
    uint32_t session = 0;
  };
  static constexpr size_t kPipelineDepth = 16;
  // Add → session found by its id's hash (its stats prefetched); Apply
  // checks the id itself.
  static constexpr size_t kResolveLag = 8;

  uint32_t FindOrAddSession(uint64_t id_hash, absl::string_view id) const;
  // Adds the request to the distinct set; true when it was new.
  bool AddRequest(uint64_t key, uint32_t session) const;
  void Resolve(Pending& p) const;
  void Apply(Pending& p) const;
  void Drain() const;

  uint64_t HashId(absl::string_view id) const;

  Window window_;
  IdHash id_hash_ = nullptr;  // nullptr: absl::Hash
  // Logically const readers apply what is pending: the pipeline is mutable.
  mutable std::vector<SessionStats> sessions_;
  mutable HashIndex session_index_;   // id hash → session
  mutable HashIndex request_index_;   // (id hash, IP, URI) hash → session
  mutable std::array<Pending, kPipelineDepth> ring_;
  mutable uint64_t added_ = 0, resolved_ = 0, applied_ = 0;  // counts through the ring
};

}  // namespace edgepass::analyze

#endif  // EDGEPASS_CLIENT_ANALYZE_SESSION_TABLE_H_
