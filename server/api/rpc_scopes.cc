#include "server/api/rpc_scopes.h"

#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "edgepass/v1/catalog.pb.h"
#include "edgepass/v1/edge_sync.pb.h"
#include "edgepass/v1/keys.pb.h"
#include "edgepass/v1/playback.pb.h"
#include "edgepass/v1/session.pb.h"
#include "google/protobuf/descriptor.h"
#include "server/api/status_map.h"
#include "server/auth/grpc_tls.h"

namespace edgepass::server {
namespace {

// Every public RPC, the scope it needs, and whether answering it may wait
// on a store (catalog, sessions, keys: a Redis or secrets-store round trip,
// a revoke waiting for this replica's snapshot) — such calls are answered
// off gRPC's callback threads and REST's event loops, on the blocking pool.
// The one list of who may call what, and of what may block.
struct RpcRule {
  Scope scope;
  bool waits;
};
const absl::flat_hash_map<std::string, RpcRule>& RuleTable() {
  static const auto* table = new absl::flat_hash_map<std::string, RpcRule>{
      {"/edgepass.v1.PlaybackService/IssuePlayback", {Scope::kIssue, /*waits=*/false}},
      {"/edgepass.v1.PlaybackService/IssueToken", {Scope::kMint, /*waits=*/false}},
      {"/edgepass.v1.CatalogService/PutAsset", {Scope::kCatalog, /*waits=*/true}},
      {"/edgepass.v1.CatalogService/GetAsset", {Scope::kCatalog, /*waits=*/true}},
      {"/edgepass.v1.CatalogService/ListAssets", {Scope::kCatalog, /*waits=*/true}},
      {"/edgepass.v1.CatalogService/DeleteAsset", {Scope::kCatalog, /*waits=*/true}},
      {"/edgepass.v1.CatalogService/PutPolicy", {Scope::kCatalog, /*waits=*/true}},
      {"/edgepass.v1.CatalogService/GetPolicy", {Scope::kCatalog, /*waits=*/true}},
      {"/edgepass.v1.CatalogService/ListPolicies", {Scope::kCatalog, /*waits=*/true}},
      {"/edgepass.v1.CatalogService/DeletePolicy", {Scope::kCatalog, /*waits=*/true}},
      {"/edgepass.v1.SessionService/RevokeSession", {Scope::kRevoke, /*waits=*/true}},
      {"/edgepass.v1.SessionService/ReportSession", {Scope::kRevoke, /*waits=*/true}},
      {"/edgepass.v1.SessionService/ReportSessions", {Scope::kRevoke, /*waits=*/true}},
      {"/edgepass.v1.SessionService/ListRevokedSessions", {Scope::kRevoke, /*waits=*/true}},
      {"/edgepass.v1.SessionService/RestoreSession", {Scope::kRevoke, /*waits=*/true}},
      {"/edgepass.v1.EdgeSyncService/Subscribe", {Scope::kEdgeSync, /*waits=*/false}},
      {"/edgepass.v1.EdgeSyncService/Acknowledge", {Scope::kEdgeSync, /*waits=*/false}},
      {"/edgepass.v1.EdgeSyncService/ListValidators", {Scope::kEdgeSync, /*waits=*/false}},
      {"/edgepass.v1.KeyService/PutCloudFrontKey", {Scope::kKeys, /*waits=*/true}},
      {"/edgepass.v1.KeyService/RotateKeys", {Scope::kKeys, /*waits=*/true}},
      {"/edgepass.v1.KeyService/GetKeyStatus", {Scope::kKeys, /*waits=*/true}},
      {"/edgepass.v1.KeyService/RevokeKey", {Scope::kKeys, /*waits=*/true}},
  };
  return *table;
}

absl::string_view Metadata(const grpc::ServerContextBase& context, absl::string_view key) {
  const auto& md = context.client_metadata();
  auto it = md.find(grpc::string_ref(key.data(), key.size()));
  if (it == md.end()) return {};
  return absl::string_view(it->second.data(), it->second.size());
}

}  // namespace

std::vector<DeclaredRpc> DeclaredRpcs() {
  // A message of each file: its descriptor leads to the file's services.
  const google::protobuf::FileDescriptor* files[] = {
      v1::IssuePlaybackRequest::descriptor()->file(), v1::PutAssetRequest::descriptor()->file(),
      v1::RevokeSessionRequest::descriptor()->file(), v1::AcknowledgeRequest::descriptor()->file(),
      v1::RotateKeysRequest::descriptor()->file()};
  std::vector<DeclaredRpc> rpcs;
  for (const google::protobuf::FileDescriptor* file : files) {
    for (int s = 0; s < file->service_count(); ++s) {
      const google::protobuf::ServiceDescriptor* service = file->service(s);
      for (int m = 0; m < service->method_count(); ++m) {
        const google::protobuf::MethodDescriptor* method = service->method(m);
        rpcs.push_back({absl::StrCat("/", service->full_name(), "/", method->name()),
                        method->client_streaming() || method->server_streaming()});
      }
    }
  }
  return rpcs;
}

std::optional<Scope> RpcScope(absl::string_view full_method) {
  auto it = RuleTable().find(full_method);
  if (it == RuleTable().end()) return std::nullopt;
  return it->second.scope;
}

bool RpcMayWait(absl::string_view full_method) {
  auto it = RuleTable().find(full_method);
  return it != RuleTable().end() && it->second.waits;
}

grpc::Status GrpcAccess::Check(const grpc::ServerContextBase& context, absl::string_view full_method) const {
  std::optional<Scope> scope = RpcScope(full_method);
  if (!scope) return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "no scope admits this RPC");
  // Open (no access file): every caller has every scope, so the call's
  // metadata and certificate need not be looked at.
  if (policy_->open()) return grpc::Status::OK;
  absl::StatusOr<Caller> caller =
      policy_->Authenticate(Metadata(context, "authorization"), GrpcPeerIdentity(context));
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  return ToGrpcStatus(AccessPolicy::Authorize(*caller, *scope));
}

}  // namespace edgepass::server
