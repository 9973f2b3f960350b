// RAII harness for tests that need a real Redis: starts `redis-server` on a
// free loopback port in its own temporary directory (AOF on, fsync always),
// waits until it answers PING, and kills it when destroyed.
//
//   RedisServer redis;
//   ASSERT_TRUE(redis.Start());
//   RedisOptions options{.address = redis.address()};   // ... redis.Stop(); redis.Start();
#ifndef EDGEPASS_TESTS_SUPPORT_REDIS_SERVER_H_
#define EDGEPASS_TESTS_SUPPORT_REDIS_SERVER_H_

#include <memory>
#include <string>

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/support/test_process.h"

namespace edgepass::testing {

class RedisServer {
 public:
  // Picks the port (free at this moment) and the directory; starts nothing.
  RedisServer();
  ~RedisServer();
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  // Starts redis-server (again, after Stop(): same port and directory, so the
  // AOF written before is loaded) and waits until it answers PING.
  ::testing::AssertionResult Start(absl::Duration timeout = absl::Seconds(15));
  // Kills the server (SIGKILL: no chance to save anything beyond the
  // fsync'd AOF) and waits for it to exit.
  void Stop();
  bool running() const { return process_ != nullptr; }
  // The redis-server process (to stop it with SIGSTOP), or -1.
  pid_t pid() const { return process_ != nullptr ? process_->pid() : -1; }

  int port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  const std::string& dir() const { return dir_.path(); }

 private:
  TempDir dir_;
  int port_ = 0;
  int starts_ = 0;
  std::unique_ptr<ChildProcess> process_;
};

// True when a redis-server binary is installed (tests skip otherwise).
bool RedisServerAvailable();

}  // namespace edgepass::testing

#endif  // EDGEPASS_TESTS_SUPPORT_REDIS_SERVER_H_
