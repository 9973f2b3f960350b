// Where the catalog (assets and named token policies) is stored: the data
// directory for the embedded default, Redis for a fleet. Writes are
// read-modify-write transactions over the whole catalog: the caller's mutation
// validates (Catalog::Merge, Catalog::WithoutAsset, ...), the store applies it
// atomically, so what is stored is always a catalog Catalog::Parse accepts.
//
//   absl::StatusOr<VersionedCatalog> c = store.Load();
//   EDGEPASS_RETURN_IF_ERROR(store.Update([&](const Catalog& current) {
//     return Catalog::Merge(current, overlay, "request"); }));
#ifndef EDGEPASS_SERVER_STATE_CATALOG_STORE_H_
#define EDGEPASS_SERVER_STATE_CATALOG_STORE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/state/catalog.h"

namespace edgepass::server {

struct VersionedCatalog {
  std::shared_ptr<const Catalog> catalog;
  // Increases with every stored change (0 for a store never written).
  uint64_t version = 0;
};

// Implementations are thread-safe and safe across replicas sharing the store:
// concurrent Update()s never lose each other's changes (optimistic retry or a
// lock). A stored catalog that no longer parses is reported, never replaced.
class CatalogStore {
 public:
  using Mutation = std::function<absl::StatusOr<Catalog>(const Catalog& current)>;

  virtual ~CatalogStore() = default;

  // The stored catalog; an empty catalog with version 0 when none was ever
  // stored. UNAVAILABLE when the store cannot be reached.
  virtual absl::StatusOr<VersionedCatalog> Load() = 0;

  // Runs `mutate` on the current catalog and stores its result with the next
  // version, notifying other replicas. `mutate` may run more than once (on a
  // conflicting concurrent write) and must have no side effects. Returns the
  // new version; `mutate`'s error unchanged (nothing stored); UNAVAILABLE when
  // the store cannot be reached (nothing stored); OK only once the change is
  // durably stored.
  virtual absl::StatusOr<uint64_t> Update(const Mutation& mutate) = 0;
};

}  // namespace edgepass::server

#endif  // EDGEPASS_SERVER_STATE_CATALOG_STORE_H_
