#include "server/api/grpc_metrics_interceptor.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "google/protobuf/descriptor.h"
#include "server/api/grpc_services.h"

namespace edgepass::server {
namespace {

using grpc::experimental::InterceptionHookPoints;

// The health service is not a generated protobuf service in grpc++.
constexpr absl::string_view kHealthMethods[] = {"/grpc.health.v1.Health/Check",
                                                "/grpc.health.v1.Health/Watch"};

// "/pkg.Service/Method" names a method of a generated service linked in.
bool IsGeneratedMethod(absl::string_view method) {
  if (!absl::ConsumePrefix(&method, "/")) return false;
  const size_t slash = method.find('/');
  if (slash == absl::string_view::npos || method.find('/', slash + 1) != absl::string_view::npos) {
    return false;
  }
  const std::string full_name =
      absl::StrCat(method.substr(0, slash), ".", method.substr(slash + 1));
  return google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(full_name) != nullptr;
}

class MetricsInterceptor : public grpc::experimental::Interceptor {
 public:
  MetricsInterceptor(ServerMetrics* metrics, absl::string_view method, bool unary)
      : metrics_(metrics), method_(method), unary_(unary), start_(std::chrono::steady_clock::now()) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      const grpc::Status status = methods->GetSendStatus();
      metrics_->RecordGrpcRequest(method_, status.error_code(),
                                  absl::FromChrono(std::chrono::steady_clock::now() - start_),
                                  unary_);
    }
    methods->Proceed();
  }

 private:
  ServerMetrics* const metrics_;
  const absl::string_view method_;  // owned by the factory
  const bool unary_;
  const std::chrono::steady_clock::time_point start_;
};

}  // namespace

absl::string_view GrpcMetricsInterceptorFactory::MethodLabel(absl::string_view method) {
  {
    absl::ReaderMutexLock lock(&mu_);
    if (auto it = known_.find(method); it != known_.end()) return *it;
  }
  bool known = IsGeneratedMethod(method);
  for (absl::string_view health : kHealthMethods) known = known || method == health;
  if (!known) return kUnknownGrpcMethod;
  absl::MutexLock lock(&mu_);
  return *known_.emplace(method).first;
}

grpc::experimental::Interceptor* GrpcMetricsInterceptorFactory::CreateServerInterceptor(
    grpc::experimental::ServerRpcInfo* info) {
  const char* method = info->method();
  // No interceptor for those the services record: gRPC then skips its
  // interception machinery for the call.
  if (method != nullptr && GrpcServices::RecordsCallsOf(method)) return nullptr;
  return new MetricsInterceptor(
      metrics_, MethodLabel(method != nullptr ? method : ""),
      info->type() == grpc::experimental::ServerRpcInfo::Type::UNARY);
}

std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
GrpcMetricsInterceptors(ServerMetrics* metrics) {
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> creators;
  creators.push_back(std::make_unique<GrpcMetricsInterceptorFactory>(metrics));
  return creators;
}

}  // namespace edgepass::server
