// The request shape of AWS's JSON protocol (Secrets Manager, ...): a POST to
// "/" naming the operation in X-Amz-Target, before signing.
//
//   HttpRequest r = JsonProtocolRequest("secretsmanager.eu-west-1.amazonaws.com",
//                                       "secretsmanager.GetSecretValue", R"({"SecretId":"x"})");
#ifndef EDGEPASS_AWS_JSON_REQUEST_H_
#define EDGEPASS_AWS_JSON_REQUEST_H_

#include <string>

#include "absl/strings/string_view.h"
#include "aws/sigv4.h"

namespace edgepass::aws {

inline constexpr absl::string_view kJsonContentType = "application/x-amz-json-1.1";

// Headers Host (`host`, with ":port" when not the scheme's default),
// Content-Type and X-Amz-Target; `body` as given.
HttpRequest JsonProtocolRequest(absl::string_view host, absl::string_view target,
                                std::string body);

}  // namespace edgepass::aws

#endif  // EDGEPASS_AWS_JSON_REQUEST_H_
