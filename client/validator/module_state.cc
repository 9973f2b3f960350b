#include "client/validator/module_state.h"

#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace edgepass::client {
namespace {

constexpr char kMagic[8] = {'E', 'P', 'M', 'O', 'D', 'S', 'T', '\0'};
constexpr char kOverlayMagic[8] = {'E', 'P', 'M', 'O', 'D', 'O', 'V', '\0'};

struct Header {
  char magic[8];
  uint32_t format_version;
  uint32_t layout_version;
  uint64_t version;
  uint64_t keyring_offset;
  uint64_t keyring_length;
  uint64_t arena_offset;
  uint64_t arena_length;
  uint64_t slots_offset;
  uint64_t slot_count;
  uint64_t entry_count;
  uint64_t file_length;
};
static_assert(sizeof(Header) == kModuleStateHeaderBytes);

struct OverlayHeader {
  char magic[8];
  uint32_t format_version;
  uint32_t layout_version;
  uint64_t version;
  uint64_t base_version;
  uint64_t revoked_total;
  uint64_t arena_offset;
  uint64_t arena_length;
  uint64_t slots_offset;
  uint64_t slot_count;
  uint64_t entry_count;
  uint64_t file_length;
};
static_assert(sizeof(OverlayHeader) == 88);

absl::Status Damaged(absl::string_view what) {
  return absl::DataLossError(absl::StrCat("module state: ", what));
}

absl::Status DamagedOverlay(absl::string_view what) {
  return absl::DataLossError(absl::StrCat("module state overlay: ", what));
}

// True when [offset, offset + length) lies after the header and inside `size`.
bool InBounds(uint64_t offset, uint64_t length, uint64_t size) {
  return offset >= kModuleStateHeaderBytes && offset <= size && length <= size - offset;
}

// The checks the state file's and the overlay's headers share: alignment,
// magic, format and layout versions, the recorded length. `damaged` prefixes
// the file's kind to a message.
template <typename H>
absl::Status ReadHeader(absl::Span<const char> bytes, const char (&magic)[8], absl::string_view kind,
                        absl::Status (*damaged)(absl::string_view), H* h) {
  if (reinterpret_cast<uintptr_t>(bytes.data()) % alignof(uint64_t) != 0) {
    return absl::InvalidArgumentError(absl::StrCat(kind, ": bytes not 8-byte aligned"));
  }
  if (bytes.size() < sizeof(H)) return damaged("shorter than its header");
  std::memcpy(h, bytes.data(), sizeof(H));
  if (std::memcmp(h->magic, magic, sizeof(magic)) != 0) return damaged(absl::StrCat("not a ", kind, " file"));
  if (h->format_version != kModuleStateFormatVersion) {
    return damaged(absl::StrCat("format version ", h->format_version, ", expected ",
                                kModuleStateFormatVersion));
  }
  if (h->layout_version != core::kRevocationLayoutVersion) {
    return damaged(absl::StrCat("revocation layout ", h->layout_version, ", expected ",
                                core::kRevocationLayoutVersion));
  }
  if (h->file_length != bytes.size()) {
    return damaged(absl::StrCat("file_length ", h->file_length, " but ", bytes.size(), " bytes"));
  }
  return absl::OkStatus();
}

// The revoked ids of either file, from its arena and slots sections.
template <typename H>
absl::StatusOr<core::RevocationView> ReadRevocations(absl::Span<const char> bytes, const H& h,
                                                     absl::Status (*damaged)(absl::string_view)) {
  const uint64_t size = bytes.size();
  if (!InBounds(h.arena_offset, h.arena_length, size)) return damaged("arena section out of bounds");
  if (h.slots_offset % 8 != 0 || h.slot_count > size / sizeof(uint64_t) ||
      !InBounds(h.slots_offset, h.slot_count * sizeof(uint64_t), size)) {
    return damaged("slots section out of bounds");
  }
  const auto* slots = reinterpret_cast<const uint64_t*>(bytes.data() + h.slots_offset);
  absl::StatusOr<core::RevocationView> view = core::RevocationView::FromBytes(
      bytes.subspan(h.arena_offset, h.arena_length), absl::MakeConstSpan(slots, h.slot_count),
      h.entry_count);
  if (!view.ok()) return damaged(view.status().message());
  return view;
}

// Either file with `h` filled in from the magic on, the revoked ids' sections
// placed at `arena_offset` and written; the sections before the arena (the
// state file's keyring) are the caller's to write.
template <typename H>
std::string WriteFile(H& h, const char (&magic)[8], uint64_t version, const core::RevocationView& view,
                      uint64_t arena_offset) {
  std::memcpy(h.magic, magic, sizeof(magic));
  h.format_version = kModuleStateFormatVersion;
  h.layout_version = core::kRevocationLayoutVersion;
  h.version = version;
  h.arena_offset = arena_offset;
  h.arena_length = view.arena().size();
  h.slots_offset = (h.arena_offset + h.arena_length + 7) / 8 * 8;
  h.slot_count = view.slots().size();
  h.entry_count = view.size();
  h.file_length = h.slots_offset + h.slot_count * sizeof(uint64_t);
  std::string out(h.file_length, '\0');
  std::memcpy(out.data(), &h, sizeof(h));
  if (h.arena_length > 0) std::memcpy(out.data() + h.arena_offset, view.arena().data(), h.arena_length);
  if (h.slot_count > 0) {
    std::memcpy(out.data() + h.slots_offset, view.slots().data(), h.slot_count * sizeof(uint64_t));
  }
  return out;
}

}  // namespace

std::string SerializeModuleState(uint64_t version, const core::Keyring& keyring,
                                 const core::RevocationSet& revoked) {
  const std::string keys = core::KeyringToJson(keyring);
  Header h{};
  h.keyring_offset = kModuleStateHeaderBytes;
  h.keyring_length = keys.size();
  std::string out = WriteFile(h, kMagic, version, revoked.view(), h.keyring_offset + h.keyring_length);
  std::memcpy(out.data() + h.keyring_offset, keys.data(), keys.size());
  return out;
}

absl::StatusOr<ModuleState> ParseModuleState(absl::Span<const char> bytes) {
  Header h;
  if (absl::Status read = ReadHeader(bytes, kMagic, "module state", Damaged, &h); !read.ok()) return read;
  if (!InBounds(h.keyring_offset, h.keyring_length, bytes.size()) ||
      h.keyring_length > kMaxModuleStateKeyringBytes) {
    return Damaged("keyring section out of bounds");
  }
  absl::StatusOr<core::RevocationView> revoked = ReadRevocations(bytes, h, Damaged);
  if (!revoked.ok()) return revoked.status();
  absl::StatusOr<core::Keyring> keyring = core::ParseKeyringJson(
      absl::string_view(bytes.data() + h.keyring_offset, h.keyring_length));
  if (!keyring.ok()) return Damaged(absl::StrCat("keyring: ", keyring.status().message()));
  return ModuleState{.version = h.version, .keyring = *std::move(keyring), .revoked = *revoked};
}

std::string ModuleOverlayPath(absl::string_view state_path) {
  return absl::StrCat(state_path, ".overlay");
}

std::string SerializeModuleOverlay(uint64_t version, uint64_t base_version, uint64_t revoked_total,
                                   const core::RevocationSet& overlay) {
  OverlayHeader h{};
  h.base_version = base_version;
  h.revoked_total = revoked_total;
  return WriteFile(h, kOverlayMagic, version, overlay.view(), sizeof(OverlayHeader));
}

absl::StatusOr<ModuleOverlay> ParseModuleOverlay(absl::Span<const char> bytes) {
  OverlayHeader h;
  if (absl::Status read = ReadHeader(bytes, kOverlayMagic, "module state overlay", DamagedOverlay, &h);
      !read.ok()) {
    return read;
  }
  absl::StatusOr<core::RevocationView> entries = ReadRevocations(bytes, h, DamagedOverlay);
  if (!entries.ok()) return entries.status();
  return ModuleOverlay{.version = h.version,
                       .base_version = h.base_version,
                       .revoked_total = h.revoked_total,
                       .entries = *entries};
}

}  // namespace edgepass::client
