#include "core/revocation.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <utility>

#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "core/json_internal.h"
#include "core/status_macros.h"

namespace edgepass::core {
namespace {

constexpr int64_t kNever = std::numeric_limits<int64_t>::max();
constexpr size_t kHeaderBytes = sizeof(int64_t) + 1;  // expiry + length
constexpr size_t kMinSlots = 16;
// Record offsets are stored + 1 in 32 bits.
constexpr size_t kMaxArenaBytes = std::numeric_limits<uint32_t>::max() - 1;

uint64_t HashId(absl::string_view id) { return absl::Hash<absl::string_view>()(id); }

// Expiry in whole seconds, rounded up so a revocation never ends early.
int64_t ExpirySeconds(absl::Time t) {
  if (t == absl::InfiniteFuture()) return kNever;
  if (t == absl::InfinitePast()) return std::numeric_limits<int64_t>::min();
  int64_t s = absl::ToUnixSeconds(t);  // rounds down
  if (absl::FromUnixSeconds(s) < t && s < kNever) ++s;
  return s;
}

absl::Time ExpiryTime(int64_t s) {
  if (s == kNever) return absl::InfiniteFuture();
  if (s == std::numeric_limits<int64_t>::min()) return absl::InfinitePast();
  return absl::FromUnixSeconds(s);
}

// Smallest power-of-two table keeping `entries` at most 3/4 full.
size_t SlotsFor(size_t entries) {
  size_t slots = kMinSlots;
  while (slots / 4 * 3 < entries) slots *= 2;
  return slots;
}

}  // namespace

void RevocationSet::Reserve(size_t entries, size_t id_bytes) {
  if (id_bytes == 0) id_bytes = entries * 16;
  arena_.reserve(std::min(kMaxArenaBytes, arena_.size() + entries * kHeaderBytes + id_bytes));
  const size_t slots = SlotsFor(size_ + entries);
  if (slots > slots_.size()) Rehash(slots);
}

void RevocationSet::Rehash(size_t slot_count) {
  std::vector<uint64_t> slots(slot_count, 0);
  const size_t mask = slot_count - 1;
  for (uint64_t slot : slots_) {
    if (slot == 0) continue;
    const size_t offset = static_cast<uint32_t>(slot) - 1;
    const auto length = static_cast<unsigned char>(arena_[offset + sizeof(int64_t)]);
    const uint64_t hash = HashId(absl::string_view(&arena_[offset + kHeaderBytes], length));
    size_t i = hash & mask;
    while (slots[i] != 0) i = (i + 1) & mask;
    slots[i] = slot;
  }
  slots_ = std::move(slots);
}

int64_t RevocationSet::Find(absl::string_view id, uint64_t hash) const {
  const size_t mask = slots_.size() - 1;
  const uint64_t tag = hash >> 32;
  for (size_t i = hash & mask;; i = (i + 1) & mask) {
    const uint64_t slot = slots_[i];
    if (slot == 0) return -1;
    if ((slot >> 32) != tag) continue;
    const size_t offset = static_cast<uint32_t>(slot) - 1;
    const char* record = arena_.data() + offset;
    if (static_cast<unsigned char>(record[sizeof(int64_t)]) == id.size() &&
        std::memcmp(record + kHeaderBytes, id.data(), id.size()) == 0) {
      return static_cast<int64_t>(offset);
    }
  }
}

bool RevocationSet::Add(absl::string_view session_id, absl::Time expires_at) {
  if (session_id.empty() || session_id.size() > kMaxRevokedSessionIdBytes) return false;
  const int64_t expiry = ExpirySeconds(expires_at);
  const uint64_t hash = HashId(session_id);
  if (!slots_.empty()) {
    if (const int64_t offset = Find(session_id, hash); offset >= 0) {
      char* record = arena_.data() + offset;
      int64_t current;
      std::memcpy(&current, record, sizeof(current));
      if (current < expiry) std::memcpy(record, &expiry, sizeof(expiry));
      return true;
    }
  }
  if (arena_.size() + kHeaderBytes + session_id.size() > kMaxArenaBytes) return false;
  if ((size_ + 1) > slots_.size() / 4 * 3) Rehash(SlotsFor(size_ + 1));

  const size_t offset = arena_.size();
  arena_.resize(offset + kHeaderBytes + session_id.size());
  char* record = arena_.data() + offset;
  std::memcpy(record, &expiry, sizeof(expiry));
  record[sizeof(int64_t)] = static_cast<char>(session_id.size());
  std::memcpy(record + kHeaderBytes, session_id.data(), session_id.size());

  const size_t mask = slots_.size() - 1;
  size_t i = hash & mask;
  while (slots_[i] != 0) i = (i + 1) & mask;
  slots_[i] = (hash >> 32) << 32 | (offset + 1);
  ++size_;
  return true;
}

bool RevocationSet::Contains(absl::string_view session_id, absl::Time now) const {
  if (size_ == 0 || session_id.empty() || session_id.size() > kMaxRevokedSessionIdBytes) {
    return false;
  }
  const int64_t offset = Find(session_id, HashId(session_id));
  if (offset < 0) return false;
  int64_t expiry;
  std::memcpy(&expiry, arena_.data() + offset, sizeof(expiry));
  return expiry == kNever || now < absl::FromUnixSeconds(expiry);
}

void RevocationSet::ForEach(absl::FunctionRef<void(absl::string_view, absl::Time)> fn) const {
  for (size_t offset = 0; offset < arena_.size();) {
    int64_t expiry;
    std::memcpy(&expiry, arena_.data() + offset, sizeof(expiry));
    const auto length = static_cast<unsigned char>(arena_[offset + sizeof(int64_t)]);
    fn(absl::string_view(arena_.data() + offset + kHeaderBytes, length), ExpiryTime(expiry));
    offset += kHeaderBytes + length;
  }
}

size_t RevocationSet::memory_bytes() const {
  return arena_.capacity() + slots_.capacity() * sizeof(uint64_t);
}

absl::StatusOr<RevocationSet> ParseRevocationJson(absl::string_view text) {
  using internal::FieldError;
  EDGEPASS_ASSIGN_OR_RETURN(internal::Json j,
                            internal::ParseJson(text, "revocations", 256u << 20, /*want_object=*/false));
  if (j.is_object()) {
    if (!j.contains("sessions")) return FieldError("revocations", "expected a list or {\"sessions\":[...]}");
    j = j["sessions"];
  }
  if (!j.is_array()) return FieldError("sessions", "must be a list");
  RevocationSet set;
  set.Reserve(j.size());
  for (size_t i = 0; i < j.size(); ++i) {
    const std::string path = absl::StrCat("sessions[", i, "]");
    const internal::Json& e = j[i];
    std::string id;
    std::string id_path = path;
    absl::Time expires = absl::InfiniteFuture();
    if (e.is_string()) {
      id = e.get<std::string>();
    } else if (e.is_object() && e.contains("session_id")) {
      id_path = path + ".session_id";
      EDGEPASS_RETURN_IF_ERROR(internal::GetString(e["session_id"], id_path, &id));
      if (e.contains("expires_at")) {
        if (!e["expires_at"].is_number_integer()) {
          return FieldError(path + ".expires_at", "must be integer epoch seconds");
        }
        expires = absl::FromUnixSeconds(e["expires_at"].get<int64_t>());
      }
    } else {
      return FieldError(path, "must be a session id or {\"session_id\":..., \"expires_at\":...}");
    }
    if (id.empty()) return FieldError(path, "empty session id");
    if (id.size() > kMaxRevokedSessionIdBytes) {
      return FieldError(id_path, absl::StrCat("longer than ", kMaxRevokedSessionIdBytes, " bytes"));
    }
    if (!set.Add(id, expires)) return FieldError(path, "the revocation set is full");
  }
  return set;
}

}  // namespace edgepass::core
