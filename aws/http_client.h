// A small HTTPS client for AWS APIs over libcurl: one request at a time per
// call, timeouts, a bounded response, no redirects, https only (plain http
// only to a loopback address, for tests against a local emulator).
//
//   absl::StatusOr<Endpoint> ep = ParseEndpoint("https://secretsmanager.eu-west-1.amazonaws.com");
//   HttpClient http({.timeout = absl::Seconds(10)});
//   absl::StatusOr<HttpResponse> r = http.Send(*ep, request);   // request signed already
#ifndef EDGEPASS_AWS_HTTP_CLIENT_H_
#define EDGEPASS_AWS_HTTP_CLIENT_H_

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "aws/sigv4.h"

namespace edgepass::aws {

// Where requests go: scheme, host and port of a service.
struct Endpoint {
  std::string scheme;  // "https" or "http" (loopback only)
  std::string host;    // "secretsmanager.eu-west-1.amazonaws.com", "127.0.0.1", "::1"
  int port = 0;        // 0: the scheme's default

  // The Host header: host, with ":port" when not the scheme's default.
  std::string HostHeader() const;
  // "https://host[:port]".
  std::string BaseUrl() const;
};

// INVALID_ARGUMENT (naming `field`) unless `url` is "https://host[:port][/]"
// or "http://<loopback>[:port][/]" (127.0.0.0/8, ::1, localhost). No path,
// query, user info or fragment.
absl::StatusOr<Endpoint> ParseEndpoint(absl::string_view url, absl::string_view field = "endpoint");

struct HttpResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names as sent
  std::string body;
  // The first header named `name` (case-insensitive), or "".
  std::string Header(absl::string_view name) const;
};

struct HttpClientOptions {
  absl::Duration connect_timeout = absl::Seconds(3);
  absl::Duration timeout = absl::Seconds(10);  // whole request
  size_t max_response_bytes = 1 << 20;
};

// Thread-safe: each Send uses its own connection.
class HttpClient {
 public:
  explicit HttpClient(HttpClientOptions options = {});

  // Sends `request` (method, path, query, headers, body) to `endpoint`. Any
  // HTTP status is a response. UNAVAILABLE for connection failures and
  // timeouts, RESOURCE_EXHAUSTED when the response exceeds
  // max_response_bytes. Never logs; errors never quote bodies.
  absl::StatusOr<HttpResponse> Send(const Endpoint& endpoint, const HttpRequest& request) const;

  const HttpClientOptions& options() const { return options_; }

 private:
  HttpClientOptions options_;
};

}  // namespace edgepass::aws

#endif  // EDGEPASS_AWS_HTTP_CLIENT_H_
