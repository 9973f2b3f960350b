// AWS error replies (JSON `__type`/`message`, XML `<Code>`/`<Message>`, or
// the x-amzn-ErrorType header) and their mapping to absl::Status.
//
//   AwsError e = ParseAwsError(response);
//   if (IsRetryable(e)) { /* back off */ }
//   return AwsErrorStatus("secretsmanager.GetSecretValue", e);
#ifndef EDGEPASS_AWS_AWS_ERROR_H_
#define EDGEPASS_AWS_AWS_ERROR_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "aws/http_client.h"

namespace edgepass::aws {

struct AwsError {
  int http_status = 0;
  std::string code;     // "ResourceNotFoundException"; "" when the reply names none
  std::string message;  // AWS's message, at most 200 characters
};

// The error of a non-2xx reply. Reads only the error fields of the body.
AwsError ParseAwsError(const HttpResponse& response);

// Throttling (ThrottlingException, TooManyRequestsException,
// RequestLimitExceeded, HTTP 429) and server errors (5xx): worth retrying.
bool IsRetryable(const AwsError& error);

// "<operation>: HTTP <status> <code>: <message>" with the code that fits:
// NOT_FOUND (ResourceNotFoundException), ALREADY_EXISTS (ResourceExists...),
// UNAUTHENTICATED (bad signature, unknown key id, expired or invalid token),
// PERMISSION_DENIED (AccessDenied...), UNAVAILABLE (retryable ones),
// FAILED_PRECONDITION (InvalidRequestException, DecryptionFailure),
// INVALID_ARGUMENT (other 4xx).
absl::Status AwsErrorStatus(absl::string_view operation, const AwsError& error);

// The text of the first <name>...</name> element (entities &amp; &lt; &gt;
// &quot; &apos; decoded), or nullopt.
std::optional<std::string> XmlElementText(absl::string_view xml, absl::string_view name);

}  // namespace edgepass::aws

#endif  // EDGEPASS_AWS_AWS_ERROR_H_
