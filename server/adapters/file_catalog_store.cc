#include "server/adapters/file_catalog_store.h"

#include <utility>

#include "core/status_macros.h"
#include "files/atomic_file.h"

namespace edgepass::server {

absl::StatusOr<Catalog> FileCatalogStore::LoadFile() const {
  EDGEPASS_ASSIGN_OR_RETURN(std::string text, files::ReadFileToString(path_));
  return Catalog::Parse(text, path_);
}

absl::Status FileCatalogStore::Save(const Catalog& catalog) const {
  {
    absl::MutexLock lock(&mu_);
    EDGEPASS_RETURN_IF_ERROR(files::WriteFileAtomically(
        path_, catalog.ToJson(), {.mode = 0600, .replace_existing = true}));
    cached_ = std::make_shared<const Catalog>(catalog);
    ++version_;
  }
  if (feed_ != nullptr) feed_->Publish(ChangeKind::kCatalog);
  return absl::OkStatus();
}

absl::StatusOr<VersionedCatalog> FileCatalogStore::LoadLocked() const {
  if (cached_ != nullptr) return VersionedCatalog{cached_, version_};
  absl::StatusOr<Catalog> loaded = LoadFile();
  if (absl::IsNotFound(loaded.status())) {
    return VersionedCatalog{std::make_shared<const Catalog>(), version_};
  }
  if (!loaded.ok()) return absl::FailedPreconditionError(loaded.status().message());
  cached_ = std::make_shared<const Catalog>(*std::move(loaded));
  if (version_ == 0) version_ = 1;
  return VersionedCatalog{cached_, version_};
}

absl::StatusOr<VersionedCatalog> FileCatalogStore::Load() {
  absl::MutexLock lock(&mu_);
  return LoadLocked();
}

absl::StatusOr<uint64_t> FileCatalogStore::Update(const Mutation& mutate) {
  uint64_t version = 0;
  {
    absl::MutexLock lock(&mu_);
    EDGEPASS_ASSIGN_OR_RETURN(VersionedCatalog current, LoadLocked());
    EDGEPASS_ASSIGN_OR_RETURN(Catalog next, mutate(*current.catalog));
    EDGEPASS_RETURN_IF_ERROR(files::WriteFileAtomically(
        path_, next.ToJson(), {.mode = 0600, .replace_existing = true}));
    cached_ = std::make_shared<const Catalog>(std::move(next));
    version = ++version_;
  }
  if (feed_ != nullptr) feed_->Publish(ChangeKind::kCatalog);
  return version;
}

}  // namespace edgepass::server
