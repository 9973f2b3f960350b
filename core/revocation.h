// The set of revoked playback sessions a validator checks, by exact id. Built
// for a million entries: the ids live in one byte arena next to their expiry
// and an open-addressing table of 8-byte slots indexes them (about 40 bytes
// per 12-character id in all), so a check is one hash and, on a hit, one id
// comparison. A snapshot is applied by building a new set and swapping it in.
//
//   RevocationSet revoked;
//   revoked.Reserve(snapshot.size());
//   for (const auto& e : snapshot) revoked.Add(e.session_id, e.expires_at);
//   bool denied = revoked.Contains("pTq3ZkW8sN1x", now);
#ifndef EDGEPASS_CORE_REVOCATION_H_
#define EDGEPASS_CORE_REVOCATION_H_

#include <cstdint>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"

namespace edgepass::core {

// Longest session id a RevocationSet holds (the token format allows 64).
inline constexpr size_t kMaxRevokedSessionIdBytes = 128;

// Version of the byte layout below (record format, slot format and the id
// hash). Files that carry a set's bytes (client/nginx/module_state.h) record
// it; a change to any of the three must bump it.
inline constexpr uint32_t kRevocationLayoutVersion = 1;

// A read-only look at a revocation set's bytes, owned elsewhere: a
// RevocationSet (view()) or memory mapped from a file in the same layout, so
// processes that map one file share one copy. Cheap to copy; Contains()
// neither allocates nor copies. The bytes must outlive the view.
//
// Layout: `arena` holds records of int64 expiry (unix seconds, native byte
// order; INT64_MAX = never), uint8 length, id bytes; `slots` is a
// power-of-two open-addressing table (linear probing): 0 = empty, else
// (hash >> 32) << 32 | (record offset + 1), hash = the stable 64-bit id hash
// of kRevocationLayoutVersion (the same in every process).
class RevocationView {
 public:
  RevocationView() = default;

  // Checks bytes from an untrusted source (a file): `slots` is empty or a
  // power of two of at least 16 with at least one empty slot, exactly `size`
  // slots are used, and every used slot points at a whole record inside
  // `arena` whose id is 1..kMaxRevokedSessionIdBytes long. DATA_LOSS naming
  // the first problem otherwise. Reads every slot once.
  static absl::StatusOr<RevocationView> FromBytes(absl::Span<const char> arena,
                                                  absl::Span<const uint64_t> slots, size_t size);

  // This view with `overlay` laid over it: an id the overlay holds is
  // revoked until the overlay's expiry (an overlay entry that expires at
  // absl::InfinitePast() removes the id), any other as in this view. Lets a
  // small set of recent changes amend a large shared set without copying it;
  // a lookup then costs one more probe, only while the overlay is non-empty.
  // arena(), slots() and size() stay this view's.
  RevocationView WithOverlay(RevocationView overlay) const {
    RevocationView v = *this;
    v.overlay_arena_ = overlay.arena_;
    v.overlay_slots_ = overlay.slots_;
    return v;
  }

  // True when `session_id` is revoked at `now`. One hash lookup, no allocation.
  bool Contains(absl::string_view session_id, absl::Time now) const;
  // True when `session_id` has an entry (expired or not; through the overlay,
  // where a removal counts as none); sets `*expires_at` to its expiry.
  bool Lookup(absl::string_view session_id, absl::Time* expires_at) const;
  size_t size() const { return size_; }
  absl::Span<const char> arena() const { return arena_; }
  absl::Span<const uint64_t> slots() const { return slots_; }

 private:
  friend class RevocationSet;
  RevocationView(absl::Span<const char> arena, absl::Span<const uint64_t> slots, size_t size)
      : arena_(arena), slots_(slots), size_(size) {}
  // Offset of `id`'s record in arena_, or -1.
  int64_t Find(absl::string_view id, uint64_t hash) const;

  // Expiry (unix seconds, as stored) of `id`'s entry: the overlay's when it
  // has one, else this view's; false when neither has one.
  bool FindExpiry(absl::string_view id, int64_t* expiry) const;

  absl::Span<const char> arena_;
  absl::Span<const uint64_t> slots_;
  size_t size_ = 0;
  absl::Span<const char> overlay_arena_;     // WithOverlay(); empty: none
  absl::Span<const uint64_t> overlay_slots_;
};

// Thread-compatible: build it, then share it const. Copyable (a deep copy).
class RevocationSet {
 public:
  // Sizes the set for `entries` ids holding `id_bytes` bytes in all (0: assume
  // 16 per id), so that adding them does not regrow it.
  void Reserve(size_t entries, size_t id_bytes = 0);

  // Adds a revoked session, or extends one already present to the later
  // expiry; it stays revoked until `expires_at`, kept to the second and
  // rounded up (infinite future: until removed from the list). Returns false,
  // and adds nothing, for an empty id, one longer than
  // kMaxRevokedSessionIdBytes, or when the set already holds 4 GiB of ids.
  bool Add(absl::string_view session_id, absl::Time expires_at = absl::InfiniteFuture());
  // As Add, but sets the expiry of an id already present to `expires_at`
  // even when that is earlier (absl::InfinitePast(): a removal marker, for a
  // set used as an overlay, RevocationView::WithOverlay).
  bool Put(absl::string_view session_id, absl::Time expires_at);

  // RevocationView::Lookup on this set.
  bool Lookup(absl::string_view session_id, absl::Time* expires_at) const {
    return view().Lookup(session_id, expires_at);
  }

  // True when `session_id` is revoked at `now`. One hash lookup, no allocation.
  bool Contains(absl::string_view session_id, absl::Time now) const;

  size_t size() const { return size_; }

  // The set's bytes, valid until the set is next changed or destroyed.
  RevocationView view() const { return RevocationView(arena_, slots_, size_); }

  // Calls `fn(session_id, expires_at)` for every entry, in the order they
  // were first added (for persisting and pushing the set).
  void ForEach(absl::FunctionRef<void(absl::string_view, absl::Time)> fn) const;

  // Heap bytes held (arena and table), for metrics and tests.
  size_t memory_bytes() const;

 private:
  // Offset of `id`'s record in arena_, or -1.
  int64_t Find(absl::string_view id, uint64_t hash) const;
  void Rehash(size_t slot_count);
  bool Insert(absl::string_view session_id, absl::Time expires_at, bool keep_later);

  // Records: int64 expiry (unix seconds; INT64_MAX = never), uint8 length, id.
  std::vector<char> arena_;
  // Power-of-two open-addressing table, linear probing, at most 3/4 full.
  // 0 = empty; else (hash >> 32) << 32 | (record offset + 1).
  std::vector<uint64_t> slots_;
  size_t size_ = 0;
};

// Parses a revocation list file: a JSON array of session ids, or of objects
// {"session_id": "...", "expires_at": EPOCH}, or {"sessions": [...]} of either.
// INVALID_ARGUMENT naming the entry otherwise (`sessions[3].session_id`), also
// for an id over kMaxRevokedSessionIdBytes.
absl::StatusOr<RevocationSet> ParseRevocationJson(absl::string_view json);

}  // namespace edgepass::core

#endif  // EDGEPASS_CORE_REVOCATION_H_
