// The catalog of the embedded default: DIR/catalog.json, written atomically.
// A CatalogStore: the catalog is cached in memory after the first read, and
// versions count from 1 (an existing file) at start and live in memory.
//
//   FileCatalogStore store(data_dir + "/catalog.json", &feed);
//   absl::StatusOr<VersionedCatalog> c = store.Load();   // empty at version 0 until written
//   absl::StatusOr<uint64_t> v = store.Update([&](const Catalog& c) { return Merge(c, ...); });
#ifndef EDGEPASS_SERVER_ADAPTERS_FILE_CATALOG_STORE_H_
#define EDGEPASS_SERVER_ADAPTERS_FILE_CATALOG_STORE_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "server/state/catalog.h"
#include "server/state/catalog_store.h"
#include "server/state/change_feed.h"

namespace edgepass::server {

// Thread-safe; changes are serialized within the process, which must be the
// only one writing the data directory (edits of the file by others while it
// runs are not seen).
class FileCatalogStore : public CatalogStore {
 public:
  // `feed` (may be null) is told kCatalog after each change.
  explicit FileCatalogStore(std::string path, ChangeFeed* feed = nullptr)
      : path_(std::move(path)), feed_(feed) {}

  // CatalogStore: an empty catalog with version 0 when the file is absent;
  // FAILED_PRECONDITION naming the file, entry and field when it does not
  // parse (the file is left as it is).
  absl::StatusOr<VersionedCatalog> Load() override;
  // CatalogStore: OK once the new file is fsync'd in place.
  absl::StatusOr<uint64_t> Update(const Mutation& mutate) override;

  // Reads and validates the file, bypassing the cache. NOT_FOUND when absent;
  // INVALID_ARGUMENT naming the file, the entry and the field otherwise (see
  // Catalog::Parse).
  absl::StatusOr<Catalog> LoadFile() const;

  // Replaces the file atomically (mode 0600) and the cached catalog (next
  // version); tells the feed.
  absl::Status Save(const Catalog& catalog) const;

  const std::string& path() const { return path_; }

 private:
  absl::StatusOr<VersionedCatalog> LoadLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  std::string path_;
  ChangeFeed* feed_;
  // Save() is const for the start-up path; the cache is not part of the
  // observable state.
  mutable absl::Mutex mu_;
  mutable std::shared_ptr<const Catalog> cached_ ABSL_GUARDED_BY(mu_);
  mutable uint64_t version_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace edgepass::server

#endif  // EDGEPASS_SERVER_ADAPTERS_FILE_CATALOG_STORE_H_
