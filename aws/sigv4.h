// AWS Signature Version 4: signs an HTTP request for an AWS service, in the
// Authorization header or in the query string (a presigned URL), with or
// without a session token. Pure computation: the time is an input.
//
//   aws::HttpRequest request{.method = "POST", .path = "/", .headers = {{"Host", host}}};
//   aws::SigV4Params params{.region = "eu-west-1", .service = "secretsmanager", .time = now};
//   aws::SigV4Result parts = aws::SignRequest(credentials, params, &request);
//   // request.headers now carries X-Amz-Date, [X-Amz-Security-Token,] Authorization.
#ifndef EDGEPASS_AWS_SIGV4_H_
#define EDGEPASS_AWS_SIGV4_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace edgepass::aws {

// AWS credentials. Never logged: DebugString() shows the access key id only.
struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // "" for long-term keys
  // When temporary credentials stop working; InfiniteFuture for long-term keys.
  absl::Time expiration = absl::InfiniteFuture();

  std::string DebugString() const;
};

// An HTTP request as it goes on the wire.
struct HttpRequest {
  std::string method;  // "GET", "POST"
  // The path as sent (percent-encoded where the wire needs it), e.g. "/".
  std::string path = "/";
  // The query string as sent, without '?', e.g. "Action=GetCallerIdentity"; "" for none.
  std::string query;
  // In order of appearance; names compare case-insensitively. Must include Host.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  // The first header named `name` (case-insensitive), or nullptr.
  const std::string* FindHeader(absl::string_view name) const;
};

struct SigV4Params {
  std::string region;   // credential scope region, e.g. "us-east-1"
  std::string service;  // credential scope service, e.g. "secretsmanager", "sts"
  absl::Time time;      // the signing time (X-Amz-Date)
  // Remove dot segments and empty segments from the path before encoding it
  // (every service but S3).
  bool normalize_path = true;
  // false: the session token is sent (X-Amz-Security-Token) but not signed,
  // as a few services (IoT) want.
  bool sign_session_token = true;
  // Add and sign x-amz-content-sha256 (the payload hash), as S3 wants.
  bool add_content_sha256_header = false;
  // Presigned (query) form only: X-Amz-Expires.
  absl::Duration expires = absl::Hours(1);
};

// The intermediate results, for tests and diagnostics. Hold no secret: the
// signature is derived from the secret key and the request only.
struct SigV4Result {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;      // lower-case hex
  std::string authorization;  // the Authorization value (header form), else ""
};

// Header form: adds X-Amz-Date, X-Amz-Security-Token (when the credentials
// have a session token), x-amz-content-sha256 (when asked) and Authorization
// to request->headers. Signs every header present except User-Agent, Expect,
// X-Amzn-Trace-Id and Authorization (as botocore does). Thread-safe.
SigV4Result SignRequest(const Credentials& credentials, const SigV4Params& params,
                        HttpRequest* request);

// Query form (presigned URL): appends X-Amz-Algorithm, X-Amz-Credential,
// X-Amz-Date, X-Amz-SignedHeaders, X-Amz-Expires, X-Amz-Security-Token and
// X-Amz-Signature to request->query. Thread-safe.
SigV4Result PresignRequest(const Credentials& credentials, const SigV4Params& params,
                           HttpRequest* request);

// Building blocks (exposed for tests).
// Percent-encodes every byte but the unreserved A-Z a-z 0-9 - . _ ~ (and '/'
// when `keep_slash`), upper-case hex, as SigV4 wants.
std::string UriEncode(absl::string_view text, bool keep_slash);
// "20150830T123600Z".
std::string AmzDate(absl::Time time);
// "20150830/us-east-1/service/aws4_request".
std::string CredentialScope(absl::Time time, absl::string_view region, absl::string_view service);
// Lower-case hex SHA-256.
std::string Sha256Hex(absl::string_view data);

}  // namespace edgepass::aws

#endif  // EDGEPASS_AWS_SIGV4_H_
