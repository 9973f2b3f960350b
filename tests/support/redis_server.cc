#include "tests/support/redis_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace edgepass::testing {
namespace {

constexpr char kRedisServerPath[] = "/usr/bin/redis-server";

// Sends PING over a plain socket; true on "+PONG".
bool Ping(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  timeval tv{0, 200000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = false;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    const char kPing[] = "PING\r\n";
    char buf[16] = {};
    if (::send(fd, kPing, sizeof(kPing) - 1, MSG_NOSIGNAL) == sizeof(kPing) - 1 &&
        ::recv(fd, buf, sizeof(buf) - 1, 0) > 0) {
      ok = std::strncmp(buf, "+PONG", 5) == 0;
    }
  }
  ::close(fd);
  return ok;
}

}  // namespace

bool RedisServerAvailable() { return ::access(kRedisServerPath, X_OK) == 0; }

RedisServer::RedisServer() : port_(FreeLoopbackPort()) {}

RedisServer::~RedisServer() { Stop(); }

::testing::AssertionResult RedisServer::Start(absl::Duration timeout) {
  if (process_ != nullptr) return ::testing::AssertionSuccess();
  if (port_ == 0) return ::testing::AssertionFailure() << "no free port";
  const std::string log = absl::StrCat(dir(), "/redis", ++starts_, ".log");
  std::vector<std::string> argv = {kRedisServerPath,
                                   "--port", std::to_string(port_),
                                   "--bind", "127.0.0.1",
                                   "--save", "",
                                   "--appendonly", "yes",
                                   "--appendfsync", "always",
                                   "--dir", dir(),
                                   "--daemonize", "no",
                                   "--protected-mode", "yes"};
  process_ = std::make_unique<ChildProcess>(argv, log, log + ".err");
  const absl::Time deadline = absl::Now() + timeout;
  while (!Ping(port_)) {
    if (!process_->Running()) {
      process_.reset();
      return ::testing::AssertionFailure() << "redis-server exited: " << ReadFileOrEmpty(log);
    }
    if (absl::Now() > deadline) {
      process_.reset();
      return ::testing::AssertionFailure() << "redis-server did not answer PING: " << ReadFileOrEmpty(log);
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  return ::testing::AssertionSuccess();
}

void RedisServer::Stop() {
  if (process_ == nullptr) return;
  process_->Signal(SIGKILL);
  process_->WaitForExit(absl::Seconds(10));
  process_.reset();
}

}  // namespace edgepass::testing
