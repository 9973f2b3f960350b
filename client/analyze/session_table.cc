#include "client/analyze/session_table.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>
#include <optional>
#include <utility>

#include "absl/hash/hash.h"
#include "absl/numeric/int128.h"
#include "client/analyze/log_text.h"

namespace edgepass::analyze {
namespace {

constexpr size_t kHugePage = 2 << 20;

// Keys are never 0 (the empty slot).
uint64_t NonZero(uint64_t h) { return h == 0 ? 1 : h; }

// Two 64-bit hashes into one (the 128-bit product folded, as absl mixes).
uint64_t Mix(uint64_t a, uint64_t b) {
  const absl::uint128 m = absl::uint128(a ^ 0x9E3779B97F4A7C15ULL) * (b | 1);
  return absl::Uint128High64(m) ^ absl::Uint128Low64(m);
}

}  // namespace

void DistinctCounter::Add(uint64_t hash) {
  if (seen_.size() >= kMaxDistinctTracked) return;
  if (std::find(seen_.begin(), seen_.end(), hash) != seen_.end()) return;
  seen_.push_back(hash);
}

void DistinctCounter::Merge(const DistinctCounter& other) {
  for (uint64_t h : other.seen_) Add(h);
}

SessionTable::ZeroedBytes::ZeroedBytes(size_t n) : size_(n) {
  if (n >= kHugePage) {
    void* p = ::mmap(nullptr, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p != MAP_FAILED) {
      ::madvise(p, n, MADV_HUGEPAGE);  // a hint: fine when refused
      data_ = p;
      mapped_ = true;
      return;
    }
  }
  data_ = std::calloc(n, 1);
  if (data_ == nullptr) throw std::bad_alloc();
}

SessionTable::ZeroedBytes::ZeroedBytes(const ZeroedBytes& other) : ZeroedBytes(other.size_) {
  std::memcpy(data_, other.data_, size_);
}

SessionTable::ZeroedBytes& SessionTable::ZeroedBytes::operator=(const ZeroedBytes& other) {
  if (this != &other) *this = ZeroedBytes(other);
  return *this;
}

SessionTable::ZeroedBytes::ZeroedBytes(ZeroedBytes&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)), mapped_(other.mapped_) {}

SessionTable::ZeroedBytes& SessionTable::ZeroedBytes::operator=(ZeroedBytes&& other) noexcept {
  if (this != &other) {
    Release();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    mapped_ = other.mapped_;
  }
  return *this;
}

SessionTable::ZeroedBytes::~ZeroedBytes() { Release(); }

void SessionTable::ZeroedBytes::Release() {
  if (data_ == nullptr) return;
  if (mapped_) {
    ::munmap(data_, size_);
  } else {
    std::free(data_);
  }
  data_ = nullptr;
}

SessionTable::HashIndex::HashIndex(size_t slots)
    : mask_(slots - 1), keys_(slots * sizeof(uint64_t)), values_(slots * sizeof(uint32_t)) {}

void SessionTable::HashIndex::Insert(size_t slot, uint64_t key, uint32_t value) {
  keys()[slot] = key;
  values()[slot] = value;
  if (++used_ * 10 <= slots() * 7) return;  // load at most 0.7
  HashIndex bigger(slots() * 2);
  for (size_t i = 0; i < slots(); ++i) {
    if (keys()[i] == 0) continue;
    size_t j = keys()[i] & bigger.mask_;
    while (bigger.keys()[j] != 0) j = (j + 1) & bigger.mask_;
    bigger.keys()[j] = keys()[i];
    bigger.values()[j] = values()[i];
  }
  bigger.used_ = used_;
  *this = std::move(bigger);
}

SessionTable::SessionTable(Window window) : window_(window) {}

SessionTable::SessionTable(Window window, IdHash id_hash) : window_(window), id_hash_(id_hash) {}

uint64_t SessionTable::HashId(absl::string_view id) const {
  return NonZero(id_hash_ != nullptr ? id_hash_(id) : absl::Hash<absl::string_view>()(id));
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
  const absl::Hash<absl::string_view> hash;
  Pending& p = ring_[added_ % kPipelineDepth];
  p.id.assign(id.data(), id.size());
  p.id_hash = HashId(id);
  p.request_key = NonZero(Mix(p.id_hash, absl::Hash<std::pair<absl::string_view, absl::string_view>>()(
                                             {r.client_ip, r.uri})));
  p.ip = hash(r.client_ip);
  p.referer = hash(r.referer);
  p.user_agent = hash(r.user_agent);
  p.time_ms = r.time_ms;
  session_index_.Prefetch(p.id_hash);
  request_index_.Prefetch(p.request_key);
  ++added_;
  if (added_ - resolved_ > kResolveLag) Resolve(ring_[resolved_++ % kPipelineDepth]);
  if (added_ - applied_ == kPipelineDepth) Apply(ring_[applied_++ % kPipelineDepth]);
  return AddResult::kKept;
}

uint32_t SessionTable::FindOrAddSession(uint64_t id_hash, absl::string_view id) const {
  const size_t slot = session_index_.Find(id_hash, [&](uint32_t s) { return sessions_[s].id == id; });
  if (!session_index_.empty(slot)) return session_index_.value(slot);
  const auto index = static_cast<uint32_t>(sessions_.size());
  sessions_.emplace_back().id.assign(id.data(), id.size());
  session_index_.Insert(slot, id_hash, index);
  return index;
}

bool SessionTable::AddRequest(uint64_t key, uint32_t session) const {
  const size_t slot = request_index_.Find(key, [&](uint32_t s) { return s == session; });
  if (!request_index_.empty(slot)) return false;
  request_index_.Insert(slot, key, session);
  return true;
}

void SessionTable::Resolve(Pending& p) const {
  // By hash alone: comparing ids here would wait for the stats to load.
  const size_t slot = session_index_.Find(p.id_hash, [](uint32_t) { return true; });
  p.session = session_index_.empty(slot) ? FindOrAddSession(p.id_hash, p.id) : session_index_.value(slot);
  __builtin_prefetch(&sessions_[p.session]);
}

void SessionTable::Apply(Pending& p) const {
  // Two ids with one hash: the slower lookup that compares ids.
  if (sessions_[p.session].id != p.id) p.session = FindOrAddSession(p.id_hash, p.id);
  SessionStats& s = sessions_[p.session];
  s.first_ms = std::min(s.first_ms, p.time_ms);
  s.last_ms = std::max(s.last_ms, p.time_ms);
  if (AddRequest(p.request_key, p.session)) ++s.requests;
  s.ips.Add(p.ip);
  s.referers.Add(p.referer);
  s.user_agents.Add(p.user_agent);
}

void SessionTable::Drain() const {
  while (resolved_ < added_) Resolve(ring_[resolved_++ % kPipelineDepth]);
  while (applied_ < added_) Apply(ring_[applied_++ % kPipelineDepth]);
}

const std::vector<SessionStats>& SessionTable::sessions() const {
  Drain();
  return sessions_;
}

void SessionTable::Merge(SessionTable&& other) {
  Drain();
  other.Drain();
  if (sessions_.empty()) {
    *this = std::move(other);
    return;
  }
  // The smaller into the larger.
  if (other.request_index_.used() > request_index_.used()) std::swap(*this, other);
  // Their session index → ours.
  std::vector<uint32_t> ours(other.sessions_.size());
  for (size_t i = 0; i < other.sessions_.size(); ++i) {
    SessionStats& theirs = other.sessions_[i];
    ours[i] = FindOrAddSession(HashId(theirs.id), theirs.id);
    SessionStats& mine = sessions_[ours[i]];
    mine.first_ms = std::min(mine.first_ms, theirs.first_ms);
    mine.last_ms = std::max(mine.last_ms, theirs.last_ms);
    mine.ips.Merge(theirs.ips);
    mine.referers.Merge(theirs.referers);
    mine.user_agents.Merge(theirs.user_agents);
  }
  // Their distinct requests into ours, prefetching a few slots ahead.
  const HashIndex& theirs = other.request_index_;
  constexpr size_t kAhead = 8;
  for (size_t i = 0; i < theirs.slots(); ++i) {
    if (i + kAhead < theirs.slots() && !theirs.empty(i + kAhead)) request_index_.Prefetch(theirs.key(i + kAhead));
    if (theirs.empty(i)) continue;
    const uint32_t session = ours[theirs.value(i)];
    if (AddRequest(theirs.key(i), session)) ++sessions_[session].requests;
  }
  other = SessionTable(other.window_);
}

}  // namespace edgepass::analyze
