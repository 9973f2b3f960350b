// Per-session aggregates of the requests inside the analysis window: what
// SMD's query computes per session id (distinct viewer-IP+URI pairs, first
// and last request, distinct IPs, referers and user agents). Memory grows
// with the number of sessions and of their distinct requests, not with the
// log size: values are kept as 64-bit hashes (exact up to hash collisions,
// about n²/2⁶⁵ for n values), and IP/referer/user-agent sets stop growing at
// kMaxDistinctTracked since only "more than one" scores.
//
//   SessionTable table({.start_ms = now_ms - 600000, .end_ms = now_ms});
//   table.Add(record);                 // kept, filtered or no session id
//   other.Merge(std::move(table));     // per-thread tables into one
#ifndef EDGEPASS_CLIENT_ANALYZE_SESSION_TABLE_H_
#define EDGEPASS_CLIENT_ANALYZE_SESSION_TABLE_H_

#include <cstdint>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/container/inlined_vector.h"
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
  int64_t first_ms = INT64_MAX;
  int64_t last_ms = INT64_MIN;
  absl::flat_hash_set<uint64_t> requests;  // hashes of (client IP, URI)
  DistinctCounter ips, referers, user_agents;
};

enum class AddResult { kKept, kFiltered, kNoSession };

// Not thread-safe: one per thread, merged at the end.
class SessionTable {
 public:
  explicit SessionTable(Window window = {}) : window_(window) {}

  // Keeps `r` when its status is 200/206, it sent more than
  // kMinResponseBytes, its time is in the window, and it has a session id
  // (r.session_id, else SessionIdFromUri(r.uri)).
  AddResult Add(const LogRecord& r);
  // Adds every session of `other` (same window) into this one.
  void Merge(SessionTable&& other);

  const Window& window() const { return window_; }
  const absl::flat_hash_map<std::string, SessionStats>& sessions() const { return sessions_; }

 private:
  Window window_;
  absl::flat_hash_map<std::string, SessionStats> sessions_;
};

}  // namespace edgepass::analyze

#endif  // EDGEPASS_CLIENT_ANALYZE_SESSION_TABLE_H_
