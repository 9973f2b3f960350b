#include "server/live_state.h"

#include <malloc.h>

#include <algorithm>
#include <iostream>
#include <map>
#include <utility>

#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "core/crypto.h"
#include "core/status_macros.h"

namespace edgepass::server {
namespace {

void LogLine(absl::string_view line) { std::cerr << "edgepass-server: " << line << std::endl; }

bool ById(const EdgeRevoked& a, const EdgeRevoked& b) { return a.session_id < b.session_id; }

}  // namespace

// --- EdgeRevokedSet ---

size_t EdgeRevokedSet::BucketOf(absl::string_view session_id) {
  return absl::HashOf(session_id) % kBuckets;
}

const EdgeRevoked* EdgeRevokedSet::Find(absl::string_view session_id) const {
  if (buckets_ == nullptr) return nullptr;
  const Bucket& b = *(*buckets_)[BucketOf(session_id)];
  auto it = std::lower_bound(b.begin(), b.end(), session_id,
                             [](const EdgeRevoked& e, absl::string_view id) { return e.session_id < id; });
  return it != b.end() && it->session_id == session_id ? &*it : nullptr;
}

bool EdgeRevokedSet::Take(Cursor* cursor, size_t max, std::vector<EdgeRevoked>* out) const {
  if (buckets_ == nullptr) return false;
  while (cursor->bucket < kBuckets && max > 0) {
    const Bucket& b = *(*buckets_)[cursor->bucket];
    const size_t n = std::min(max, b.size() - cursor->offset);
    out->insert(out->end(), b.begin() + cursor->offset, b.begin() + cursor->offset + n);
    cursor->offset += n;
    max -= n;
    if (cursor->offset == b.size()) {
      ++cursor->bucket;
      cursor->offset = 0;
    }
  }
  while (cursor->bucket < kBuckets && (*buckets_)[cursor->bucket]->empty()) ++cursor->bucket;
  return cursor->bucket < kBuckets;
}

std::vector<EdgeRevoked> EdgeRevokedSet::Sorted() const {
  std::vector<EdgeRevoked> out;
  out.reserve(size_);
  Cursor all;
  Take(&all, size_, &out);
  std::sort(out.begin(), out.end(), ById);
  return out;
}

EdgeRevokedSet EdgeRevokedSet::Of(std::vector<EdgeRevoked> entries) {
  std::vector<Bucket> buckets(kBuckets);
  for (EdgeRevoked& e : entries) {
    const size_t b = BucketOf(e.session_id);
    buckets[b].push_back(std::move(e));
  }
  EdgeRevokedSet out;
  auto all = std::make_shared<Buckets>();
  all->reserve(kBuckets);
  for (Bucket& b : buckets) {
    std::sort(b.begin(), b.end(), ById);
    b.erase(std::unique(b.begin(), b.end(),
                        [](const EdgeRevoked& x, const EdgeRevoked& y) { return x.session_id == y.session_id; }),
            b.end());
    out.size_ += b.size();
    all->push_back(std::make_shared<const Bucket>(std::move(b)));
  }
  out.buckets_ = std::move(all);
  return out;
}

EdgeRevokedSet EdgeRevokedSet::With(absl::Span<const EdgeRevoked> adds, absl::Span<const std::string> removes) const {
  if (adds.empty() && removes.empty()) return *this;
  if (buckets_ == nullptr) return Of(std::vector<EdgeRevoked>(adds.begin(), adds.end())).With({}, removes);
  auto next = std::make_shared<Buckets>(*buckets_);  // kBuckets pointers; the buckets are shared
  std::map<size_t, Bucket> touched;
  auto bucket = [&](absl::string_view id) -> Bucket& {
    const size_t b = BucketOf(id);
    auto it = touched.find(b);
    if (it == touched.end()) it = touched.emplace(b, *(*buckets_)[b]).first;
    return it->second;
  };
  EdgeRevokedSet out;
  out.size_ = size_;
  for (const std::string& id : removes) {
    Bucket& b = bucket(id);
    auto it = std::lower_bound(b.begin(), b.end(), id,
                               [](const EdgeRevoked& e, const std::string& k) { return e.session_id < k; });
    if (it != b.end() && it->session_id == id) {
      b.erase(it);
      --out.size_;
    }
  }
  for (const EdgeRevoked& e : adds) {
    Bucket& b = bucket(e.session_id);
    auto it = std::lower_bound(b.begin(), b.end(), e, ById);
    if (it != b.end() && it->session_id == e.session_id) {
      *it = e;
    } else {
      b.insert(it, e);
      ++out.size_;
    }
  }
  for (auto& [index, b] : touched) (*next)[index] = std::make_shared<const Bucket>(std::move(b));
  out.buckets_ = std::move(next);
  return out;
}

void EdgeRevokedSet::Diff(const EdgeRevokedSet& from, const EdgeRevokedSet& to, std::vector<EdgeRevoked>* adds,
                          std::vector<std::string>* removes) {
  static const Bucket kEmpty;
  for (size_t i = 0; i < kBuckets; ++i) {
    const Bucket& a = from.buckets_ == nullptr ? kEmpty : *(*from.buckets_)[i];
    const Bucket& b = to.buckets_ == nullptr ? kEmpty : *(*to.buckets_)[i];
    if (&a == &b) continue;  // shared: unchanged
    auto x = a.begin();
    auto y = b.begin();
    while (x != a.end() || y != b.end()) {
      if (y == b.end() || (x != a.end() && x->session_id < y->session_id)) {
        removes->push_back((x++)->session_id);
      } else if (x == a.end() || y->session_id < x->session_id) {
        adds->push_back(*y++);
      } else {
        if (x->expires_at != y->expires_at) adds->push_back(*y);
        ++x;
        ++y;
      }
    }
  }
}

namespace {

// Same entries (sizes already equal): a full reload that changed nothing.
bool EdgeRevokedSetsEqual(const EdgeRevokedSet& a, const EdgeRevokedSet& b) {
  if (a.SharesAllWith(b)) return true;
  std::vector<EdgeRevoked> adds;
  std::vector<std::string> removes;
  EdgeRevokedSet::Diff(a, b, &adds, &removes);
  return adds.empty() && removes.empty();
}

}  // namespace

// --- LiveState ---

bool LiveState::Rank::operator<(const Rank& o) const {
  if (automatic != o.automatic) return !automatic;  // MANUAL first
  if (!automatic && added_at != o.added_at) return added_at > o.added_at;  // newest first
  if (automatic && score != o.score) return score > o.score;                // highest first
  return *id < *o.id;
}

std::string KeyringFingerprint(const core::Keyring& keyring) {
  const core::Sha256Digest digest =
      core::HmacSha256("edgepass keyring fingerprint", core::KeyringToJson(keyring));
  return core::HexEncode(absl::string_view(reinterpret_cast<const char*>(digest.data()), 8));
}

LiveState::LiveState(CatalogStore* catalogs, SessionStore* sessions, KeyringSource* keys,
                     ChangeFeed* feed, Clock clock, LiveStateOptions options)
    : catalogs_(catalogs),
      sessions_(sessions),
      keys_(keys),
      feed_(feed),
      clock_(std::move(clock)),
      options_(options) {}

LiveState::~LiveState() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

absl::Status LiveState::Start() {
  EDGEPASS_RETURN_IF_ERROR(ReloadCatalog());
  EDGEPASS_RETURN_IF_ERROR(ReloadEdge(/*sessions_changed=*/true));
  feed_->Subscribe([this](ChangeKind kind) { RequestReload(kind); });
  thread_ = std::thread([this] { Run(); });
  return absl::OkStatus();
}

// Readers share the lock: every issuing call asks for the catalog.
std::shared_ptr<const Catalog> LiveState::catalog() const {
  absl::ReaderMutexLock lock(&mu_);
  return catalog_;
}

std::shared_ptr<const EdgeSnapshot> LiveState::edge() const {
  absl::ReaderMutexLock lock(&mu_);
  return edge_;
}

void LiveState::RequestReload(ChangeKind kind) {
  absl::MutexLock lock(&mu_);
  if (kind == ChangeKind::kCatalog) catalog_dirty_ = true;
  if (kind == ChangeKind::kSessions) sessions_dirty_ = true;
  // kKeyring: the keyring source invalidates itself; the poll picks it up.
}

std::shared_ptr<const EdgeSnapshot> LiveState::WaitForEdgeChange(const EdgeSnapshot& have,
                                                                 absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  auto changed = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return stop_ || !edge_->SameAs(have) || edge_->sequence != have.sequence;
  };
  mu_.AwaitWithTimeout(absl::Condition(&changed), timeout);
  return edge_;
}

bool LiveState::AwaitEdgeVersion(uint64_t version, absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  auto reached = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return stop_ || edge_->version >= version; };
  return mu_.AwaitWithTimeout(absl::Condition(&reached), timeout) && edge_->version >= version;
}

absl::Status LiveState::ReloadCatalog() {
  EDGEPASS_ASSIGN_OR_RETURN(VersionedCatalog loaded, catalogs_->Load());
  absl::MutexLock lock(&mu_);
  catalog_ = std::move(loaded.catalog);
  return absl::OkStatus();
}

bool LiveState::Eligible(const Held& held, absl::Time now) const {
  // core::CompileRevocationList's filter.
  return !(held.expires_at <= now || held.added_at + options_.revocations.retention < now);
}

void LiveState::Insert(const std::string* id, const Held& held, EdgeChange* change) {
  const size_t capacity = options_.revocations.capacity;
  auto it = ranked_.insert(Rank{held.automatic, held.added_at, held.score, id}).first;
  if (capacity == 0) return;
  if (in_list_ < capacity) {  // room: it is on the list
    ++in_list_;
    if (last_in_ == ranked_.end() || *last_in_ < *it) last_in_ = it;
    change->adds.push_back({*id, held.expires_at});
  } else if (*it < *last_in_) {  // outranks the last one on the list, which leaves it
    change->adds.push_back({*id, held.expires_at});
    change->removes.push_back(*last_in_->id);
    last_in_ = std::prev(last_in_);
  }
}

void LiveState::Erase(const std::string& id, EdgeChange* change) {
  auto held = held_.find(id);
  if (held == held_.end()) return;
  auto it = ranked_.find(Rank{held->second.automatic, held->second.added_at, held->second.score, &held->first});
  if (it != ranked_.end()) {
    const bool on_list = in_list_ > 0 && !(*last_in_ < *it);
    if (on_list) {
      change->removes.push_back(id);
      auto next_out = std::next(last_in_);  // the best ranked entry not on the list
      auto new_last = it == last_in_ ? (it == ranked_.begin() ? ranked_.end() : std::prev(it)) : last_in_;
      ranked_.erase(it);
      --in_list_;
      if (next_out != ranked_.end()) {  // moves up onto the list
        const Held& promoted = held_.find(*next_out->id)->second;
        change->adds.push_back({*next_out->id, promoted.expires_at});
        ++in_list_;
        last_in_ = next_out;
      } else {
        last_in_ = new_last;
      }
    } else {
      ranked_.erase(it);
    }
  }
  held_.erase(held);
}

void LiveState::Apply(const std::string& id, const core::RevocationEntry* entry, absl::Time now,
                      EdgeChange* change) {
  Erase(id, change);
  if (entry == nullptr) return;
  Held held{.added_at = entry->added_at,
            .expires_at = entry->expires_at,
            .score = entry->score,
            .automatic = entry->type == core::RevocationType::kAuto};
  if (!Eligible(held, now)) return;  // never comes back: time only moves on
  auto [it, added] = held_.emplace(id, held);
  Insert(&it->first, held, change);
  // When it may leave the list: at its expiry or just past retention.
  leaving_.emplace_back(std::min(held.expires_at, held.added_at + options_.revocations.retention + absl::Nanoseconds(1)),
                        id);
  std::push_heap(leaving_.begin(), leaving_.end(), std::greater<>());
}

void LiveState::Expire(absl::Time now, EdgeChange* change) {
  while (!leaving_.empty() && leaving_.front().first <= now) {
    std::pop_heap(leaving_.begin(), leaving_.end(), std::greater<>());
    std::string id = std::move(leaving_.back().second);
    leaving_.pop_back();
    auto it = held_.find(id);
    if (it != held_.end() && !Eligible(it->second, now)) Erase(id, change);  // else a replaced entry's item
  }
  if (leaving_.size() > 2 * held_.size() + 1024) {  // mostly stale items of replaced entries
    leaving_.clear();
    for (const auto& [id, held] : held_) {
      leaving_.emplace_back(
          std::min(held.expires_at, held.added_at + options_.revocations.retention + absl::Nanoseconds(1)), id);
    }
    std::make_heap(leaving_.begin(), leaving_.end(), std::greater<>());
  }
}

void LiveState::LoadAll(const std::vector<core::RevocationEntry>& entries, absl::Time now) {
  held_.clear();
  ranked_.clear();
  last_in_ = ranked_.end();
  in_list_ = 0;
  leaving_.clear();
  EdgeChange ignored;
  for (const core::RevocationEntry& e : entries) Apply(e.session_id, &e, now, &ignored);
  std::vector<EdgeRevoked> on_list;
  on_list.reserve(in_list_);
  if (in_list_ > 0) {
    for (auto it = ranked_.begin();; ++it) {
      on_list.push_back({*it->id, held_.find(*it->id)->second.expires_at});
      if (it == last_in_) break;
    }
  }
  compiled_ = EdgeRevokedSet::Of(std::move(on_list));
}

absl::Status LiveState::ReloadEdge(bool sessions_changed) {
  EDGEPASS_ASSIGN_OR_RETURN(std::shared_ptr<const core::Keyring> keyring, keys_->Current());
  std::string fingerprint = KeyringFingerprint(*keyring);
  const absl::Time now = clock_();
  EdgeChange change;
  bool full = false;
  uint64_t version = stored_sessions_version_;
  if (sessions_changed && sessions_loaded_) {
    // Only what this replica has not applied yet.
    EDGEPASS_ASSIGN_OR_RETURN(SessionChanges since, sessions_->ChangesSince(stored_sessions_version_));
    if (since.too_old) {
      full = true;
    } else {
      for (const SessionChange& c : since.changes) {
        Apply(c.session_id, c.entry.has_value() ? &*c.entry : nullptr, now, &change);
      }
      version = since.version;
    }
  }
  if (full || (sessions_changed && !sessions_loaded_)) {
    {
      EDGEPASS_ASSIGN_OR_RETURN(SessionList list, sessions_->List());
      LoadAll(list.entries, now);
      version = list.version;
    }
    // The full list read just now (hundreds of MB at a million entries) is
    // freed; hand the pages back instead of keeping them as the high mark.
    malloc_trim(0);
    sessions_loaded_ = true;
    full = true;
  }
  Expire(now, &change);

  EdgeRevokedSet revoked = compiled_;
  if (!full) {
    // The net change against the list validators hold now.
    std::map<std::string, std::optional<EdgeRevoked>> last;
    for (const std::string& id : change.removes) last[id] = std::nullopt;
    // Adds after removes only where an id was removed and added in one go
    // (Erase then Insert); the held map says what is on the list now.
    for (EdgeRevoked& e : change.adds) last[e.session_id] = std::move(e);
    change.adds.clear();
    change.removes.clear();
    for (auto& [id, e] : last) {
      auto held = held_.find(id);
      bool on_list = false;
      if (held != held_.end() && in_list_ > 0) {
        const Rank rank{held->second.automatic, held->second.added_at, held->second.score, &held->first};
        on_list = !(*last_in_ < rank);  // every held entry is ranked
      }
      const EdgeRevoked* had = compiled_.Find(id);
      if (on_list) {
        const EdgeRevoked now_entry{id, held->second.expires_at};
        if (had == nullptr || !(*had == now_entry)) change.adds.push_back(now_entry);
      } else if (had != nullptr) {
        change.removes.push_back(id);
      }
    }
    revoked = compiled_.With(change.adds, change.removes);
    compiled_ = revoked;
  }
  stored_sessions_version_ = version;

  absl::MutexLock lock(&mu_);
  if (edge_ != nullptr && edge_->version == version && edge_->keyring_fingerprint == fingerprint &&
      (full ? edge_->revoked.size() == revoked.size() && EdgeRevokedSetsEqual(edge_->revoked, revoked)
            : change.adds.empty() && change.removes.empty())) {
    if (full) compiled_ = edge_->revoked;  // keep sharing the buckets validators were sent
    return absl::OkStatus();
  }
  auto next = std::make_shared<EdgeSnapshot>();
  next->version = version;
  next->keyring = std::move(keyring);
  next->keyring_fingerprint = std::move(fingerprint);
  next->revoked = std::move(revoked);
  next->sequence = edge_ == nullptr ? 1 : edge_->sequence + 1;
  kept_changes_.push_back(
      {next->sequence, full ? nullptr : std::make_shared<const EdgeChange>(std::move(change))});
  while (kept_changes_.size() > kKeptEdgeChanges) kept_changes_.pop_front();
  edge_ = std::move(next);
  return absl::OkStatus();
}

std::optional<EdgeChange> LiveState::EdgeChangesBetween(uint64_t from, uint64_t to) const {
  std::vector<std::shared_ptr<const EdgeChange>> changes;
  {
    absl::MutexLock lock(&mu_);
    if (from > to) return std::nullopt;
    if (from == to) return EdgeChange{};
    if (kept_changes_.empty() || kept_changes_.front().sequence > from + 1 || kept_changes_.back().sequence < to) {
      return std::nullopt;
    }
    for (auto it = kept_changes_.begin() + static_cast<ptrdiff_t>(from + 1 - kept_changes_.front().sequence);
         it != kept_changes_.end() && it->sequence <= to; ++it) {
      if (it->change == nullptr) return std::nullopt;
      changes.push_back(it->change);
    }
  }
  if (changes.size() == 1) return *changes[0];
  std::map<std::string, std::optional<EdgeRevoked>> last;  // the last change of each id wins
  for (const auto& c : changes) {
    for (const std::string& id : c->removes) last[id] = std::nullopt;
    for (const EdgeRevoked& e : c->adds) last[e.session_id] = e;
  }
  EdgeChange out;
  for (auto& [id, e] : last) {
    if (e.has_value()) {
      out.adds.push_back(std::move(*e));
    } else {
      out.removes.push_back(id);
    }
  }
  return out;
}

void LiveState::Run() {
  absl::Time next_full = clock_() + options_.refresh_interval;
  // Pending reloads survive failures and are retried at the next poll, so a
  // store outage neither spins this loop nor loses a notification.
  bool catalog_pending = false;
  bool sessions_pending = false;
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      auto woken = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
        return stop_ || catalog_dirty_ || sessions_dirty_;
      };
      mu_.AwaitWithTimeout(absl::Condition(&woken), options_.keyring_poll_interval);
      if (stop_) return;
      catalog_pending = catalog_pending || catalog_dirty_;
      sessions_pending = sessions_pending || sessions_dirty_;
      catalog_dirty_ = sessions_dirty_ = false;
    }
    if (clock_() >= next_full) {
      catalog_pending = sessions_pending = true;
      next_full = clock_() + options_.refresh_interval;
    }
    if (catalog_pending) {
      absl::Status s = ReloadCatalog();
      if (!s.ok()) LogLine(absl::StrCat("catalog reload failed, serving the last one: ", s.message()));
      catalog_pending = !s.ok();
    }
    absl::Status s = ReloadEdge(sessions_pending);
    if (!s.ok() && sessions_pending) {
      LogLine(absl::StrCat("revocation list reload failed, serving the last one: ", s.message()));
    }
    sessions_pending = sessions_pending && !s.ok();
  }
}

}  // namespace edgepass::server
