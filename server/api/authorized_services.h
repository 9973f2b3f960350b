// The gRPC face of access control: each public service is registered through
// a wrapper that authenticates the caller (bearer API key in the
// `authorization` metadata, or the verified client certificate) and checks the
// RPC's scope before the implementation runs. A method the wrapper does not
// know stays UNIMPLEMENTED, so nothing is reachable unchecked.
//
//   GrpcAccess access(&policy);
//   AuthorizedPlaybackService guarded_playback(&playback, &access);
//   builder.RegisterService(&guarded_playback);
//
// The scope of each RPC is listed once, in RpcScope() (the REST gateway uses
// the same table).
#ifndef EDGEPASS_SERVER_API_AUTHORIZED_SERVICES_H_
#define EDGEPASS_SERVER_API_AUTHORIZED_SERVICES_H_

#include <grpcpp/server_context.h>

#include <string>

#include "absl/strings/string_view.h"
#include "edgepass/v1/catalog.grpc.pb.h"
#include "edgepass/v1/edge_sync.grpc.pb.h"
#include "edgepass/v1/keys.grpc.pb.h"
#include "edgepass/v1/playback.grpc.pb.h"
#include "edgepass/v1/session.grpc.pb.h"
#include "server/auth/access.h"

namespace edgepass::server {

// The scope an RPC needs, by its full name ("/edgepass.v1.PlaybackService/IssuePlayback").
// std::nullopt for an unknown name (callers refuse it).
std::optional<Scope> RpcScope(absl::string_view full_method);

// Thread-safe; `policy` outlives it.
class GrpcAccess {
 public:
  explicit GrpcAccess(const AccessPolicy* policy) : policy_(policy) {}
  // UNAUTHENTICATED or PERMISSION_DENIED (never naming the key), else OK.
  grpc::Status Check(const grpc::ServerContext& context, absl::string_view full_method) const;

 private:
  const AccessPolicy* policy_;
};

class AuthorizedPlaybackService final : public v1::PlaybackService::Service {
 public:
  AuthorizedPlaybackService(v1::PlaybackService::Service* impl, const GrpcAccess* access)
      : impl_(impl), access_(access) {}
  grpc::Status IssuePlayback(grpc::ServerContext* c, const v1::IssuePlaybackRequest* q,
                             v1::IssuePlaybackResponse* r) override;
  grpc::Status IssueToken(grpc::ServerContext* c, const v1::IssueTokenRequest* q,
                          v1::IssueTokenResponse* r) override;

 private:
  v1::PlaybackService::Service* impl_;
  const GrpcAccess* access_;
};

class AuthorizedCatalogService final : public v1::CatalogService::Service {
 public:
  AuthorizedCatalogService(v1::CatalogService::Service* impl, const GrpcAccess* access)
      : impl_(impl), access_(access) {}
  grpc::Status PutAsset(grpc::ServerContext* c, const v1::PutAssetRequest* q, v1::Asset* r) override;
  grpc::Status GetAsset(grpc::ServerContext* c, const v1::GetAssetRequest* q, v1::Asset* r) override;
  grpc::Status ListAssets(grpc::ServerContext* c, const v1::ListAssetsRequest* q,
                          v1::ListAssetsResponse* r) override;
  grpc::Status DeleteAsset(grpc::ServerContext* c, const v1::DeleteAssetRequest* q,
                           google::protobuf::Empty* r) override;
  grpc::Status PutPolicy(grpc::ServerContext* c, const v1::PutPolicyRequest* q,
                         v1::NamedPolicy* r) override;
  grpc::Status GetPolicy(grpc::ServerContext* c, const v1::GetPolicyRequest* q,
                         v1::NamedPolicy* r) override;
  grpc::Status ListPolicies(grpc::ServerContext* c, const v1::ListPoliciesRequest* q,
                            v1::ListPoliciesResponse* r) override;
  grpc::Status DeletePolicy(grpc::ServerContext* c, const v1::DeletePolicyRequest* q,
                            google::protobuf::Empty* r) override;

 private:
  v1::CatalogService::Service* impl_;
  const GrpcAccess* access_;
};

class AuthorizedSessionService final : public v1::SessionService::Service {
 public:
  AuthorizedSessionService(v1::SessionService::Service* impl, const GrpcAccess* access)
      : impl_(impl), access_(access) {}
  grpc::Status RevokeSession(grpc::ServerContext* c, const v1::RevokeSessionRequest* q,
                             v1::RevokedSession* r) override;
  grpc::Status ReportSession(grpc::ServerContext* c, const v1::ReportSessionRequest* q,
                             v1::RevokedSession* r) override;
  grpc::Status ListRevokedSessions(grpc::ServerContext* c, const v1::ListRevokedSessionsRequest* q,
                                   v1::ListRevokedSessionsResponse* r) override;
  grpc::Status RestoreSession(grpc::ServerContext* c, const v1::RestoreSessionRequest* q,
                              google::protobuf::Empty* r) override;

 private:
  v1::SessionService::Service* impl_;
  const GrpcAccess* access_;
};

class AuthorizedEdgeSyncService final : public v1::EdgeSyncService::Service {
 public:
  AuthorizedEdgeSyncService(v1::EdgeSyncService::Service* impl, const GrpcAccess* access)
      : impl_(impl), access_(access) {}
  grpc::Status Subscribe(grpc::ServerContext* c, const v1::SubscribeRequest* q,
                         grpc::ServerWriter<v1::EdgeUpdate>* w) override;
  grpc::Status Acknowledge(grpc::ServerContext* c, const v1::AcknowledgeRequest* q,
                           v1::AcknowledgeResponse* r) override;
  grpc::Status ListValidators(grpc::ServerContext* c, const v1::ListValidatorsRequest* q,
                              v1::ListValidatorsResponse* r) override;

 private:
  v1::EdgeSyncService::Service* impl_;
  const GrpcAccess* access_;
};

class AuthorizedKeyService final : public v1::KeyService::Service {
 public:
  AuthorizedKeyService(v1::KeyService::Service* impl, const GrpcAccess* access)
      : impl_(impl), access_(access) {}
  grpc::Status PutCloudFrontKey(grpc::ServerContext* c, const v1::PutCloudFrontKeyRequest* q,
                                v1::CloudFrontKey* r) override;

 private:
  v1::KeyService::Service* impl_;
  const GrpcAccess* access_;
};

}  // namespace edgepass::server

#endif  // EDGEPASS_SERVER_API_AUTHORIZED_SERVICES_H_
