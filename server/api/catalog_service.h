// edgepass.v1.CatalogService: writes go to the CatalogStore as validated
// read-modify-write transactions; reads are served from the store (not the
// replica's cache) so a caller reads its own writes.
//
//   CatalogServiceImpl catalog(&catalog_store, &live_state);
//   builder.RegisterService(&catalog);
#ifndef EDGEPASS_SERVER_API_CATALOG_SERVICE_H_
#define EDGEPASS_SERVER_API_CATALOG_SERVICE_H_

#include "absl/time/time.h"
#include "edgepass/v1/catalog.grpc.pb.h"
#include "server/live_state.h"
#include "server/state/catalog_store.h"

namespace edgepass::server {

inline constexpr int kMaxListPageSize = 1000;

// Thread-safe; the pointers must outlive it.
class CatalogServiceImpl final : public v1::CatalogService::Service {
 public:
  // Writes of a policy whose relative exp exceeds `max_token_ttl` are
  // INVALID_ARGUMENT naming its exp (as --max-token-ttl).
  CatalogServiceImpl(CatalogStore* store, LiveState* live,
                     absl::Duration max_token_ttl = absl::InfiniteDuration())
      : store_(store), live_(live), max_token_ttl_(max_token_ttl) {}

  grpc::Status PutAsset(grpc::ServerContext* context, const v1::PutAssetRequest* request,
                        v1::Asset* response) override;
  grpc::Status GetAsset(grpc::ServerContext* context, const v1::GetAssetRequest* request,
                        v1::Asset* response) override;
  grpc::Status ListAssets(grpc::ServerContext* context, const v1::ListAssetsRequest* request,
                          v1::ListAssetsResponse* response) override;
  grpc::Status DeleteAsset(grpc::ServerContext* context, const v1::DeleteAssetRequest* request,
                           google::protobuf::Empty* response) override;
  grpc::Status PutPolicy(grpc::ServerContext* context, const v1::PutPolicyRequest* request,
                         v1::NamedPolicy* response) override;
  grpc::Status GetPolicy(grpc::ServerContext* context, const v1::GetPolicyRequest* request,
                         v1::NamedPolicy* response) override;
  grpc::Status ListPolicies(grpc::ServerContext* context, const v1::ListPoliciesRequest* request,
                            v1::ListPoliciesResponse* response) override;
  grpc::Status DeletePolicy(grpc::ServerContext* context, const v1::DeletePolicyRequest* request,
                            google::protobuf::Empty* response) override;

 private:
  // Runs the mutation in the store (which tells the fleet) and reloads this
  // replica's cache at once.
  absl::Status Write(const CatalogStore::Mutation& mutate);

  CatalogStore* const store_;
  LiveState* const live_;
  const absl::Duration max_token_ttl_;
};

}  // namespace edgepass::server

#endif  // EDGEPASS_SERVER_API_CATALOG_SERVICE_H_
