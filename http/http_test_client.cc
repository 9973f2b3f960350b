#include "http/http_test_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

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

TestConnection::~TestConnection() { ::close(fd_); }

bool TestConnection::Send(absl::string_view bytes) {
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

}  // namespace edgepass::http::testing
