#include "http/http_test_client.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"

namespace edgepass::http::testing {

const std::string* TestResponse::Header(absl::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (absl::EqualsIgnoreCase(n, name)) return &v;
  }
  return nullptr;
}

std::unique_ptr<TestConnection> TestConnection::Connect(
    uint16_t port, const std::string& host) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return nullptr;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1 ||
      ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return nullptr;
  }
  return std::unique_ptr<TestConnection>(new TestConnection(fd));
}

std::unique_ptr<TestConnection> TestConnection::ConnectTls(
    uint16_t port, const TlsClientOptions& tls, std::string* error,
    absl::Duration timeout, const std::string& host) {
  const absl::Time deadline = absl::Now() + timeout;
  auto fail = [error](std::string reason) -> std::unique_ptr<TestConnection> {
    if (error != nullptr) *error = std::move(reason);
    return nullptr;
  };
  std::unique_ptr<TestConnection> conn = Connect(port, host);
  if (conn == nullptr) return fail("connection refused");
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  conn->ctx_ = ctx;
  if (ctx == nullptr) return fail("SSL_CTX_new failed");
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  if (SSL_CTX_load_verify_locations(ctx, tls.ca_file.c_str(), nullptr) != 1) {
    conn->RecordTlsError(0);
    return fail("ca_file: " + conn->tls_error_);
  }
  if (!tls.cert_file.empty() &&
      (SSL_CTX_use_certificate_chain_file(ctx, tls.cert_file.c_str()) != 1 ||
       SSL_CTX_use_PrivateKey_file(ctx, tls.key_file.c_str(),
                                   SSL_FILETYPE_PEM) != 1)) {
    conn->RecordTlsError(0);
    return fail("client certificate: " + conn->tls_error_);
  }
  SSL* ssl = SSL_new(ctx);
  conn->ssl_ = ssl;
  if (ssl == nullptr) return fail("SSL_new failed");
  in6_addr ignored;
  const bool is_ip =
      ::inet_pton(AF_INET, tls.server_name.c_str(), &ignored) == 1 ||
      ::inet_pton(AF_INET6, tls.server_name.c_str(), &ignored) == 1;
  if (!is_ip) SSL_set_tlsext_host_name(ssl, tls.server_name.c_str());
  // OpenSSL 3 checks an IP literal against the certificate's IP SANs.
  SSL_set1_host(ssl, tls.server_name.c_str());
  ::fcntl(conn->fd_, F_SETFL, ::fcntl(conn->fd_, F_GETFL) | O_NONBLOCK);
  SSL_set_fd(ssl, conn->fd_);
  while (true) {
    const int rc = SSL_connect(ssl);
    if (rc == 1) break;
    const int err = SSL_get_error(ssl, rc);
    if ((err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) &&
        conn->Wait(err == SSL_ERROR_WANT_WRITE, deadline)) {
      continue;
    }
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
      return fail("handshake timed out");
    }
    conn->RecordTlsError(rc);
    return fail(conn->tls_error_);
  }
  return conn;
}

TestConnection::~TestConnection() {
  if (ssl_ != nullptr) SSL_free(ssl_);
  if (ctx_ != nullptr) SSL_CTX_free(ctx_);
  ::close(fd_);
}

void TestConnection::RecordTlsError(int rc) {
  const unsigned long code = ERR_get_error();
  if (code != 0) {
    char reason[256];
    ERR_error_string_n(code, reason, sizeof(reason));
    tls_error_ = reason;
    if (ssl_ != nullptr && SSL_get_verify_result(ssl_) != X509_V_OK) {
      absl::StrAppend(
          &tls_error_, " (",
          X509_verify_cert_error_string(SSL_get_verify_result(ssl_)), ")");
    }
  } else if (rc == 0) {
    tls_error_ = "connection closed by peer";
  } else {
    tls_error_ = absl::StrCat("socket error: ", std::strerror(errno));
  }
  ERR_clear_error();
}

bool TestConnection::Wait(bool for_write, absl::Time deadline) {
  while (true) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) return false;
    pollfd p{fd_, static_cast<short>(for_write ? POLLOUT : POLLIN), 0};
    const int rc =
        ::poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1);
    if (rc < 0 && errno == EINTR) continue;
    return rc > 0;
  }
}

bool TestConnection::Send(absl::string_view bytes) {
  if (ssl_ != nullptr) {
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (!bytes.empty()) {
      const int n =
          SSL_write(ssl_, bytes.data(), static_cast<int>(bytes.size()));
      if (n > 0) {
        bytes.remove_prefix(static_cast<size_t>(n));
        continue;
      }
      const int err = SSL_get_error(ssl_, n);
      if ((err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) &&
          Wait(err == SSL_ERROR_WANT_WRITE, deadline)) {
        continue;
      }
      RecordTlsError(n);
      return false;
    }
    return true;
  }
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

bool TestConnection::ReadMore(absl::Time deadline) {
  if (closed_) return false;
  while (ssl_ != nullptr) {
    char buf[16384];
    const int n = SSL_read(ssl_, buf, sizeof(buf));
    if (n > 0) {
      buffer_.append(buf, static_cast<size_t>(n));
      return true;
    }
    const int err = SSL_get_error(ssl_, n);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
      if (!Wait(err == SSL_ERROR_WANT_WRITE, deadline)) return false;
      continue;
    }
    if (err == SSL_ERROR_ZERO_RETURN) {
      got_close_notify_ = true;
    } else {
      RecordTlsError(n);
    }
    closed_ = true;
    return false;
  }
  while (true) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) return false;
    pollfd p{fd_, POLLIN, 0};
    int rc =
        ::poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1);
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) return false;
    char buf[65536];
    ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      closed_ = true;
      return false;
    }
    buffer_.append(buf, static_cast<size_t>(n));
    return true;
  }
}

std::optional<TestResponse> TestConnection::ReadResponse(
    absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  size_t header_end;
  while ((header_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
    if (!ReadMore(deadline)) return std::nullopt;
  }
  TestResponse response;
  std::vector<std::string> lines =
      absl::StrSplit(absl::string_view(buffer_).substr(0, header_end), "\r\n");
  std::vector<absl::string_view> status_line =
      absl::StrSplit(lines[0], absl::MaxSplits(' ', 2));
  if (status_line.size() < 2 ||
      !absl::SimpleAtoi(status_line[1], &response.status)) {
    return std::nullopt;
  }
  std::optional<size_t> length;
  for (size_t i = 1; i < lines.size(); ++i) {
    size_t colon = lines[i].find(':');
    if (colon == std::string::npos) continue;
    std::string name = lines[i].substr(0, colon);
    std::string value(absl::StripAsciiWhitespace(
        absl::string_view(lines[i]).substr(colon + 1)));
    size_t n;
    if (absl::EqualsIgnoreCase(name, "content-length") &&
        absl::SimpleAtoi(value, &n))
      length = n;
    response.headers.emplace_back(std::move(name), std::move(value));
  }
  const size_t body_start = header_end + 4;
  if (length.has_value()) {
    while (buffer_.size() < body_start + *length) {
      if (!ReadMore(deadline)) return std::nullopt;
    }
    response.body = buffer_.substr(body_start, *length);
    buffer_.erase(0, body_start + *length);
  } else {
    while (ReadMore(deadline)) {
    }
    if (!closed_) return std::nullopt;
    response.body = buffer_.substr(body_start);
    buffer_.clear();
  }
  return response;
}

bool TestConnection::WaitForClose(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (ReadMore(deadline)) {
  }
  return closed_;
}

std::optional<TestResponse> Fetch(
    uint16_t port, absl::string_view method, absl::string_view target,
    const std::vector<std::pair<std::string, std::string>>& headers,
    absl::Duration timeout) {
  std::unique_ptr<TestConnection> conn = TestConnection::Connect(port);
  if (conn == nullptr) return std::nullopt;
  std::string request =
      absl::StrCat(method, " ", target, " HTTP/1.1\r\nHost: 127.0.0.1\r\n");
  for (const auto& [n, v] : headers)
    absl::StrAppend(&request, n, ": ", v, "\r\n");
  absl::StrAppend(&request, "Connection: close\r\n\r\n");
  if (!conn->Send(request)) return std::nullopt;
  return conn->ReadResponse(timeout);
}

std::optional<TestResponse> FetchTls(
    uint16_t port, const TlsClientOptions& tls, absl::string_view method,
    absl::string_view target,
    const std::vector<std::pair<std::string, std::string>>& headers,
    absl::Duration timeout, std::string* error) {
  std::unique_ptr<TestConnection> conn =
      TestConnection::ConnectTls(port, tls, error, timeout);
  if (conn == nullptr) return std::nullopt;
  std::string request =
      absl::StrCat(method, " ", target, " HTTP/1.1\r\nHost: localhost\r\n");
  for (const auto& [n, v] : headers)
    absl::StrAppend(&request, n, ": ", v, "\r\n");
  absl::StrAppend(&request, "Connection: close\r\n\r\n");
  std::optional<TestResponse> response;
  if (conn->Send(request)) response = conn->ReadResponse(timeout);
  if (!response.has_value() && error != nullptr) *error = conn->tls_error();
  return response;
}

}  // namespace edgepass::http::testing
