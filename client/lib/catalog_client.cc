#include "client/lib/catalog_client.h"

#include <utility>

#include "client/lib/unary_call_internal.h"
#include "edgepass/v1/catalog.grpc.pb.h"

namespace edgepass::client {

using v1::CatalogService;

class CatalogClient::Stub {
 public:
  explicit Stub(const ClientOptions& options) : stub_(CatalogService::NewStub(internal::MakeChannel(options))) {}
  CatalogService::Stub& get() { return *stub_; }

 private:
  std::unique_ptr<CatalogService::Stub> stub_;
};

CatalogClient::CatalogClient(ClientOptions options)
    : options_(std::move(options)), stub_(std::make_unique<Stub>(options_)) {}

CatalogClient::~CatalogClient() = default;

absl::StatusOr<v1::Asset> CatalogClient::PutAsset(const v1::Asset& asset) {
  v1::PutAssetRequest request;
  *request.mutable_asset() = asset;
  return internal::UnaryCall(options_, stub_->get(), &CatalogService::Stub::PutAsset, request);
}

absl::StatusOr<v1::Asset> CatalogClient::GetAsset(const std::string& id) {
  v1::GetAssetRequest request;
  request.set_id(id);
  return internal::UnaryCall(options_, stub_->get(), &CatalogService::Stub::GetAsset, request);
}

absl::StatusOr<v1::ListAssetsResponse> CatalogClient::ListAssets(const v1::ListAssetsRequest& request) {
  return internal::UnaryCall(options_, stub_->get(), &CatalogService::Stub::ListAssets, request);
}

absl::StatusOr<v1::ListAssetsResponse> CatalogClient::ListAllAssets() {
  v1::ListAssetsResponse all;
  v1::ListAssetsRequest request;
  // The catalog holds at most 100,000 assets: 100 pages of 1000.
  for (int page = 0; page < 1000; ++page) {
    absl::StatusOr<v1::ListAssetsResponse> got = ListAssets(request);
    if (!got.ok()) return got.status();
    for (v1::Asset& a : *got->mutable_assets()) *all.add_assets() = std::move(a);
    if (got->next_page_token().empty()) return all;
    request.set_page_token(got->next_page_token());
  }
  return absl::InternalError("ListAssets: the service never ended its pages");
}

absl::Status CatalogClient::DeleteAsset(const std::string& id) {
  v1::DeleteAssetRequest request;
  request.set_id(id);
  return internal::UnaryCall(options_, stub_->get(), &CatalogService::Stub::DeleteAsset, request).status();
}

absl::StatusOr<v1::NamedPolicy> CatalogClient::PutPolicy(const v1::NamedPolicy& policy) {
  v1::PutPolicyRequest request;
  *request.mutable_policy() = policy;
  return internal::UnaryCall(options_, stub_->get(), &CatalogService::Stub::PutPolicy, request);
}

absl::StatusOr<v1::NamedPolicy> CatalogClient::GetPolicy(const std::string& name) {
  v1::GetPolicyRequest request;
  request.set_name(name);
  return internal::UnaryCall(options_, stub_->get(), &CatalogService::Stub::GetPolicy, request);
}

absl::StatusOr<v1::ListPoliciesResponse> CatalogClient::ListPolicies() {
  return internal::UnaryCall(options_, stub_->get(), &CatalogService::Stub::ListPolicies, v1::ListPoliciesRequest());
}

absl::Status CatalogClient::DeletePolicy(const std::string& name) {
  v1::DeletePolicyRequest request;
  request.set_name(name);
  return internal::UnaryCall(options_, stub_->get(), &CatalogService::Stub::DeletePolicy, request).status();
}

}  // namespace edgepass::client
