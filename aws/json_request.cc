#include "aws/json_request.h"

#include <utility>

namespace edgepass::aws {

HttpRequest JsonProtocolRequest(absl::string_view host, absl::string_view target,
                                std::string body) {
  HttpRequest request;
  request.method = "POST";
  request.path = "/";
  request.headers = {{"Host", std::string(host)},
                     {"Content-Type", std::string(kJsonContentType)},
                     {"X-Amz-Target", std::string(target)}};
  request.body = std::move(body);
  return request;
}

}  // namespace edgepass::aws
