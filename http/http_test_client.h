// A blocking HTTP/1.x client over a loopback socket, for tests only: sends
// raw bytes (so tests can send malformed or slow requests) and reads
// responses with a deadline.
//
//   auto conn = TestConnection::Connect(port);
//   conn->Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
//   std::optional<TestResponse> r = conn->ReadResponse();
#ifndef EDGEPASS_HTTP_HTTP_TEST_CLIENT_H_
#define EDGEPASS_HTTP_HTTP_TEST_CLIENT_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace edgepass::http::testing {

struct TestResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // First header with this name (any case), or nullptr.
  const std::string* Header(absl::string_view name) const;
};

class TestConnection {
 public:
  // nullptr when the connection is refused.
  static std::unique_ptr<TestConnection> Connect(
      uint16_t port, const std::string& host = "127.0.0.1");
  ~TestConnection();
  TestConnection(const TestConnection&) = delete;
  TestConnection& operator=(const TestConnection&) = delete;

  // False when the peer has gone (EPIPE/reset).
  bool Send(absl::string_view bytes);
  // One response: body by Content-Length, or until close when there is none.
  // nullopt when the connection closes or `timeout` passes before a whole
  // response arrived.
  std::optional<TestResponse> ReadResponse(
      absl::Duration timeout = absl::Seconds(10));
  // True when the peer closes the connection (EOF or reset) within `timeout`;
  // bytes received meanwhile are kept for ReadResponse().
  bool WaitForClose(absl::Duration timeout);

 private:
  explicit TestConnection(int fd) : fd_(fd) {}
  // Appends what arrives before `deadline`; false on EOF/error/timeout.
  bool ReadMore(absl::Time deadline);

  int fd_;
  bool closed_ = false;
  std::string buffer_;
};

// One request on a fresh connection ("Connection: close" is added).
std::optional<TestResponse> Fetch(
    uint16_t port, absl::string_view method, absl::string_view target,
    const std::vector<std::pair<std::string, std::string>>& headers = {},
    absl::Duration timeout = absl::Seconds(10));

}  // namespace edgepass::http::testing

#endif  // EDGEPASS_HTTP_HTTP_TEST_CLIENT_H_
