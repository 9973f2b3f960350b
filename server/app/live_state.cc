#include "server/app/live_state.h"

#include <malloc.h>

#include <algorithm>
#include <iostream>
#include <map>
#include <optional>
#include <type_traits>
#include <utility>

#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "core/crypto.h"
#include "core/status_macros.h"

namespace edgepass::server {
namespace {

void LogLine(absl::string_view line) { std::cerr << "edgepass-server: " << line << std::endl; }

}  // namespace

// --- EdgeRevokedSet ---

size_t EdgeRevokedSet::BucketOf(absl::string_view session_id) {
  return absl::HashOf(session_id) % kBuckets;
}

namespace {

// Orders bucket entries by id, and finds an id among them.
struct ById {
  template <typename A, typename B>
  bool operator()(const A& a, const B& b) const {
    return View(a) < View(b);
  }
  template <typename E>
  static absl::string_view View(const E& e) {
    if constexpr (std::is_convertible_v<const E&, absl::string_view>) {
      return e;
    } else if constexpr (std::is_same_v<E, EdgeRevoked>) {
      return e.session_id;
    } else {
      return e.session_id.view();
    }
  }
};

}  // namespace

std::optional<EdgeRevoked> EdgeRevokedSet::Find(absl::string_view session_id) const {
  if (buckets_ == nullptr) return std::nullopt;
  const Bucket& b = *(*buckets_)[BucketOf(session_id)];
  auto it = std::lower_bound(b.begin(), b.end(), session_id, ById());
  if (it == b.end() || it->session_id.view() != session_id) return std::nullopt;
  return EdgeRevoked{std::string(session_id), it->expires_at};
}

bool EdgeRevokedSet::Take(Cursor* cursor, size_t max, std::vector<EdgeRevoked>* out) const {
  if (buckets_ == nullptr) return false;
  while (cursor->bucket < kBuckets && max > 0) {
    const Bucket& b = *(*buckets_)[cursor->bucket];
    const size_t n = std::min(max, b.size() - cursor->offset);
    for (size_t i = cursor->offset; i < cursor->offset + n; ++i) {
      out->push_back({b[i].session_id.str(), b[i].expires_at});
    }
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
  std::sort(out.begin(), out.end(), ById());
  return out;
}

EdgeRevokedSet EdgeRevokedSet::Of(const std::vector<EdgeRevoked>& entries) {
  return Build([&](EntrySink sink) {
    for (const EdgeRevoked& e : entries) sink(e.session_id, e.expires_at);
  });
}

EdgeRevokedSet EdgeRevokedSet::Build(absl::FunctionRef<void(EntrySink)> each) {
  // Counted first, so each bucket is allocated once at its final size.
  std::vector<size_t> counts(kBuckets);
  each([&](absl::string_view id, absl::Time) { ++counts[BucketOf(id)]; });
  std::vector<Bucket> buckets(kBuckets);
  for (size_t i = 0; i < kBuckets; ++i) buckets[i].reserve(counts[i]);
  each([&](absl::string_view id, absl::Time expires_at) {
    Bucket& b = buckets[BucketOf(id)];
    if (b.size() < b.capacity()) b.push_back({CompactId(id), expires_at});
  });
  EdgeRevokedSet out;
  auto all = std::make_shared<Buckets>();
  all->reserve(kBuckets);
  for (Bucket& b : buckets) {
    // Stable: of two entries with one id, the first one given is kept.
    std::stable_sort(b.begin(), b.end(), ById());
    b.erase(std::unique(b.begin(), b.end(),
                        [](const Packed& x, const Packed& y) { return x.session_id == y.session_id; }),
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
    if (it == touched.end()) {
      const Bucket& from = *(*buckets_)[b];
      Bucket copy;
      copy.reserve(from.size() + adds.size());  // never regrown by the adds
      copy.assign(from.begin(), from.end());
      it = touched.emplace(b, std::move(copy)).first;
    }
    return it->second;
  };
  EdgeRevokedSet out;
  out.size_ = size_;
  for (const std::string& id : removes) {
    Bucket& b = bucket(id);
    auto it = std::lower_bound(b.begin(), b.end(), id, ById());
    if (it != b.end() && it->session_id.view() == id) {
      b.erase(it);
      --out.size_;
    }
  }
  for (const EdgeRevoked& e : adds) {
    Bucket& b = bucket(e.session_id);
    auto it = std::lower_bound(b.begin(), b.end(), e.session_id, ById());
    if (it != b.end() && it->session_id.view() == e.session_id) {
      it->expires_at = e.expires_at;
    } else {
      b.insert(it, Packed{CompactId(e.session_id), e.expires_at});
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
        removes->push_back((x++)->session_id.str());
      } else if (x == a.end() || y->session_id < x->session_id) {
        adds->push_back({y->session_id.str(), y->expires_at});
        ++y;
      } else {
        if (x->expires_at != y->expires_at) adds->push_back({y->session_id.str(), y->expires_at});
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

bool LiveState::RankLess::operator()(const Held* a, const Held* b) const {
  if (a->automatic != b->automatic) return !a->automatic;  // MANUAL first
  if (!a->automatic && a->added_at != b->added_at) return a->added_at > b->added_at;  // newest first
  if (a->automatic && a->score != b->score) return a->score > b->score;                // highest first
  return a->id.view() < b->id.view();
}

absl::Time LiveState::LeaveLess::LeaveAt(const Held* h) const {
  return std::min(h->expires_at, h->added_at + retention + absl::Nanoseconds(1));
}

bool LiveState::LeaveLess::operator()(const Held* a, const Held* b) const {
  const absl::Time x = LeaveAt(a);
  const absl::Time y = LeaveAt(b);
  if (x != y) return x < y;
  return a->id.view() < b->id.view();
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
      options_(options),
      leaving_(LeaveLess{options.revocations.retention}) {}

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
  absl::ReaderMutexLock lock(&catalog_mu_);
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
  // kKeyring: the keyring source is up to date by now (the Redis cache
  // subscribed to the feed first, so it was told first and re-reads its copy;
  // the embedded cache announces its own Share()); the loop asks it now
  // rather than at the next poll, so a revoked key leaves the edge at once.
  if (kind == ChangeKind::kKeyring) keyring_dirty_ = true;
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
  absl::MutexLock lock(&catalog_mu_);
  catalog_ = std::move(loaded.catalog);
  return absl::OkStatus();
}

LiveState::Held* LiveState::FindHeld(absl::string_view id) const {
  auto it = held_.find(id);
  return it == held_.end() ? nullptr : *it;
}

void LiveState::Insert(Held* held, EdgeChange* change) {
  ranked_.insert(held);
  leaving_.insert(held);
  const size_t capacity = options_.revocations.capacity;
  if (capacity == 0) return;
  if (in_list_ < capacity) {  // room: it is on the list
    ++in_list_;
    if (last_in_ == nullptr || RankLess()(last_in_, held)) last_in_ = held;
    if (change != nullptr) change->adds.push_back({held->id.str(), held->expires_at});
  } else if (RankLess()(held, last_in_)) {  // outranks the last one on the list, which leaves it
    if (change != nullptr) {
      change->adds.push_back({held->id.str(), held->expires_at});
      change->removes.push_back(last_in_->id.str());
    }
    last_in_ = *std::prev(ranked_.find(last_in_));
  }
}

void LiveState::Erase(Held* held, EdgeChange* change) {
  auto it = ranked_.find(held);
  if (OnList(held)) {
    if (change != nullptr) change->removes.push_back(held->id.str());
    auto next_out = std::next(ranked_.find(last_in_));  // the best ranked entry not on the list
    Held* promoted = next_out == ranked_.end() ? nullptr : *next_out;
    Held* new_last = held != last_in_ ? last_in_ : (it == ranked_.begin() ? nullptr : *std::prev(it));
    ranked_.erase(it);
    --in_list_;
    if (promoted != nullptr) {  // moves up onto the list
      if (change != nullptr) change->adds.push_back({promoted->id.str(), promoted->expires_at});
      ++in_list_;
      last_in_ = promoted;
    } else {
      last_in_ = new_last;
    }
  } else {
    ranked_.erase(it);
  }
  leaving_.erase(held);
  held_.erase(held);
  held->id = CompactId();
  free_.push_back(held);
}

void LiveState::Apply(absl::string_view id, const core::RevocationEntry* entry, absl::Time now,
                      EdgeChange* change) {
  if (Held* old = FindHeld(id)) Erase(old, change);
  if (entry == nullptr) return;
  const bool automatic = entry->type == core::RevocationType::kAuto;
  // core::CompileRevocationList's filter: an entry it drops never comes
  // back, since time only moves on.
  if (entry->expires_at <= now || entry->added_at + options_.revocations.retention < now) return;
  Held* held;
  if (free_.empty()) {
    held = &pool_.emplace_back();
  } else {
    held = free_.back();
    free_.pop_back();
  }
  held->id = CompactId(id);
  held->added_at = entry->added_at;
  held->expires_at = entry->expires_at;
  held->score = entry->score;
  held->automatic = automatic;
  held_.insert(held);
  Insert(held, change);
}

void LiveState::Expire(absl::Time now, EdgeChange* change) {
  while (!leaving_.empty()) {
    Held* first = *leaving_.begin();
    if (leaving_.key_comp().LeaveAt(first) > now) break;
    Erase(first, change);  // at its expiry or past retention: off the list for good
  }
}

void LiveState::ClearHeld() {
  held_ = {};
  ranked_.clear();
  leaving_.clear();
  last_in_ = nullptr;
  in_list_ = 0;
  free_ = {};
  pool_ = {};
}

absl::StatusOr<SessionLoad> LiveState::LoadAll(absl::Time now) {
  ClearHeld();
  sessions_loaded_ = false;  // until the whole list is in
  // Streamed from the store, change by change: neither the stored list nor
  // the changes to it are ever held in memory as a whole.
  EDGEPASS_ASSIGN_OR_RETURN(const SessionLoad loaded,
                            sessions_->Load([&](absl::string_view id, const core::RevocationEntry* entry) {
                              Apply(id, entry, now, nullptr);
                            }));
  sessions_loaded_ = true;
  compiled_ = EdgeRevokedSet::Build([&](EdgeRevokedSet::EntrySink sink) {
    if (in_list_ == 0) return;
    for (const Held* h : ranked_) {
      sink(h->id.view(), h->expires_at);
      if (h == last_in_) break;
    }
  });
  return loaded;
}

absl::Status LiveState::ReloadEdge(bool sessions_changed, bool check) {
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
        // A removal is logged only for a session that was stored.
        if (!c.entry.has_value() && stored_count_ > 0) --stored_count_;
        if (c.entry.has_value() && c.created) ++stored_count_;
      }
      version = since.version;
      if (check && since.stored_count.has_value() && *since.stored_count != stored_count_) {
        LogLine(absl::StrCat("revocation list out of step with the store at version ", version, " (",
                             *since.stored_count, " entries stored, ", stored_count_,
                             " counted here): loading it again"));
        resyncs_.fetch_add(1, std::memory_order_relaxed);
        full = true;
      }
    }
  }
  // Also after a full load that failed half-way (what is held is partial).
  if (full || !sessions_loaded_) {
    EDGEPASS_ASSIGN_OR_RETURN(const SessionLoad loaded, LoadAll(now));
    version = loaded.version;
    stored_count_ = loaded.count;
    // Hand back the pages the load's transient buffers and the structures
    // it replaced used, instead of keeping them as the high mark.
    malloc_trim(0);
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
      const Held* held = FindHeld(id);
      const std::optional<EdgeRevoked> had = compiled_.Find(id);
      if (held != nullptr && OnList(held)) {
        const EdgeRevoked now_entry{id, held->expires_at};
        if (!had.has_value() || !(*had == now_entry)) change.adds.push_back(now_entry);
      } else if (had.has_value()) {
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
  const bool checking = options_.consistency_check_interval > absl::ZeroDuration();
  absl::Time next_check = checking ? clock_() + options_.consistency_check_interval : absl::InfiniteFuture();
  bool check_pending = false;
  // Pending reloads survive failures and are retried at the next poll, so a
  // store outage neither spins this loop nor loses a notification.
  bool catalog_pending = false;
  bool sessions_pending = false;
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      auto woken = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
        return stop_ || catalog_dirty_ || sessions_dirty_ || keyring_dirty_;
      };
      mu_.AwaitWithTimeout(absl::Condition(&woken), options_.keyring_poll_interval);
      if (stop_) return;
      catalog_pending = catalog_pending || catalog_dirty_;
      sessions_pending = sessions_pending || sessions_dirty_;
      catalog_dirty_ = sessions_dirty_ = keyring_dirty_ = false;
    }
    if (clock_() >= next_full) {
      catalog_pending = sessions_pending = true;
      next_full = clock_() + options_.refresh_interval;
    }
    if (clock_() >= next_check) {
      sessions_pending = check_pending = true;
      next_check = clock_() + options_.consistency_check_interval;
    }
    if (catalog_pending) {
      absl::Status s = ReloadCatalog();
      if (!s.ok()) LogLine(absl::StrCat("catalog reload failed, serving the last one: ", s.message()));
      catalog_pending = !s.ok();
    }
    absl::Status s = ReloadEdge(sessions_pending, check_pending);
    if (!s.ok() && sessions_pending) {
      LogLine(absl::StrCat("revocation list reload failed, serving the last one: ", s.message()));
    }
    sessions_pending = sessions_pending && !s.ok();
    check_pending = check_pending && !s.ok();
  }
}

}  // namespace edgepass::server
