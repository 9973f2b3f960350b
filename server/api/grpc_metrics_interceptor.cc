#include "server/api/grpc_metrics_interceptor.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "google/protobuf/descriptor.h"

namespace edgepass::server {
namespace {

using grpc::experimental::InterceptionHookPoints;

// The health service is not a generated protobuf service in grpc++.
constexpr absl::string_view kHealthMethods[] = {"/grpc.health.v1.Health/Check",
                                                "/grpc.health.v1.Health/Watch"};

// The generated method "/pkg.Service/Method" names, or null when no service
// linked in has it.
const google::protobuf::MethodDescriptor* GeneratedMethod(absl::string_view method) {
  if (!absl::ConsumePrefix(&method, "/")) return nullptr;
  const size_t slash = method.find('/');
  if (slash == absl::string_view::npos || method.find('/', slash + 1) != absl::string_view::npos) {
    return nullptr;
  }
  const std::string full_name = absl::StrCat(method.substr(0, slash), ".", method.substr(slash + 1));
  return google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(full_name);
}

// GrpcServices records the unary calls of edgepass.v1 itself.
bool RecordedByServices(const google::protobuf::MethodDescriptor& method) {
  return method.service()->file()->package() == "edgepass.v1" && !method.client_streaming() &&
         !method.server_streaming();
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

GrpcMetricsInterceptorFactory::Method GrpcMetricsInterceptorFactory::Lookup(absl::string_view method) {
  {
    absl::ReaderMutexLock lock(&mu_);
    if (auto it = known_.find(method); it != known_.end()) return {.label = it->first, .recorded_by_services = it->second};
  }
  const google::protobuf::MethodDescriptor* generated = GeneratedMethod(method);
  bool known = generated != nullptr;
  for (absl::string_view health : kHealthMethods) known = known || method == health;
  if (!known) return {.label = kUnknownGrpcMethod, .recorded_by_services = false};
  const bool recorded = generated != nullptr && RecordedByServices(*generated);
  absl::MutexLock lock(&mu_);
  auto it = known_.emplace(method, recorded).first;
  return {.label = it->first, .recorded_by_services = it->second};
}

grpc::experimental::Interceptor* GrpcMetricsInterceptorFactory::CreateServerInterceptor(
    grpc::experimental::ServerRpcInfo* info) {
  const char* name = info->method();
  const Method method = Lookup(name != nullptr ? name : "");
  const bool unary = info->type() == grpc::experimental::ServerRpcInfo::Type::UNARY;
  // No interceptor at all for these: gRPC then skips its interception
  // machinery for the call.
  if (unary && method.recorded_by_services) return nullptr;
  return new MetricsInterceptor(metrics_, method.label, unary);
}

std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
GrpcMetricsInterceptors(ServerMetrics* metrics) {
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> creators;
  creators.push_back(std::make_unique<GrpcMetricsInterceptorFactory>(metrics));
  return creators;
}

}  // namespace edgepass::server
