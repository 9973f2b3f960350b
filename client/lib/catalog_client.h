// C++ client for edgepass's CatalogService: assets and named token policies,
// as operators and CI write them (`edgepass asset ...`, `edgepass policy
// ...`). Errors come back as absl::Status with the gRPC code and message.
//
//   edgepass::client::CatalogClient catalog({.address = "localhost:50051", .api_key = key});
//   absl::StatusOr<v1::Asset> asset = catalog.GetAsset("demo");
//   if (!asset.ok()) Log(asset.status());  // NOT_FOUND for an unknown id
#ifndef EDGEPASS_CLIENT_LIB_CATALOG_CLIENT_H_
#define EDGEPASS_CLIENT_LIB_CATALOG_CLIENT_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "client/lib/playback_client.h"
#include "edgepass/v1/catalog.pb.h"
#include "google/protobuf/empty.pb.h"

namespace edgepass::client {

// One channel to the service; thread-safe. The API key needs scope
// "catalog". Each call: UNAVAILABLE / DEADLINE_EXCEEDED when the service is
// not reached in time, UNAUTHENTICATED / PERMISSION_DENIED when it does not
// admit the caller, and the RPC's own codes (proto/edgepass/v1/catalog.proto).
class CatalogClient {
 public:
  explicit CatalogClient(ClientOptions options);
  ~CatalogClient();
  CatalogClient(const CatalogClient&) = delete;
  CatalogClient& operator=(const CatalogClient&) = delete;

  absl::StatusOr<v1::Asset> PutAsset(const v1::Asset& asset);
  absl::StatusOr<v1::Asset> GetAsset(const std::string& id);
  // One page; ListAllAssets follows next_page_token to the end.
  absl::StatusOr<v1::ListAssetsResponse> ListAssets(const v1::ListAssetsRequest& request);
  absl::StatusOr<v1::ListAssetsResponse> ListAllAssets();
  absl::Status DeleteAsset(const std::string& id);

  absl::StatusOr<v1::NamedPolicy> PutPolicy(const v1::NamedPolicy& policy);
  absl::StatusOr<v1::NamedPolicy> GetPolicy(const std::string& name);
  absl::StatusOr<v1::ListPoliciesResponse> ListPolicies();
  absl::Status DeletePolicy(const std::string& name);

 private:
  class Stub;
  ClientOptions options_;
  std::unique_ptr<Stub> stub_;
};

}  // namespace edgepass::client

#endif  // EDGEPASS_CLIENT_LIB_CATALOG_CLIENT_H_
