// Plain HTTP/1.1 request and response values for edgepass::http handlers, so
// callers never include Boost.Beast. Header names are matched
// case-insensitively and keep the order and spelling they arrived with.
//
//   Response Handle(const Request& req) {
//     if (const std::string* ua = req.headers.Find("user-agent")) Log(*ua);
//     return Response::Json(200, R"({"ok":true})");
//   }
#ifndef EDGEPASS_HTTP_HTTP_MESSAGE_H_
#define EDGEPASS_HTTP_HTTP_MESSAGE_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace edgepass::http {

// An ordered list of (name, value) fields. Thread-compatible.
class Headers {
 public:
  using Field = std::pair<std::string, std::string>;

  // Appends a field (duplicates are kept, as on the wire).
  void Add(std::string name, std::string value);
  // Replaces every field named `name` (any case) by one field.
  void Set(absl::string_view name, std::string value);
  // The value of the first field named `name` (any case), or nullptr.
  const std::string* Find(absl::string_view name) const;

  const std::vector<Field>& fields() const { return fields_; }
  size_t size() const { return fields_.size(); }
  bool empty() const { return fields_.empty(); }

 private:
  std::vector<Field> fields_;
};

struct Request {
  std::string method;  // "GET", as received
  std::string target;  // request-target: path and optional query
  Headers headers;
  std::string body;
  std::string remote_address;  // peer IP of the connection
  // Subject CN of the client certificate that verified against the server's
  // client CA (TlsOptions::client_ca_file); empty over plain HTTP, when the
  // client sent no certificate, or when its CN is missing or repeated.
  std::string peer_identity;
  // True when ServerOptions::off_loop sent the request to the blocking
  // threads: only then may the handler wait (on a store, the network).
  bool off_loop = false;
};

struct Response {
  int status = 200;
  Headers headers;
  std::string body;

  // `status` with a JSON body and Content-Type: application/json.
  static Response Json(int status, std::string json_body);
  // `status` with {"error": message} (message as text::JsonString writes it).
  static Response Error(int status, absl::string_view message);
};

// The path of a request-target: everything before the first '?'.
absl::string_view TargetPath(absl::string_view target);

}  // namespace edgepass::http

#endif  // EDGEPASS_HTTP_HTTP_MESSAGE_H_
