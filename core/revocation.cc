#include "core/revocation.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/json_internal.h"

namespace edgepass::core {
namespace {

constexpr int64_t kNever = std::numeric_limits<int64_t>::max();
constexpr size_t kHeaderBytes = sizeof(int64_t) + 1;  // expiry + length
constexpr size_t kMinSlots = 16;
// Record offsets are stored + 1 in 32 bits.
constexpr size_t kMaxArenaBytes = std::numeric_limits<uint32_t>::max() - 1;

// Stable across processes and builds (the table is shared through files):
// FNV-1a, then a 64-bit finalizer so the low bits (the slot index) and the
// high bits (the tag) both mix every byte. The ids come from the control
// plane, and a lookup happens only for a correctly signed token, so no seed.
// Part of kRevocationLayoutVersion: changing it changes the layout.
uint64_t HashId(absl::string_view id) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (const char c : id) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

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
  return view().Find(id, hash);
}

int64_t RevocationView::Find(absl::string_view id, uint64_t hash) const {
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
  return Insert(session_id, expires_at, /*keep_later=*/true);
}

bool RevocationSet::Put(absl::string_view session_id, absl::Time expires_at) {
  return Insert(session_id, expires_at, /*keep_later=*/false);
}

bool RevocationSet::Insert(absl::string_view session_id, absl::Time expires_at, bool keep_later) {
  if (session_id.empty() || session_id.size() > kMaxRevokedSessionIdBytes) return false;
  const int64_t expiry = ExpirySeconds(expires_at);
  const uint64_t hash = HashId(session_id);
  if (!slots_.empty()) {
    if (const int64_t offset = Find(session_id, hash); offset >= 0) {
      char* record = arena_.data() + offset;
      int64_t current;
      std::memcpy(&current, record, sizeof(current));
      if (!keep_later || current < expiry) std::memcpy(record, &expiry, sizeof(expiry));
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
  return view().Contains(session_id, now);
}

absl::StatusOr<RevocationView> RevocationView::FromBytes(absl::Span<const char> arena,
                                                         absl::Span<const uint64_t> slots,
                                                         size_t size) {
  const size_t n = slots.size();
  if (n == 0) {
    if (size != 0) return absl::DataLossError("revocations: entries but no slots");
    return RevocationView(arena, slots, 0);
  }
  if (n < kMinSlots || (n & (n - 1)) != 0) {
    return absl::DataLossError(absl::StrCat("revocations: slot count ", n, " is not a power of two >= 16"));
  }
  if (arena.size() > kMaxArenaBytes) return absl::DataLossError("revocations: arena over 4 GiB");
  size_t used = 0;
  for (size_t i = 0; i < n; ++i) {
    const uint64_t slot = slots[i];
    if (slot == 0) continue;
    ++used;
    const uint32_t stored = static_cast<uint32_t>(slot);
    if (stored == 0) return absl::DataLossError(absl::StrCat("revocations: slots[", i, "]: no record"));
    const size_t offset = stored - 1;
    if (offset + kHeaderBytes > arena.size()) {
      return absl::DataLossError(absl::StrCat("revocations: slots[", i, "]: record outside the arena"));
    }
    const auto length = static_cast<unsigned char>(arena[offset + sizeof(int64_t)]);
    if (length == 0 || length > kMaxRevokedSessionIdBytes ||
        offset + kHeaderBytes + length > arena.size()) {
      return absl::DataLossError(absl::StrCat("revocations: slots[", i, "]: bad id length"));
    }
  }
  if (used != size) {
    return absl::DataLossError(absl::StrCat("revocations: ", used, " slots used, header says ", size));
  }
  if (used == n) return absl::DataLossError("revocations: no empty slot");
  return RevocationView(arena, slots, size);
}

bool RevocationView::Contains(absl::string_view session_id, absl::Time now) const {
  if ((size_ == 0 && overlay_slots_.empty()) || session_id.empty() ||
      session_id.size() > kMaxRevokedSessionIdBytes) {
    return false;
  }
  int64_t expiry;
  if (!FindExpiry(session_id, &expiry)) return false;
  return expiry == kNever || now < absl::FromUnixSeconds(expiry);
}

bool RevocationView::FindExpiry(absl::string_view id, int64_t* expiry) const {
  const uint64_t hash = HashId(id);
  if (!overlay_slots_.empty()) {
    const RevocationView overlay(overlay_arena_, overlay_slots_, 1);
    if (const int64_t offset = overlay.Find(id, hash); offset >= 0) {
      std::memcpy(expiry, overlay_arena_.data() + offset, sizeof(*expiry));
      return *expiry != std::numeric_limits<int64_t>::min();  // a removal
    }
  }
  if (size_ == 0) return false;
  const int64_t offset = Find(id, hash);
  if (offset < 0) return false;
  std::memcpy(expiry, arena_.data() + offset, sizeof(*expiry));
  return true;
}

bool RevocationView::Lookup(absl::string_view session_id, absl::Time* expires_at) const {
  if (session_id.empty() || session_id.size() > kMaxRevokedSessionIdBytes) return false;
  int64_t expiry;
  if (!FindExpiry(session_id, &expiry)) return false;
  *expires_at = ExpiryTime(expiry);
  return true;
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

namespace {

constexpr size_t kMaxRevocationJsonBytes = 256u << 20;

// Streams a revocation list into a RevocationSet: no document is built, so a
// file of a million entries costs the set and one entry at a time.
class RevocationListReader final : public internal::Json::json_sax_t {
 public:
  absl::Status status() const { return status_; }
  bool syntax_error() const { return syntax_error_; }
  RevocationSet Take() { return std::move(set_); }

  bool null() override { return Value(Kind::kOther); }
  bool boolean(bool) override { return Value(Kind::kOther); }
  bool number_integer(number_integer_t v) override {
    integer_ = v;
    return Value(Kind::kInteger);
  }
  bool number_unsigned(number_unsigned_t v) override {
    integer_ = static_cast<int64_t>(v);  // as nlohmann's get<int64_t>() did
    return Value(Kind::kInteger);
  }
  bool number_float(number_float_t, const string_t&) override { return Value(Kind::kOther); }
  bool string(string_t& v) override {
    string_ = &v;
    return Value(Kind::kString);
  }
  bool binary(binary_t&) override { return Value(Kind::kOther); }
  bool start_object(std::size_t) override { return Value(Kind::kObject); }
  bool start_array(std::size_t) override { return Value(Kind::kArray); }
  bool end_object() override { return Close(); }
  bool end_array() override { return Close(); }
  bool key(string_t& k) override {
    key_ = k;
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    syntax_error_ = true;
    return false;
  }

 private:
  enum class Kind { kString, kInteger, kOther, kObject, kArray };
  // What an open container is to the reader.
  enum class Context { kTopObject, kList, kEntry, kSkip };

  std::string EntryPath() const { return absl::StrCat("sessions[", index_, "]"); }

  bool Fail(absl::string_view path, absl::string_view message) {
    status_ = FieldError(path, message);
    return false;
  }

  bool AddEntry(absl::string_view id, absl::Time expires, bool id_in_object) {
    if (id.empty()) return Fail(EntryPath(), "empty session id");
    if (id.size() > kMaxRevokedSessionIdBytes) {
      return Fail(id_in_object ? EntryPath() + ".session_id" : EntryPath(),
                  absl::StrCat("longer than ", kMaxRevokedSessionIdBytes, " bytes"));
    }
    if (!set_.Add(id, expires)) return Fail(EntryPath(), "the revocation set is full");
    ++index_;
    return true;
  }

  bool NotAnEntry() {
    return Fail(EntryPath(), "must be a session id or {\"session_id\":..., \"expires_at\":...}");
  }

  // A scalar, or (kObject/kArray) the start of a container, at the current place.
  bool Value(Kind kind) {
    const bool container = kind == Kind::kObject || kind == Kind::kArray;
    if (stack_.empty()) {  // the document itself
      if (kind == Kind::kObject) return Push(Context::kTopObject);
      if (kind == Kind::kArray) return Push(Context::kList);
      return Fail("sessions", "must be a list");
    }
    switch (stack_.back()) {
      case Context::kTopObject:
        if (key_ == "sessions") {
          if (kind != Kind::kArray) return Fail("sessions", "must be a list");
          set_ = RevocationSet();  // a repeated key: the last one counts
          index_ = 0;
          saw_sessions_ = true;
          return Push(Context::kList);
        }
        return container ? Push(Context::kSkip) : true;
      case Context::kList:
        if (kind == Kind::kString) return AddEntry(*string_, absl::InfiniteFuture(), false);
        if (kind != Kind::kObject) return NotAnEntry();
        entry_id_.clear();
        entry_has_id_ = false;
        entry_expires_ = absl::InfiniteFuture();
        return Push(Context::kEntry);
      case Context::kEntry:
        if (key_ == "session_id") {
          if (kind != Kind::kString) return Fail(EntryPath() + ".session_id", "must be a string");
          entry_id_ = *string_;
          entry_has_id_ = true;
          return true;
        }
        if (key_ == "expires_at") {
          if (kind != Kind::kInteger) {
            return Fail(EntryPath() + ".expires_at", "must be integer epoch seconds");
          }
          entry_expires_ = absl::FromUnixSeconds(integer_);
          return true;
        }
        return container ? Push(Context::kSkip) : true;
      case Context::kSkip:
        return container ? Push(Context::kSkip) : true;
    }
    return true;
  }

  bool Push(Context c) {
    stack_.push_back(c);
    return true;
  }
  bool Close() {
    const Context closed = stack_.back();
    stack_.pop_back();
    if (closed == Context::kEntry) {
      if (!entry_has_id_) return NotAnEntry();
      return AddEntry(entry_id_, entry_expires_, true);
    }
    if (closed == Context::kTopObject && !saw_sessions_) {
      return Fail("revocations", "expected a list or {\"sessions\":[...]}");
    }
    return true;
  }

  RevocationSet set_;
  std::vector<Context> stack_;
  std::string key_;  // the last key read, in the innermost open object
  const std::string* string_ = nullptr;
  int64_t integer_ = 0;
  size_t index_ = 0;
  bool saw_sessions_ = false;
  std::string entry_id_;
  bool entry_has_id_ = false;
  absl::Time entry_expires_ = absl::InfiniteFuture();
  absl::Status status_;
  bool syntax_error_ = false;
};

}  // namespace

absl::StatusOr<RevocationSet> ParseRevocationJson(absl::string_view text) {
  if (text.size() > kMaxRevocationJsonBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("revocations: larger than ", kMaxRevocationJsonBytes, " bytes"));
  }
  RevocationListReader reader;
  if (!internal::Json::sax_parse(text.begin(), text.end(), &reader)) {
    if (!reader.status().ok()) return reader.status();
    return absl::InvalidArgumentError("revocations: not valid JSON");
  }
  return reader.Take();
}

}  // namespace edgepass::core
