// Who may call what: every public RPC and the scope it needs, in one table
// (RpcScope) that also says which calls may wait on a store (RpcMayWait), and
// the gRPC check of a caller against it (GrpcAccess). The gRPC
// services (grpc_services.h) run every call through GrpcAccess; the REST
// gateway checks the same table itself. A method missing from the table is
// refused, so nothing is reachable unchecked.
//
//   GrpcAccess access(&policy);
//   grpc::Status allowed = access.Check(*context, "/edgepass.v1.PlaybackService/IssuePlayback");
#ifndef EDGEPASS_SERVER_API_RPC_SCOPES_H_
#define EDGEPASS_SERVER_API_RPC_SCOPES_H_

#include <grpcpp/server_context.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "server/auth/access.h"

namespace edgepass::server {

// The scope an RPC needs, by its full name ("/edgepass.v1.PlaybackService/IssuePlayback").
// std::nullopt for an unknown name (callers refuse it).
std::optional<Scope> RpcScope(absl::string_view full_method);

// Whether answering the RPC may wait on a store (a catalog, session or key
// call): both transports answer such calls on the blocking pool, the others
// inline. False for an unknown name.
bool RpcMayWait(absl::string_view full_method);

// An RPC the edgepass.v1 protos declare.
struct DeclaredRpc {
  std::string full_method;  // "/edgepass.v1.PlaybackService/IssuePlayback"
  bool streaming;           // either side streams (REST serves none of these)
};

// Every RPC of every edgepass.v1 service, from the generated descriptors: what
// the scope table, the gRPC services and the REST routes must each cover
// (their tests check it).
std::vector<DeclaredRpc> DeclaredRpcs();

// Thread-safe; `policy` outlives it.
class GrpcAccess {
 public:
  explicit GrpcAccess(const AccessPolicy* policy) : policy_(policy) {}
  // UNAUTHENTICATED or PERMISSION_DENIED (never naming the key), else OK.
  grpc::Status Check(const grpc::ServerContextBase& context, absl::string_view full_method) const;

 private:
  const AccessPolicy* policy_;
};

}  // namespace edgepass::server

#endif  // EDGEPASS_SERVER_API_RPC_SCOPES_H_
