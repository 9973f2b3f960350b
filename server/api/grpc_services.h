// edgepass.v1 over gRPC: the five services on gRPC's callback API, each a
// thin adapter over server/api/proto_api.h. Issuing and the in-memory calls
// are answered inline on the thread gRPC delivered them on (no hand-off):
// the scope check (GrpcAccess, the one table in rpc_scopes.cc), then the Api
// method. Calls that may wait on a store (catalog, sessions, keys; the rule
// table's RpcMayWait, which REST follows too) run on the replica's
// BlockingPool, since gRPC's callback threads must never block;
// at most max_waiting_calls of them wait at once (--max-waiting-calls).
// EdgeSyncService/Subscribe is a write reactor over the EdgeSyncHub, so a
// replica holds thousands of subscribed validators without a thread each. Adding an RPC: the proto, the app
// method, its Api method, one line here and one row in the scope table.
//
//   GrpcServices services({.playback = &playback_api, ..., .blocking = &pool}, &access);
//   services.RegisterWith(builder);
#ifndef EDGEPASS_SERVER_API_GRPC_SERVICES_H_
#define EDGEPASS_SERVER_API_GRPC_SERVICES_H_

#include <grpcpp/server_builder.h>

#include <memory>

#include "absl/strings/string_view.h"
#include "server/api/blocking_pool.h"
#include "server/api/proto_api.h"
#include "server/api/rpc_scopes.h"

namespace edgepass::server {

class ServerMetrics;

struct GrpcApis {
  const PlaybackApi* playback = nullptr;
  const CatalogApi* catalog = nullptr;
  const SessionApi* sessions = nullptr;
  const EdgeSyncApi* edge_sync = nullptr;
  EdgeSyncHub* hub = nullptr;  // the Subscribe streams
  const KeyApi* keys = nullptr;
  BlockingPool* blocking = nullptr;  // the calls that wait on a store (shared with REST)
  // Of those, queued or running at once; one more gets UNAVAILABLE at once.
  int max_waiting_calls = kDefaultMaxWaitingCalls;
  // Where the calls of the methods RecordsCallsOf names are recorded
  // (method, status, time), or nowhere when null; the metrics interceptor
  // (GrpcMetricsInterceptors) records every other call.
  ServerMetrics* metrics = nullptr;
};

// Everything passed in outlives it, and it outlives the grpc::Server it is
// registered with.
class GrpcServices {
 public:
  GrpcServices(GrpcApis apis, const GrpcAccess* access);
  ~GrpcServices();
  void RegisterWith(grpc::ServerBuilder& builder);

  static constexpr absl::string_view kIssuePlayback = "/edgepass.v1.PlaybackService/IssuePlayback";
  // True for the methods whose calls the services record in
  // GrpcApis::metrics themselves, and the metrics interceptor leaves alone:
  // IssuePlayback, the hot path, which answers every request it is handed
  // (even one it cannot parse).
  static bool RecordsCallsOf(absl::string_view method);

 private:
  struct Services;  // grpc_services.cc
  std::unique_ptr<Services> services_;
};

}  // namespace edgepass::server

#endif  // EDGEPASS_SERVER_API_GRPC_SERVICES_H_
