// A blocking HTTP/1.x client over a loopback socket, for tests only: sends
// raw bytes (so tests can send malformed or slow requests) and reads
// responses with a deadline, in the clear or over TLS (OpenSSL), optionally
// with a client certificate.
//
//   auto conn = TestConnection::Connect(port);
//   conn->Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
//   std::optional<TestResponse> r = conn->ReadResponse();
//
//   auto tls = TestConnection::ConnectTls(port, {.ca_file = pki.ca_file});
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

struct ssl_st;
struct ssl_ctx_st;

namespace edgepass::http::testing {

struct TlsClientOptions {
  std::string ca_file;    // PEM CA bundle that must verify the server
  std::string cert_file;  // client certificate (PEM); empty: send none
  std::string key_file;   // its private key
  // SNI (unless an IP literal) and the name the server certificate must
  // carry (a DNS name or an IP address).
  std::string server_name = "localhost";
};

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
  // Connects and completes a TLS 1.2+ handshake within `timeout`; nullptr
  // when refused or when the handshake fails, with the reason in *error
  // (OpenSSL's, e.g. "certificate verify failed"). Over TLS 1.3 a server
  // that rejects the client certificate does so after the client's side of
  // the handshake is done: the first read then fails and tls_error() says
  // why ("... alert certificate required").
  static std::unique_ptr<TestConnection> ConnectTls(
      uint16_t port, const TlsClientOptions& tls, std::string* error = nullptr,
      absl::Duration timeout = absl::Seconds(10),
      const std::string& host = "127.0.0.1");
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

  // TLS only: the last TLS error (handshake, read or write), or "" if none.
  const std::string& tls_error() const { return tls_error_; }
  // TLS only: true when the server ended the connection with close_notify.
  bool got_close_notify() const { return got_close_notify_; }

 private:
  explicit TestConnection(int fd) : fd_(fd) {}
  // Appends what arrives before `deadline`; false on EOF/error/timeout.
  bool ReadMore(absl::Time deadline);
  // Waits until fd_ is readable (or writable) or `deadline`; false on timeout.
  bool Wait(bool for_write, absl::Time deadline);
  // Records OpenSSL's reason for a failed call that returned `rc`.
  void RecordTlsError(int rc);

  int fd_;
  ssl_ctx_st* ctx_ = nullptr;
  ssl_st* ssl_ = nullptr;
  bool closed_ = false;
  bool got_close_notify_ = false;
  std::string tls_error_;
  std::string buffer_;
};

// One request on a fresh connection ("Connection: close" is added).
std::optional<TestResponse> Fetch(
    uint16_t port, absl::string_view method, absl::string_view target,
    const std::vector<std::pair<std::string, std::string>>& headers = {},
    absl::Duration timeout = absl::Seconds(10));

// The same over TLS; nullopt also when the handshake fails (reason in
// *error when given).
std::optional<TestResponse> FetchTls(
    uint16_t port, const TlsClientOptions& tls, absl::string_view method,
    absl::string_view target,
    const std::vector<std::pair<std::string, std::string>>& headers = {},
    absl::Duration timeout = absl::Seconds(10), std::string* error = nullptr);

}  // namespace edgepass::http::testing

#endif  // EDGEPASS_HTTP_HTTP_TEST_CLIENT_H_
