// libFuzzer target: the catalog file parser (server::Catalog::Parse), which
// the server reads at start and on every catalog edit.
// Checks: no crash, leak, UB or timeout; an accepted catalog written back with
// ToJson parses again to the same JSON; every asset resolves.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "absl/strings/string_view.h"
#include "server/state/catalog.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view json(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<edgepass::server::Catalog> catalog =
      edgepass::server::Catalog::Parse(std::string(json), "catalog.json");
  if (!catalog.ok()) return 0;
  for (const edgepass::server::Asset& asset : catalog->assets()) {
    (void)catalog->Resolve(asset.id, "");
    (void)catalog->Resolve(asset.id, "premium");
    (void)edgepass::server::Catalog::AssetToJson(asset);
  }
  const std::string written = catalog->ToJson();
  absl::StatusOr<edgepass::server::Catalog> again =
      edgepass::server::Catalog::Parse(written, "again");
  if (!again.ok() || again->ToJson() != written) std::abort();
  return 0;
}
