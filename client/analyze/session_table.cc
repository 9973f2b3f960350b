#include "client/analyze/session_table.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/hash/hash.h"
#include "client/analyze/log_text.h"

namespace edgepass::analyze {

void DistinctCounter::Add(uint64_t hash) {
  if (seen_.size() >= kMaxDistinctTracked) return;
  if (std::find(seen_.begin(), seen_.end(), hash) != seen_.end()) return;
  seen_.push_back(hash);
}

void DistinctCounter::Merge(const DistinctCounter& other) {
  for (uint64_t h : other.seen_) Add(h);
}

AddResult SessionTable::Add(const LogRecord& r) {
  if ((r.status != 200 && r.status != 206) || r.bytes <= kMinResponseBytes ||
      r.time_ms < window_.start_ms || r.time_ms > window_.end_ms) {
    return AddResult::kFiltered;
  }
  absl::string_view id = r.session_id;
  if (id.empty()) {
    std::optional<absl::string_view> derived = SessionIdFromUri(r.uri);
    if (!derived.has_value()) return AddResult::kNoSession;
    id = *derived;
  }
  auto it = sessions_.find(id);
  if (it == sessions_.end()) it = sessions_.emplace(std::string(id), SessionStats()).first;
  SessionStats& s = it->second;
  s.first_ms = std::min(s.first_ms, r.time_ms);
  s.last_ms = std::max(s.last_ms, r.time_ms);
  s.requests.insert(absl::Hash<std::pair<absl::string_view, absl::string_view>>()({r.client_ip, r.uri}));
  const absl::Hash<absl::string_view> hash;
  s.ips.Add(hash(r.client_ip));
  s.referers.Add(hash(r.referer));
  s.user_agents.Add(hash(r.user_agent));
  return AddResult::kKept;
}

void SessionTable::Merge(SessionTable&& other) {
  if (sessions_.empty()) {
    sessions_ = std::move(other.sessions_);
    return;
  }
  for (auto& [id, theirs] : other.sessions_) {
    auto [it, inserted] = sessions_.try_emplace(id);
    SessionStats& mine = it->second;
    if (inserted) {
      mine = std::move(theirs);
      continue;
    }
    mine.first_ms = std::min(mine.first_ms, theirs.first_ms);
    mine.last_ms = std::max(mine.last_ms, theirs.last_ms);
    mine.requests.insert(theirs.requests.begin(), theirs.requests.end());
    mine.ips.Merge(theirs.ips);
    mine.referers.Merge(theirs.referers);
    mine.user_agents.Merge(theirs.user_agents);
  }
  other.sessions_.clear();
}

}  // namespace edgepass::analyze
