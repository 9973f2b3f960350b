// The catalog editor: asset and policy edits as validated read-modify-write
// transactions on the CatalogStore (which tells the fleet), this replica's
// cache asked to reload at once; reads come from the store, so a caller reads its
// own writes. Edits are typed (Asset, core::TokenPolicy); errors name the
// API's fields ("asset.url_path: ..."). No transport in here: see
// server/api/proto_api.h.
//
//   CatalogEditor editor(&catalog_store, &live_state, absl::Hours(24));
//   absl::StatusOr<Asset> stored = editor.PutAsset(asset);
#ifndef EDGEPASS_SERVER_APP_CATALOG_EDITOR_H_
#define EDGEPASS_SERVER_APP_CATALOG_EDITOR_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/app/live_state.h"
#include "server/state/catalog.h"
#include "server/state/catalog_store.h"

namespace edgepass::server {

inline constexpr int kMaxListPageSize = 1000;

// INVALID_ARGUMENT "<field>: required" / "<field>: longer than 128 bytes" for
// an asset id, policy name or entitlement (the catalog checks the rest).
absl::Status CheckCatalogName(absl::string_view field, absl::string_view value);

// Stores the sample catalog (SampleCatalogJson: assets "1" and "2") when
// `store` was never written (version 0: a fresh data dir, an empty Redis),
// so a first start has something to play. A catalog emptied on purpose stays
// empty, and replicas starting together keep the first one's sample.
absl::Status SeedSampleCatalog(CatalogStore& store);

struct AssetPage {
  std::vector<Asset> assets;       // sorted by id
  std::string next_page_token;     // "" on the last page
};

// Thread-safe; the pointers must outlive it.
class CatalogEditor {
 public:
  // Inline policies whose relative exp exceeds `max_token_ttl` are
  // INVALID_ARGUMENT naming their exp (as --max-token-ttl).
  CatalogEditor(CatalogStore* store, LiveState* live, absl::Duration max_token_ttl = absl::InfiniteDuration())
      : store_(store), live_(live), max_token_ttl_(max_token_ttl) {}

  // Adds or replaces the asset; returns it as stored (named policies
  // resolved). A policy_name must name a stored policy; otherwise `policy`
  // is the inline policy.
  absl::StatusOr<Asset> PutAsset(Asset asset) const;
  // NOT_FOUND "id: unknown asset \"x\"".
  absl::StatusOr<Asset> GetAsset(absl::string_view id) const;
  // Assets with ids after `page_token`, at most `page_size` (0: the maximum,
  // kMaxListPageSize).
  absl::StatusOr<AssetPage> ListAssets(int page_size, absl::string_view page_token) const;
  // NOT_FOUND; FAILED_PRECONDITION when it is another asset's fallback.
  absl::Status DeleteAsset(absl::string_view id) const;

  absl::StatusOr<NamedPolicy> PutPolicy(absl::string_view name, const core::TokenPolicy& policy) const;
  // NOT_FOUND "name: unknown policy \"x\"".
  absl::StatusOr<NamedPolicy> GetPolicy(absl::string_view name) const;
  absl::StatusOr<std::map<std::string, NamedPolicy>> ListPolicies() const;
  // NOT_FOUND; FAILED_PRECONDITION naming an asset that uses it.
  absl::Status DeletePolicy(absl::string_view name) const;

 private:
  // Runs the mutation in the store (which tells the fleet) and reloads this
  // replica's cache at once.
  absl::Status Write(const CatalogStore::Mutation& mutate) const;
  // INVALID_ARGUMENT "<field>exp: ..." for a relative exp over max_token_ttl_.
  absl::Status CheckTtl(const core::TokenPolicy& policy, absl::string_view field) const;

  CatalogStore* const store_;
  LiveState* const live_;
  const absl::Duration max_token_ttl_;
};

}  // namespace edgepass::server

#endif  // EDGEPASS_SERVER_APP_CATALOG_EDITOR_H_
