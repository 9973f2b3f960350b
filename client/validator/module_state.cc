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

// True when [offset, offset + length) lies after the header and inside `size`.
bool InBounds(uint64_t offset, uint64_t length, uint64_t size) {
  return offset >= kModuleStateHeaderBytes && offset <= size && length <= size - offset;
}

}  // namespace

std::string SerializeModuleState(uint64_t version, const core::Keyring& keyring,
                                 const core::RevocationSet& revoked) {
  const std::string keys = core::KeyringToJson(keyring);
  const core::RevocationView view = revoked.view();
  Header h{};
  std::memcpy(h.magic, kMagic, sizeof(kMagic));
  h.format_version = kModuleStateFormatVersion;
  h.layout_version = core::kRevocationLayoutVersion;
  h.version = version;
  h.keyring_offset = kModuleStateHeaderBytes;
  h.keyring_length = keys.size();
  h.arena_offset = h.keyring_offset + h.keyring_length;
  h.arena_length = view.arena().size();
  h.slots_offset = (h.arena_offset + h.arena_length + 7) / 8 * 8;
  h.slot_count = view.slots().size();
  h.entry_count = view.size();
  h.file_length = h.slots_offset + h.slot_count * sizeof(uint64_t);

  std::string out(h.file_length, '\0');
  std::memcpy(out.data(), &h, sizeof(h));
  std::memcpy(out.data() + h.keyring_offset, keys.data(), keys.size());
  if (h.arena_length > 0) {
    std::memcpy(out.data() + h.arena_offset, view.arena().data(), h.arena_length);
  }
  if (h.slot_count > 0) {
    std::memcpy(out.data() + h.slots_offset, view.slots().data(), h.slot_count * sizeof(uint64_t));
  }
  return out;
}

absl::StatusOr<ModuleState> ParseModuleState(absl::Span<const char> bytes) {
  if (reinterpret_cast<uintptr_t>(bytes.data()) % alignof(uint64_t) != 0) {
    return absl::InvalidArgumentError("module state: bytes not 8-byte aligned");
  }
  if (bytes.size() < sizeof(Header)) return Damaged("shorter than its header");
  Header h;
  std::memcpy(&h, bytes.data(), sizeof(h));
  if (std::memcmp(h.magic, kMagic, sizeof(kMagic)) != 0) return Damaged("not a module state file");
  if (h.format_version != kModuleStateFormatVersion) {
    return Damaged(absl::StrCat("format version ", h.format_version, ", expected ",
                                kModuleStateFormatVersion));
  }
  if (h.layout_version != core::kRevocationLayoutVersion) {
    return Damaged(absl::StrCat("revocation layout ", h.layout_version, ", expected ",
                                core::kRevocationLayoutVersion));
  }
  const uint64_t size = bytes.size();
  if (h.file_length != size) {
    return Damaged(absl::StrCat("file_length ", h.file_length, " but ", size, " bytes"));
  }
  if (!InBounds(h.keyring_offset, h.keyring_length, size) ||
      h.keyring_length > kMaxModuleStateKeyringBytes) {
    return Damaged("keyring section out of bounds");
  }
  if (!InBounds(h.arena_offset, h.arena_length, size)) return Damaged("arena section out of bounds");
  if (h.slots_offset % 8 != 0 || h.slot_count > size / sizeof(uint64_t) ||
      !InBounds(h.slots_offset, h.slot_count * sizeof(uint64_t), size)) {
    return Damaged("slots section out of bounds");
  }
  absl::StatusOr<core::Keyring> keyring = core::ParseKeyringJson(
      absl::string_view(bytes.data() + h.keyring_offset, h.keyring_length));
  if (!keyring.ok()) return Damaged(absl::StrCat("keyring: ", keyring.status().message()));
  const auto* slots = reinterpret_cast<const uint64_t*>(bytes.data() + h.slots_offset);
  absl::StatusOr<core::RevocationView> revoked = core::RevocationView::FromBytes(
      bytes.subspan(h.arena_offset, h.arena_length), absl::MakeConstSpan(slots, h.slot_count),
      h.entry_count);
  if (!revoked.ok()) return Damaged(revoked.status().message());
  return ModuleState{.version = h.version, .keyring = *std::move(keyring), .revoked = *revoked};
}

std::string ModuleOverlayPath(absl::string_view state_path) {
  return absl::StrCat(state_path, ".overlay");
}

std::string SerializeModuleOverlay(uint64_t version, uint64_t base_version, uint64_t revoked_total,
                                   const core::RevocationSet& overlay) {
  const core::RevocationView view = overlay.view();
  OverlayHeader h{};
  std::memcpy(h.magic, kOverlayMagic, sizeof(kOverlayMagic));
  h.format_version = kModuleStateFormatVersion;
  h.layout_version = core::kRevocationLayoutVersion;
  h.version = version;
  h.base_version = base_version;
  h.revoked_total = revoked_total;
  h.arena_offset = sizeof(OverlayHeader);
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

absl::StatusOr<ModuleOverlay> ParseModuleOverlay(absl::Span<const char> bytes) {
  auto damaged = [](absl::string_view what) {
    return absl::DataLossError(absl::StrCat("module state overlay: ", what));
  };
  if (reinterpret_cast<uintptr_t>(bytes.data()) % alignof(uint64_t) != 0) {
    return absl::InvalidArgumentError("module state overlay: bytes not 8-byte aligned");
  }
  if (bytes.size() < sizeof(OverlayHeader)) return damaged("shorter than its header");
  OverlayHeader h;
  std::memcpy(&h, bytes.data(), sizeof(h));
  if (std::memcmp(h.magic, kOverlayMagic, sizeof(kOverlayMagic)) != 0) {
    return damaged("not a module state overlay file");
  }
  if (h.format_version != kModuleStateFormatVersion) {
    return damaged(absl::StrCat("format version ", h.format_version, ", expected ",
                                kModuleStateFormatVersion));
  }
  if (h.layout_version != core::kRevocationLayoutVersion) {
    return damaged(absl::StrCat("revocation layout ", h.layout_version, ", expected ",
                                core::kRevocationLayoutVersion));
  }
  const uint64_t size = bytes.size();
  if (h.file_length != size) {
    return damaged(absl::StrCat("file_length ", h.file_length, " but ", size, " bytes"));
  }
  if (!InBounds(h.arena_offset, h.arena_length, size)) return damaged("arena section out of bounds");
  if (h.slots_offset % 8 != 0 || h.slot_count > size / sizeof(uint64_t) ||
      !InBounds(h.slots_offset, h.slot_count * sizeof(uint64_t), size)) {
    return damaged("slots section out of bounds");
  }
  const auto* slots = reinterpret_cast<const uint64_t*>(bytes.data() + h.slots_offset);
  absl::StatusOr<core::RevocationView> entries = core::RevocationView::FromBytes(
      bytes.subspan(h.arena_offset, h.arena_length), absl::MakeConstSpan(slots, h.slot_count),
      h.entry_count);
  if (!entries.ok()) return damaged(entries.status().message());
  return ModuleOverlay{.version = h.version,
                       .base_version = h.base_version,
                       .revoked_total = h.revoked_total,
                       .entries = *entries};
}

}  // namespace edgepass::client
