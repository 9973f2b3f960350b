// RAII harness for tests of Redis Sentinel failover: a redis-server primary,
// one replica and three redis-sentinel processes watching them, all on free
// loopback ports in one temporary directory, with a short failure detection
// (down-after-milliseconds 2000, failover-timeout 3000; not less: a sentinel
// pings once a second and would take a primary it has just switched to for
// down before the first ping is answered, and fail over again). Every process is
// killed and the directory removed when the object goes, even when the test
// failed.
//
//   RedisSentinelGroup group;
//   ASSERT_TRUE(group.Start());
//   RedisOptions options{.sentinels = group.sentinel_addresses(), .sentinel_master = group.master_name()};
//   const int old_primary = group.primary_port();
//   ASSERT_TRUE(group.KillPrimary());
//   ASSERT_TRUE(group.WaitForNewPrimary(old_primary));
#ifndef EDGEPASS_TESTS_SUPPORT_REDIS_SENTINEL_GROUP_H_
#define EDGEPASS_TESTS_SUPPORT_REDIS_SENTINEL_GROUP_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/support/test_process.h"

namespace edgepass::testing {

class RedisSentinelGroup {
 public:
  static constexpr int kSentinels = 3;

  // Picks the ports and the directory; starts nothing.
  RedisSentinelGroup();
  ~RedisSentinelGroup();
  RedisSentinelGroup(const RedisSentinelGroup&) = delete;
  RedisSentinelGroup& operator=(const RedisSentinelGroup&) = delete;

  // Starts the primary, the replica (waits until it is in sync) and the
  // sentinels (waits until each knows the replica and the two others, so a
  // failover can be agreed on at once).
  ::testing::AssertionResult Start(absl::Duration timeout = absl::Seconds(30));

  const std::string& master_name() const { return master_name_; }
  // "127.0.0.1:PORT" of each sentinel, and the same as one comma list.
  std::vector<std::string> sentinel_addresses() const;
  std::string sentinels_flag() const;

  // Port of the node the first reachable sentinel names as primary, or 0.
  int primary_port() const;
  // Port of the running node that is not primary_port(), or 0.
  int replica_port() const;
  // Kills (SIGKILL) the node that is primary now; the sentinels fail over
  // after down-after-milliseconds.
  ::testing::AssertionResult KillPrimary();
  // Asks a sentinel for a failover (SENTINEL FAILOVER): the primary is
  // demoted to a replica without being stopped.
  ::testing::AssertionResult Failover();
  // Waits until every sentinel names a primary other than `old_port` and
  // that node answers ROLE master.
  ::testing::AssertionResult WaitForNewPrimary(int old_port, absl::Duration timeout = absl::Seconds(30));
  // Kills every sentinel (the Redis nodes keep running).
  void StopSentinels();
  // Starts the node KillPrimary() killed again (same port and directory) as
  // a replica of the current primary, and waits until it is in sync.
  ::testing::AssertionResult RestartKilledAsReplica(absl::Duration timeout = absl::Seconds(30));

  // One command to any of the processes on loopback `port`: the reply's
  // leaves in order (arrays flattened; an error reply as "-MESSAGE", nil as
  // "(nil)"), or nullopt when the connection failed.
  static std::optional<std::vector<std::string>> Call(int port, const std::vector<std::string>& argv);

 private:
  struct Node {
    int port = 0;
    std::string dir;
    int starts = 0;
    std::unique_ptr<ChildProcess> process;
  };
  ::testing::AssertionResult StartNode(Node& node, int replica_of_port, absl::Time deadline);
  ::testing::AssertionResult StartSentinel(int index);

  TempDir dir_;
  std::string master_name_ = "mymaster";
  Node nodes_[2];
  int killed_ = -1;  // index in nodes_
  int sentinel_ports_[kSentinels] = {};
  std::unique_ptr<ChildProcess> sentinels_[kSentinels];
};

// True when redis-server and redis-sentinel are installed (scripts/deps.sh).
bool RedisSentinelAvailable();

}  // namespace edgepass::testing

#endif  // EDGEPASS_TESTS_SUPPORT_REDIS_SENTINEL_GROUP_H_
