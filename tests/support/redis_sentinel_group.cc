#include "tests/support/redis_sentinel_group.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"

namespace edgepass::testing {
namespace {

constexpr char kRedisServerPath[] = "/usr/bin/redis-server";
constexpr char kRedisSentinelPath[] = "/usr/bin/redis-sentinel";

// A blocking loopback connection with 1 s timeouts and a small RESP reader.
class RespConnection {
 public:
  explicit RespConnection(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return;
    timeval tv{1, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~RespConnection() {
    if (fd_ >= 0) ::close(fd_);
  }

  std::optional<std::vector<std::string>> Call(const std::vector<std::string>& argv) {
    if (fd_ < 0) return std::nullopt;
    std::string out = absl::StrCat("*", argv.size(), "\r\n");
    for (const std::string& a : argv) absl::StrAppend(&out, "$", a.size(), "\r\n", a, "\r\n");
    if (::send(fd_, out.data(), out.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(out.size())) {
      return std::nullopt;
    }
    std::vector<std::string> leaves;
    if (!ReadValue(&leaves)) return std::nullopt;
    return leaves;
  }

 private:
  bool Fill() {
    char buf[4096];
    ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n <= 0) return false;
    buffer_.append(buf, static_cast<size_t>(n));
    return true;
  }
  bool ReadLine(std::string* line) {
    size_t end;
    while ((end = buffer_.find("\r\n")) == std::string::npos) {
      if (!Fill()) return false;
    }
    *line = buffer_.substr(0, end);
    buffer_.erase(0, end + 2);
    return true;
  }
  bool ReadValue(std::vector<std::string>* leaves) {
    std::string line;
    if (!ReadLine(&line) || line.empty()) return false;
    const char type = line[0];
    const std::string rest = line.substr(1);
    int64_t n = 0;
    switch (type) {
      case '+':
      case ':':
        leaves->push_back(rest);
        return true;
      case '-':
        leaves->push_back(line);
        return true;
      case '$':
        if (!absl::SimpleAtoi(rest, &n)) return false;
        if (n < 0) {
          leaves->push_back("(nil)");
          return true;
        }
        while (buffer_.size() < static_cast<size_t>(n) + 2) {
          if (!Fill()) return false;
        }
        leaves->push_back(buffer_.substr(0, static_cast<size_t>(n)));
        buffer_.erase(0, static_cast<size_t>(n) + 2);
        return true;
      case '*':
        if (!absl::SimpleAtoi(rest, &n)) return false;
        if (n < 0) {
          leaves->push_back("(nil)");
          return true;
        }
        for (int64_t i = 0; i < n; ++i) {
          if (!ReadValue(leaves)) return false;
        }
        return true;
      default:
        return false;
    }
  }

  int fd_ = -1;
  std::string buffer_;
};

// The value after `key` in a flat key/value reply (SENTINEL MASTER), or "".
std::string FieldOf(const std::vector<std::string>& kv, const std::string& key) {
  for (size_t i = 0; i + 1 < kv.size(); i += 2) {
    if (kv[i] == key) return kv[i + 1];
  }
  return "";
}

bool InSync(int port) {
  std::optional<std::vector<std::string>> info = RedisSentinelGroup::Call(port, {"INFO", "replication"});
  return info.has_value() && !info->empty() && absl::StrContains(info->front(), "role:slave") &&
         absl::StrContains(info->front(), "master_link_status:up") &&
         !absl::StrContains(info->front(), "master_sync_in_progress:1");
}

bool IsMaster(int port) {
  std::optional<std::vector<std::string>> role = RedisSentinelGroup::Call(port, {"ROLE"});
  return role.has_value() && !role->empty() && role->front() == "master";
}

}  // namespace

bool RedisSentinelAvailable() {
  return ::access(kRedisServerPath, X_OK) == 0 && ::access(kRedisSentinelPath, X_OK) == 0;
}

std::optional<std::vector<std::string>> RedisSentinelGroup::Call(int port, const std::vector<std::string>& argv) {
  RespConnection c(port);
  return c.Call(argv);
}

RedisSentinelGroup::RedisSentinelGroup() {
  for (int i = 0; i < 2; ++i) {
    nodes_[i].port = FreeLoopbackPort();
    nodes_[i].dir = absl::StrCat(dir_.path(), "/node", i);
    std::filesystem::create_directories(nodes_[i].dir);
  }
  for (int& port : sentinel_ports_) port = FreeLoopbackPort();
}

RedisSentinelGroup::~RedisSentinelGroup() {
  // Sentinels first, so none reconfigures a node while the nodes go.
  for (auto& sentinel : sentinels_) sentinel.reset();
  for (Node& node : nodes_) node.process.reset();
}

std::vector<std::string> RedisSentinelGroup::sentinel_addresses() const {
  std::vector<std::string> out;
  for (int port : sentinel_ports_) out.push_back(absl::StrCat("127.0.0.1:", port));
  return out;
}

std::string RedisSentinelGroup::sentinels_flag() const { return absl::StrJoin(sentinel_addresses(), ","); }

::testing::AssertionResult RedisSentinelGroup::StartNode(Node& node, int replica_of_port, absl::Time deadline) {
  const std::string log = absl::StrCat(node.dir, "/redis", ++node.starts, ".log");
  std::vector<std::string> argv = {kRedisServerPath, "--port", std::to_string(node.port),
                                   "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes",
                                   "--appendfsync", "always", "--dir", node.dir, "--daemonize", "no",
                                   "--protected-mode", "yes",
                                   // A replica (re)joining syncs at once, not after the default 5 s.
                                   "--repl-diskless-sync-delay", "0"};
  if (replica_of_port != 0) {
    argv.insert(argv.end(), {"--replicaof", "127.0.0.1", std::to_string(replica_of_port)});
  }
  node.process = std::make_unique<ChildProcess>(argv, log, log + ".err");
  while (replica_of_port == 0 ? !IsMaster(node.port) : !InSync(node.port)) {
    if (!node.process->Running()) {
      return ::testing::AssertionFailure() << "redis-server on " << node.port << " exited: " << ReadFileOrEmpty(log);
    }
    if (absl::Now() > deadline) {
      return ::testing::AssertionFailure() << "redis-server on " << node.port
                                           << (replica_of_port == 0 ? " did not answer" : " never in sync")
                                           << ": " << ReadFileOrEmpty(log);
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult RedisSentinelGroup::StartSentinel(int index) {
  const int port = sentinel_ports_[index];
  const std::string dir = absl::StrCat(dir_.path(), "/sentinel", index);
  std::filesystem::create_directories(dir);
  const std::string conf = dir + "/sentinel.conf";  // sentinel rewrites it: it must be writable
  WriteFileOrDie(conf, absl::StrCat("port ", port, "\nbind 127.0.0.1\ndaemonize no\ndir ", dir,
                                    "\nsentinel monitor ", master_name_, " 127.0.0.1 ", nodes_[0].port,
                                    " 2\nsentinel down-after-milliseconds ", master_name_,
                                    " 2000\nsentinel failover-timeout ", master_name_,
                                    " 3000\nsentinel parallel-syncs ", master_name_, " 1\n"));
  const std::string log = dir + "/sentinel.log";
  sentinels_[index] = std::make_unique<ChildProcess>(std::vector<std::string>{kRedisSentinelPath, conf}, log,
                                                     log + ".err");
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult RedisSentinelGroup::Start(absl::Duration timeout) {
  if (!RedisSentinelAvailable()) {
    return ::testing::AssertionFailure() << "redis-server or redis-sentinel not installed (scripts/deps.sh)";
  }
  for (const Node& node : nodes_) {
    if (node.port == 0) return ::testing::AssertionFailure() << "no free port";
  }
  const absl::Time deadline = absl::Now() + timeout;
  if (auto r = StartNode(nodes_[0], 0, deadline); !r) return r;
  if (auto r = StartNode(nodes_[1], nodes_[0].port, deadline); !r) return r;
  for (int i = 0; i < kSentinels; ++i) {
    if (auto r = StartSentinel(i); !r) return r;
  }
  // Each sentinel must know the replica and the other sentinels (hello
  // messages every 2 s) before a failover can be agreed on. A sentinel that
  // exited (its port taken meanwhile by another test's process) is started
  // once more on a fresh port; the others learn it from its hellos.
  int restarts[kSentinels] = {};
  for (int i = 0; i < kSentinels; ++i) {
    while (true) {
      std::optional<std::vector<std::string>> m = Call(sentinel_ports_[i], {"SENTINEL", "MASTER", master_name_});
      if (m.has_value() && FieldOf(*m, "num-slaves") == "1" &&
          FieldOf(*m, "num-other-sentinels") == std::to_string(kSentinels - 1)) {
        break;
      }
      bool restarted = false;
      for (int j = 0; j < kSentinels; ++j) {
        if (sentinels_[j]->Running() || restarts[j]++ > 0) continue;
        sentinel_ports_[j] = FreeLoopbackPort();
        if (auto r = StartSentinel(j); !r) return r;
        restarted = true;
      }
      const bool all_running = std::all_of(std::begin(sentinels_), std::end(sentinels_),
                                           [](const auto& sentinel) { return sentinel->Running(); });
      if ((!restarted && !all_running) || absl::Now() > deadline) {
        ::testing::AssertionResult failure = ::testing::AssertionFailure();
        failure << "sentinel " << i << " not ready;";
        for (int j = 0; j < kSentinels; ++j) {
          const std::string log = absl::StrCat(dir_.path(), "/sentinel", j, "/sentinel.log");
          failure << "\nsentinel " << j << " on " << sentinel_ports_[j]
                  << (sentinels_[j]->Running() ? " (running): " : " (exited): ") << ReadFileOrEmpty(log)
                  << ReadFileOrEmpty(log + ".err");
        }
        return failure;
      }
      absl::SleepFor(absl::Milliseconds(50));
    }
  }
  return ::testing::AssertionSuccess();
}

int RedisSentinelGroup::primary_port() const {
  for (int port : sentinel_ports_) {
    std::optional<std::vector<std::string>> r =
        Call(port, {"SENTINEL", "get-master-addr-by-name", master_name_});
    int primary = 0;
    if (r.has_value() && r->size() == 2 && absl::SimpleAtoi((*r)[1], &primary)) return primary;
  }
  return 0;
}

int RedisSentinelGroup::replica_port() const {
  const int primary = primary_port();
  for (const Node& node : nodes_) {
    if (node.process != nullptr && node.port != primary) return node.port;
  }
  return 0;
}

::testing::AssertionResult RedisSentinelGroup::KillPrimary() {
  const int port = primary_port();
  for (int i = 0; i < 2; ++i) {
    if (nodes_[i].port != port || nodes_[i].process == nullptr) continue;
    nodes_[i].process->Signal(SIGKILL);
    nodes_[i].process->WaitForExit(absl::Seconds(10));
    nodes_[i].process.reset();
    killed_ = i;
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "no running node is the primary (sentinels name port " << port << ")";
}

void RedisSentinelGroup::StopSentinels() {
  for (auto& sentinel : sentinels_) sentinel.reset();  // SIGKILL and reap
}

::testing::AssertionResult RedisSentinelGroup::Failover() {
  std::optional<std::vector<std::string>> r = Call(sentinel_ports_[0], {"SENTINEL", "FAILOVER", master_name_});
  if (!r.has_value() || r->empty() || r->front() != "OK") {
    return ::testing::AssertionFailure() << "SENTINEL FAILOVER: "
                                         << (r.has_value() && !r->empty() ? r->front() : "no reply");
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult RedisSentinelGroup::WaitForNewPrimary(int old_port, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    int agreed = 0;
    int named = 0;
    for (int port : sentinel_ports_) {
      std::optional<std::vector<std::string>> r =
          Call(port, {"SENTINEL", "get-master-addr-by-name", master_name_});
      int p = 0;
      if (!r.has_value() || r->size() != 2 || !absl::SimpleAtoi((*r)[1], &p) || p == old_port) break;
      if (named != 0 && p != named) break;
      named = p;
      ++agreed;
    }
    if (agreed == kSentinels && IsMaster(named)) return ::testing::AssertionSuccess();
    if (absl::Now() > deadline) {
      return ::testing::AssertionFailure() << "no failover away from port " << old_port << " within "
                                           << timeout << ": "
                                           << ReadFileOrEmpty(dir_.path() + "/sentinel0/sentinel.log");
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
}

::testing::AssertionResult RedisSentinelGroup::RestartKilledAsReplica(absl::Duration timeout) {
  if (killed_ < 0) return ::testing::AssertionFailure() << "no node was killed";
  const int primary = primary_port();
  if (primary == 0) return ::testing::AssertionFailure() << "no sentinel names a primary";
  Node& node = nodes_[killed_];
  killed_ = -1;
  return StartNode(node, primary, absl::Now() + timeout);
}

}  // namespace edgepass::testing
