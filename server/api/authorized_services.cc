#include "server/api/authorized_services.h"


#include <utility>

#include "absl/container/flat_hash_map.h"
#include "server/api/status_map.h"
#include "server/auth/grpc_tls.h"

namespace edgepass::server {
namespace {

// Every public RPC and the scope it needs: the one list of who may call what.
const absl::flat_hash_map<std::string, Scope>& ScopeTable() {
  static const auto* table = new absl::flat_hash_map<std::string, Scope>{
      {"/edgepass.v1.PlaybackService/IssuePlayback", Scope::kIssue},
      {"/edgepass.v1.PlaybackService/IssueToken", Scope::kMint},
      {"/edgepass.v1.CatalogService/PutAsset", Scope::kCatalog},
      {"/edgepass.v1.CatalogService/GetAsset", Scope::kCatalog},
      {"/edgepass.v1.CatalogService/ListAssets", Scope::kCatalog},
      {"/edgepass.v1.CatalogService/DeleteAsset", Scope::kCatalog},
      {"/edgepass.v1.CatalogService/PutPolicy", Scope::kCatalog},
      {"/edgepass.v1.CatalogService/GetPolicy", Scope::kCatalog},
      {"/edgepass.v1.CatalogService/ListPolicies", Scope::kCatalog},
      {"/edgepass.v1.CatalogService/DeletePolicy", Scope::kCatalog},
      {"/edgepass.v1.SessionService/RevokeSession", Scope::kRevoke},
      {"/edgepass.v1.SessionService/ReportSession", Scope::kRevoke},
      {"/edgepass.v1.SessionService/ListRevokedSessions", Scope::kRevoke},
      {"/edgepass.v1.SessionService/RestoreSession", Scope::kRevoke},
      {"/edgepass.v1.EdgeSyncService/Subscribe", Scope::kEdgeSync},
      {"/edgepass.v1.EdgeSyncService/Acknowledge", Scope::kEdgeSync},
      {"/edgepass.v1.EdgeSyncService/ListValidators", Scope::kEdgeSync},
      {"/edgepass.v1.KeyService/PutCloudFrontKey", Scope::kKeys},
  };
  return *table;
}

absl::string_view Metadata(const grpc::ServerContext& context, absl::string_view key) {
  const auto& md = context.client_metadata();
  auto it = md.find(grpc::string_ref(key.data(), key.size()));
  if (it == md.end()) return {};
  return absl::string_view(it->second.data(), it->second.size());
}

// Runs `fn` only once the caller may call `method`.
template <typename Fn>
grpc::Status Guard(const GrpcAccess* access, grpc::ServerContext* c, absl::string_view method, Fn fn) {
  grpc::Status allowed = access->Check(*c, method);
  if (!allowed.ok()) return allowed;
  return fn();
}

}  // namespace

std::optional<Scope> RpcScope(absl::string_view full_method) {
  auto it = ScopeTable().find(full_method);
  if (it == ScopeTable().end()) return std::nullopt;
  return it->second;
}

grpc::Status GrpcAccess::Check(const grpc::ServerContext& context, absl::string_view full_method) const {
  std::optional<Scope> scope = RpcScope(full_method);
  if (!scope) return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "no scope admits this RPC");
  absl::StatusOr<Caller> caller =
      policy_->Authenticate(Metadata(context, "authorization"), GrpcPeerIdentity(context));
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  return ToGrpcStatus(AccessPolicy::Authorize(*caller, *scope));
}

// The full method name is one string literal: nothing is built per call.
#define EDGEPASS_GUARDED(Service, Method, Request, Response)                                         \
  grpc::Status Authorized##Service::Method(grpc::ServerContext* c, const Request* q, Response* r) { \
    return Guard(access_, c, "/edgepass.v1." #Service "/" #Method, [&] { return impl_->Method(c, q, r); }); \
  }

EDGEPASS_GUARDED(PlaybackService, IssuePlayback, v1::IssuePlaybackRequest, v1::IssuePlaybackResponse)
EDGEPASS_GUARDED(PlaybackService, IssueToken, v1::IssueTokenRequest, v1::IssueTokenResponse)
EDGEPASS_GUARDED(CatalogService, PutAsset, v1::PutAssetRequest, v1::Asset)
EDGEPASS_GUARDED(CatalogService, GetAsset, v1::GetAssetRequest, v1::Asset)
EDGEPASS_GUARDED(CatalogService, ListAssets, v1::ListAssetsRequest, v1::ListAssetsResponse)
EDGEPASS_GUARDED(CatalogService, DeleteAsset, v1::DeleteAssetRequest, google::protobuf::Empty)
EDGEPASS_GUARDED(CatalogService, PutPolicy, v1::PutPolicyRequest, v1::NamedPolicy)
EDGEPASS_GUARDED(CatalogService, GetPolicy, v1::GetPolicyRequest, v1::NamedPolicy)
EDGEPASS_GUARDED(CatalogService, ListPolicies, v1::ListPoliciesRequest, v1::ListPoliciesResponse)
EDGEPASS_GUARDED(CatalogService, DeletePolicy, v1::DeletePolicyRequest, google::protobuf::Empty)
EDGEPASS_GUARDED(SessionService, RevokeSession, v1::RevokeSessionRequest, v1::RevokedSession)
EDGEPASS_GUARDED(SessionService, ReportSession, v1::ReportSessionRequest, v1::RevokedSession)
EDGEPASS_GUARDED(SessionService, ListRevokedSessions, v1::ListRevokedSessionsRequest,
                 v1::ListRevokedSessionsResponse)
EDGEPASS_GUARDED(SessionService, RestoreSession, v1::RestoreSessionRequest, google::protobuf::Empty)
EDGEPASS_GUARDED(EdgeSyncService, Acknowledge, v1::AcknowledgeRequest, v1::AcknowledgeResponse)
EDGEPASS_GUARDED(EdgeSyncService, ListValidators, v1::ListValidatorsRequest,
                 v1::ListValidatorsResponse)
EDGEPASS_GUARDED(KeyService, PutCloudFrontKey, v1::PutCloudFrontKeyRequest, v1::CloudFrontKey)

#undef EDGEPASS_GUARDED

grpc::Status AuthorizedEdgeSyncService::Subscribe(grpc::ServerContext* c, const v1::SubscribeRequest* q,
                                                  grpc::ServerWriter<v1::EdgeUpdate>* w) {
  return Guard(access_, c, "/edgepass.v1.EdgeSyncService/Subscribe",
               [&] { return impl_->Subscribe(c, q, w); });
}

}  // namespace edgepass::server
