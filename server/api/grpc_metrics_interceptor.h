// A gRPC server interceptor that records calls in ServerMetrics: their
// method, the status code sent and, for unary calls, the time from the
// call's start to its status (edgepass_grpc_requests_total,
// edgepass_grpc_request_duration_seconds). It leaves alone the methods
// GrpcServices records itself (GrpcServices::RecordsCallsOf: IssuePlayback),
// so install both, with the same metrics.
//
//   GrpcServices services({..., .metrics = &metrics}, &access);
//   grpc::ServerBuilder builder;
//   services.RegisterWith(builder);
//   builder.experimental().SetInterceptorCreators(GrpcMetricsInterceptors(&metrics));
#ifndef EDGEPASS_SERVER_API_GRPC_METRICS_INTERCEPTOR_H_
#define EDGEPASS_SERVER_API_GRPC_METRICS_INTERCEPTOR_H_

#include <grpcpp/support/server_interceptor.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/node_hash_set.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "server/app/server_metrics.h"

namespace edgepass::server {

// Thread-safe; `metrics` must outlive the server it is installed in. Method
// labels are only the methods of generated services linked into the binary
// and grpc.health.v1.Health; any other name (a client calling a method that
// does not exist) is counted as kUnknownGrpcMethod, so labels stay bounded.
// A call whose status is never sent (the client went away first) is not
// counted.
class GrpcMetricsInterceptorFactory
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit GrpcMetricsInterceptorFactory(ServerMetrics* metrics) : metrics_(metrics) {}

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override;

  // `method` ("/package.Service/Method") when it is a known method, else
  // kUnknownGrpcMethod. The view stays valid as long as the factory.
  absl::string_view MethodLabel(absl::string_view method);

 private:
  ServerMetrics* const metrics_;
  absl::Mutex mu_;
  absl::node_hash_set<std::string> known_ ABSL_GUARDED_BY(mu_);  // stable element addresses
};

// The creators to pass to ServerBuilder::experimental().SetInterceptorCreators.
std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
GrpcMetricsInterceptors(ServerMetrics* metrics);

}  // namespace edgepass::server

#endif  // EDGEPASS_SERVER_API_GRPC_METRICS_INTERCEPTOR_H_
