#include "server/adapters/file_catalog_store.h"

#include "core/status_macros.h"
#include "server/adapters/atomic_file.h"

namespace edgepass::server {

absl::StatusOr<Catalog> FileCatalogStore::Load() const {
  EDGEPASS_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path_));
  return Catalog::Parse(text, path_);
}

absl::StatusOr<Catalog> FileCatalogStore::LoadOrCreate() const {
  absl::StatusOr<Catalog> existing = Load();
  if (!absl::IsNotFound(existing.status())) return existing;
  EDGEPASS_ASSIGN_OR_RETURN(Catalog sample, Catalog::Parse(SampleCatalogJson(), "sample catalog"));
  absl::Status written = WriteFileAtomically(path_, sample.ToJson(),
                                             {.mode = 0600, .replace_existing = false});
  if (absl::IsAlreadyExists(written)) return Load();
  EDGEPASS_RETURN_IF_ERROR(written);
  return sample;
}

absl::Status FileCatalogStore::Save(const Catalog& catalog) const {
  return WriteFileAtomically(path_, catalog.ToJson(), {.mode = 0600, .replace_existing = true});
}

}  // namespace edgepass::server
