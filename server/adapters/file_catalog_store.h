// The catalog of the embedded default: DIR/catalog.json, written atomically.
//
//   FileCatalogStore store(data_dir + "/catalog.json");
//   absl::StatusOr<Catalog> c = store.LoadOrCreate();   // sample on first start
//   EDGEPASS_RETURN_IF_ERROR(store.Save(*c));
#ifndef EDGEPASS_SERVER_ADAPTERS_FILE_CATALOG_STORE_H_
#define EDGEPASS_SERVER_ADAPTERS_FILE_CATALOG_STORE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "server/catalog.h"

namespace edgepass::server {

class FileCatalogStore {
 public:
  explicit FileCatalogStore(std::string path) : path_(std::move(path)) {}

  // Reads and validates the catalog. NOT_FOUND when absent; INVALID_ARGUMENT
  // naming the file, the entry and the field otherwise (see Catalog::Parse).
  absl::StatusOr<Catalog> Load() const;

  // Load(), or on NOT_FOUND writes SampleCatalogJson() (never replacing a file
  // created meanwhile) and returns it.
  absl::StatusOr<Catalog> LoadOrCreate() const;

  // Replaces the file atomically (mode 0600).
  absl::Status Save(const Catalog& catalog) const;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace edgepass::server

#endif  // EDGEPASS_SERVER_ADAPTERS_FILE_CATALOG_STORE_H_
