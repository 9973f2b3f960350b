// RedisClient, the Redis stores and the change feed in Sentinel mode, against
// real processes: a redis-server primary, a replica and three redis-sentinel
// (tests/support/redis_sentinel_group.h), failing over by SENTINEL FAILOVER
// or by killing the primary. Label: integration.
#include <atomic>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "server/adapters/redis/redis_catalog_store.h"
#include "server/adapters/redis/redis_change_feed.h"
#include "server/adapters/redis/redis_client.h"
#include "server/adapters/redis/redis_session_store.h"
#include "tests/support/redis_sentinel_group.h"
#include "tests/support/redis_server.h"
#include "tests/support/test_process.h"

namespace edgepass::server {
namespace {

using ::edgepass::testing::FreeLoopbackPort;
using ::edgepass::testing::RedisSentinelGroup;
using ::edgepass::testing::RedisServer;

template <typename F>
bool Eventually(F condition, absl::Duration timeout = absl::Seconds(20)) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!condition()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return true;
}

core::RevocationEntry Entry(const std::string& id) {
  core::RevocationEntry e;
  e.session_id = id;
  e.reason = "test";
  e.added_at = absl::FromUnixSeconds(1000);
  e.expires_at = absl::FromUnixSeconds(4000000000);
  return e;
}

RedisOptions FastOptions() {
  RedisOptions options{.pool_size = 4,
          .connect_timeout = absl::Milliseconds(300),
          .command_timeout = absl::Seconds(2),
          .acquire_timeout = absl::Milliseconds(500),
          .reconnect_backoff = absl::Milliseconds(20),
          .max_reconnect_backoff = absl::Milliseconds(200)};
  options.sentinel_poll_interval = absl::Milliseconds(200);
  return options;
}

std::unique_ptr<RedisClient> NewClient(const RedisOptions& options) {
  absl::StatusOr<std::unique_ptr<RedisClient>> client = RedisClient::Create(options);
  EXPECT_TRUE(client.ok()) << client.status();
  return client.ok() ? *std::move(client) : nullptr;
}

TEST(RedisSentinelOptions, BadSentinelsNameTheField) {
  RedisOptions o{.sentinels = {"127.0.0.1:26379", "nohostport"}};
  EXPECT_TRUE(absl::StrContains(ValidateRedisOptions(o).message(), "redis.sentinels[1]")) << ValidateRedisOptions(o);
  o.sentinels = {"127.0.0.1:0"};
  EXPECT_TRUE(absl::StrContains(ValidateRedisOptions(o).message(), "redis.sentinels[0]"));
  o.sentinels = {"127.0.0.1:26379"};
  o.sentinel_master = "";
  EXPECT_TRUE(absl::StrContains(ValidateRedisOptions(o).message(), "redis.sentinel_master"));
  o.sentinel_master = "my master";
  EXPECT_TRUE(absl::StrContains(ValidateRedisOptions(o).message(), "redis.sentinel_master"));
  o.sentinel_master = "mymaster";
  EXPECT_TRUE(ValidateRedisOptions(o).ok());
  o.sentinels.assign(kMaxSentinels + 1, "127.0.0.1:26379");
  EXPECT_EQ(RedisClient::Create(o).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(RedisSentinelClient, NoReachableSentinelIsUnavailableNamingEachOne) {
  RedisOptions options = FastOptions();
  const std::string a = absl::StrCat("127.0.0.1:", FreeLoopbackPort());
  const std::string b = absl::StrCat("127.0.0.1:", FreeLoopbackPort());
  options.sentinels = {a, b};
  std::unique_ptr<RedisClient> client = NewClient(options);
  ASSERT_NE(client, nullptr);
  absl::StatusOr<std::string> primary = client->DiscoverPrimary();
  ASSERT_EQ(primary.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(absl::StrContains(primary.status().message(), "mymaster")) << primary.status();
  EXPECT_TRUE(absl::StrContains(primary.status().message(), a)) << primary.status();
  EXPECT_TRUE(absl::StrContains(primary.status().message(), b)) << primary.status();
  EXPECT_EQ(client->Command({"PING"}).status().code(), absl::StatusCode::kUnavailable);
}

TEST(RedisWait, TooFewReplicasIsUnavailableSayingTheWriteIsOnThePrimary) {
  RedisServer redis;  // alone: no replica can acknowledge
  ASSERT_TRUE(redis.Start());
  RedisOptions options = FastOptions();
  options.address = redis.address();
  options.wait_replicas = 1;
  options.wait_timeout = absl::Milliseconds(100);
  std::unique_ptr<RedisClient> client = NewClient(options);
  std::unique_ptr<RedisClient> other = NewClient(options);
  RedisChangeFeed feed(*client);
  RedisChangeFeed other_feed(*other);  // another replica's
  absl::Mutex mu;
  int counts[3] = {0, 0, 0};
  other_feed.Subscribe([&](ChangeKind kind) {
    absl::MutexLock lock(&mu);
    counts[static_cast<int>(kind)]++;
  });
  auto count = [&](ChangeKind kind) {
    absl::MutexLock lock(&mu);
    return counts[static_cast<int>(kind)];
  };
  ASSERT_TRUE(Eventually([&] { return count(ChangeKind::kCatalog) == 1 && count(ChangeKind::kSessions) == 1; }));

  RedisSessionStore store(*client, &feed);
  absl::Status put = store.Put(Entry("sessW1")).status();
  EXPECT_EQ(put.code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(absl::StrContains(put.message(), "stored on the primary, but only 0 of 1 replicas")) << put;
  // What was stored is stored: a list shows it, other replicas are told
  // (they refuse the session too), and repeating the write is safe.
  absl::StatusOr<SessionList> list = store.List();
  ASSERT_TRUE(list.ok()) << list.status();
  ASSERT_EQ(list->entries.size(), 1u);
  EXPECT_TRUE(Eventually([&] { return count(ChangeKind::kSessions) == 2; }));
  EXPECT_EQ(store.Put(Entry("sessW1")).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(store.List()->entries.size(), 1u);

  RedisCatalogStore catalog(*client, &feed);
  absl::Status update = catalog.Update([](const Catalog& c) -> absl::StatusOr<Catalog> { return c; }).status();
  EXPECT_EQ(update.code(), absl::StatusCode::kUnavailable) << update;
  EXPECT_TRUE(Eventually([&] { return count(ChangeKind::kCatalog) == 2; }));
}

class RedisSentinelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!edgepass::testing::RedisSentinelAvailable()) {
      FAIL() << "redis-server or redis-sentinel not installed (scripts/deps.sh installs them)";
    }
    ASSERT_TRUE(group_.Start());
  }

  RedisOptions Options() {
    RedisOptions options = FastOptions();
    options.sentinels = group_.sentinel_addresses();
    options.sentinel_master = group_.master_name();
    return options;
  }

  RedisSentinelGroup group_;
};

TEST_F(RedisSentinelTest, DiscoversThePrimaryPastAnUnreachableSentinel) {
  RedisOptions options = Options();
  options.sentinels.insert(options.sentinels.begin(), absl::StrCat("127.0.0.1:", FreeLoopbackPort()));
  std::unique_ptr<RedisClient> client = NewClient(options);
  absl::StatusOr<std::string> primary = client->DiscoverPrimary();
  ASSERT_TRUE(primary.ok()) << primary.status();
  EXPECT_EQ(*primary, absl::StrCat("127.0.0.1:", group_.primary_port()));
  absl::StatusOr<RedisReply> set = client->Command({"SET", "k", "v"});
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_FALSE(set->is_error()) << set->str;
  EXPECT_EQ(client->failover_count(), 0);
}

TEST_F(RedisSentinelTest, KeepsUsingTheKnownPrimaryWhileNoSentinelAnswers) {
  std::unique_ptr<RedisClient> client = NewClient(Options());
  ASSERT_TRUE(client->DiscoverPrimary().ok());
  group_.StopSentinels();
  const absl::Time until = absl::Now() + absl::Seconds(1);  // five watcher polls
  int calls = 0;
  while (absl::Now() < until) {
    absl::StatusOr<RedisReply> set = client->Command({"SET", "k", absl::StrCat(calls++)});
    ASSERT_TRUE(set.ok()) << set.status();
    ASSERT_FALSE(set->is_error()) << set->str;
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_EQ(client->failover_count(), 0);
}

TEST_F(RedisSentinelTest, UnknownMasterNameIsUnavailable) {
  RedisOptions options = Options();
  options.sentinel_master = "othermaster";
  std::unique_ptr<RedisClient> client = NewClient(options);
  absl::StatusOr<std::string> primary = client->DiscoverPrimary();
  EXPECT_EQ(primary.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(absl::StrContains(primary.status().message(), "does not know master \"othermaster\""))
      << primary.status();
}

TEST_F(RedisSentinelTest, FollowsAFailoverOfALivePrimary) {
  std::unique_ptr<RedisClient> client = NewClient(Options());
  ASSERT_TRUE(client->DiscoverPrimary().ok());
  RedisChangeFeed feed(*client);
  std::atomic<int> catalog_changes{0};
  feed.Subscribe([&](ChangeKind kind) {
    if (kind == ChangeKind::kCatalog) catalog_changes++;
  });
  ASSERT_TRUE(Eventually([&] { return feed.subscriptions() == 1; }));
  const int old_primary = group_.primary_port();
  // WAIT 1 so the key is on the replica that will take over.
  {
    absl::StatusOr<RedisClient::Connection> c = client->Acquire();
    ASSERT_TRUE(c.ok()) << c.status();
    ASSERT_TRUE(c->Command({"SET", "before", "1"}).ok());
    ASSERT_TRUE(c->Command({"WAIT", "1", "2000"}).ok());
  }
  ASSERT_TRUE(group_.Failover());
  ASSERT_TRUE(group_.WaitForNewPrimary(old_primary));
  // The old primary still answers (as a master, until the sentinels get to
  // demote it): the client's watcher moves it without any error to go by.
  const std::string new_primary = absl::StrCat("127.0.0.1:", group_.primary_port());
  ASSERT_TRUE(Eventually([&] { return client->primary_address() == new_primary; }, absl::Seconds(5)))
      << client->primary_address();
  absl::StatusOr<RedisReply> set;
  ASSERT_TRUE(Eventually([&] {
    set = client->Command({"SET", "after", "1"});
    if (!set.ok()) EXPECT_EQ(set.status().code(), absl::StatusCode::kUnavailable) << set.status();
    return set.ok() && !set->is_error();
  })) << (set.ok() ? set->str : set.status().ToString());
  EXPECT_EQ(client->primary_address(), new_primary);
  EXPECT_EQ(client->failover_count(), 1);
  absl::StatusOr<RedisReply> before = client->Read({"GET", "before"});
  ASSERT_TRUE(before.ok()) << before.status();
  EXPECT_EQ(before->str, "1");
  // The feed left the old primary (which still runs, so its subscription
  // was not cut) and hears what is published on the new one.
  ASSERT_TRUE(Eventually([&] { return feed.subscriptions() >= 2; }, absl::Seconds(3)));
  const int catalog_before = catalog_changes.load();
  ASSERT_TRUE(Eventually([&] {
    feed.Publish(ChangeKind::kCatalog);
    return catalog_changes.load() > catalog_before;
  }, absl::Seconds(3)));
  // Every pooled connection now reaches the primary.
  for (int i = 0; i < 8; ++i) {
    absl::StatusOr<RedisReply> role = client->Command({"ROLE"});
    ASSERT_TRUE(role.ok()) << role.status();
    ASSERT_FALSE(role->elements.empty());
    EXPECT_EQ(role->elements[0].str, "master");
  }
}

TEST_F(RedisSentinelTest, AWriteToAReplicaIsUnavailableNotAnError) {
  RedisOptions options = FastOptions();
  options.address = absl::StrCat("127.0.0.1:", group_.replica_port());
  std::unique_ptr<RedisClient> client = NewClient(options);
  absl::StatusOr<RedisReply> set = client->Command({"SET", "k", "v"});
  EXPECT_EQ(set.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(absl::StrContains(set.status().message(), "READONLY")) << set.status();
  RedisSessionStore store(*client, nullptr);  // MULTI ... EXEC: refused at the HSET
  EXPECT_EQ(store.Put(Entry("sessR1")).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(store.Remove("sessR1").status().code(), absl::StatusCode::kUnavailable);  // a script
  EXPECT_TRUE(store.List().ok());  // reads work on a replica
}

TEST_F(RedisSentinelTest, APooledConnectionToTheDemotedPrimaryRediscovers) {
  RedisOptions options = Options();
  options.sentinel_poll_interval = absl::Hours(1);  // no watcher: only what the node answers
  std::unique_ptr<RedisClient> client = NewClient(options);
  ASSERT_TRUE(client->Command({"SET", "before", "1"}).ok());
  const int old_primary = group_.primary_port();
  ASSERT_TRUE(group_.Failover());
  ASSERT_TRUE(group_.WaitForNewPrimary(old_primary));
  // The sentinels demote the old primary (REPLICAOF, then its clients are
  // cut) once they see it still claims to be master.
  ASSERT_TRUE(Eventually([&] {
    std::optional<std::vector<std::string>> role = RedisSentinelGroup::Call(old_primary, {"ROLE"});
    return role.has_value() && !role->empty() && role->front() == "slave";
  }, absl::Seconds(30)));
  absl::StatusOr<RedisReply> set;
  int unavailable = 0;
  ASSERT_TRUE(Eventually([&] {
    set = client->Command({"SET", "after", "1"});
    if (!set.ok()) {
      EXPECT_EQ(set.status().code(), absl::StatusCode::kUnavailable) << set.status();
      ++unavailable;
    }
    return set.ok() && !set->is_error();
  }, absl::Seconds(10))) << (set.ok() ? set->str : set.status().ToString());
  EXPECT_LE(unavailable, 2);  // the cut connection, at most once more while rediscovering
  EXPECT_EQ(client->primary_address(), absl::StrCat("127.0.0.1:", group_.primary_port()));
}

TEST_F(RedisSentinelTest, CallsResumeWhenTheWatcherFindsTheNewPrimaryNotWhenTheBackoffEnds) {
  RedisOptions options = Options();
  options.reconnect_backoff = options.max_reconnect_backoff = absl::Seconds(60);
  options.sentinel_poll_interval = absl::Milliseconds(100);
  std::unique_ptr<RedisClient> client = NewClient(options);
  ASSERT_TRUE(client->Command({"SET", "before", "1"}).ok());
  const int old_primary = group_.primary_port();
  ASSERT_TRUE(group_.KillPrimary());
  // The pooled connection fails, then a connect to the dead primary the
  // sentinels still name (they wait down-after-milliseconds): from then on
  // calls fail fast for the backoff.
  absl::StatusOr<RedisReply> set;
  ASSERT_TRUE(Eventually([&] {
    set = client->Command({"SET", "during", "1"});
    return !set.ok() && absl::StrContains(set.status().message(), "waiting before reconnecting");
  }, absl::Seconds(2))) << (set.ok() ? set->str : set.status().ToString());
  ASSERT_TRUE(group_.WaitForNewPrimary(old_primary));
  // The watcher connects to the new primary, which ends the backoff earned
  // against the dead one: calls resume within a few polls, not in 60 s.
  ASSERT_TRUE(Eventually([&] {
    set = client->Command({"SET", "after", "1"});
    return set.ok() && !set->is_error();
  }, absl::Seconds(5))) << (set.ok() ? set->str : set.status().ToString());
  EXPECT_EQ(client->primary_address(), absl::StrCat("127.0.0.1:", group_.primary_port()));
}

TEST_F(RedisSentinelTest, KillingThePrimaryLosesNoWriteThatReturnedOkWithWait) {
  RedisOptions options = Options();
  options.wait_replicas = 1;
  options.wait_timeout = absl::Milliseconds(500);
  std::unique_ptr<RedisClient> client = NewClient(options);
  ASSERT_TRUE(client->DiscoverPrimary().ok());
  RedisSessionStore store(*client, nullptr);

  absl::Mutex mu;
  std::vector<std::string> acknowledged;
  std::set<absl::StatusCode> failures;
  std::atomic<bool> stop{false};
  std::atomic<int> attempts{0};
  std::thread writer([&] {
    for (int i = 0; !stop.load(); ++i) {
      const std::string id = absl::StrCat("sess", i);
      absl::StatusOr<uint64_t> put = store.Put(Entry(id));
      attempts++;
      absl::MutexLock lock(&mu);
      if (put.ok()) {
        acknowledged.push_back(id);
      } else {
        failures.insert(put.status().code());
        absl::SleepFor(absl::Milliseconds(5));
      }
    }
  });
  auto acked = [&] {
    absl::MutexLock lock(&mu);
    return acknowledged.size();
  };
  ASSERT_TRUE(Eventually([&] { return acked() >= 20; }));
  const int old_primary = group_.primary_port();
  ASSERT_TRUE(group_.KillPrimary());
  ASSERT_TRUE(group_.WaitForNewPrimary(old_primary));
  // The new primary has no replica until the old node comes back as one:
  // meanwhile WAIT 1 fails every write (UNAVAILABLE, never OK).
  ASSERT_TRUE(group_.RestartKilledAsReplica());
  const size_t after_failover = acked();
  ASSERT_TRUE(Eventually([&] { return acked() >= after_failover + 20; })) << "writes never resumed";
  stop = true;
  writer.join();

  {
    absl::MutexLock lock(&mu);
    for (absl::StatusCode code : failures) EXPECT_EQ(code, absl::StatusCode::kUnavailable);
  }
  absl::StatusOr<SessionList> list = store.List();
  ASSERT_TRUE(list.ok()) << list.status();
  std::set<std::string> stored;
  for (const core::RevocationEntry& e : list->entries) stored.insert(e.session_id);
  for (const std::string& id : acknowledged) EXPECT_TRUE(stored.count(id)) << id << " was acknowledged, then lost";
  EXPECT_GE(client->failover_count(), 1);
}

TEST_F(RedisSentinelTest, ChangeFeedFollowsTheFailoverAndAnnouncesEveryKind) {
  std::unique_ptr<RedisClient> subscriber_client = NewClient(Options());
  std::unique_ptr<RedisClient> publisher_client = NewClient(Options());
  RedisChangeFeed subscriber(*subscriber_client);
  RedisChangeFeed publisher(*publisher_client);
  absl::Mutex mu;
  int counts[3] = {0, 0, 0};
  subscriber.Subscribe([&](ChangeKind kind) {
    absl::MutexLock lock(&mu);
    counts[static_cast<int>(kind)]++;
  });
  auto count = [&](ChangeKind kind) {
    absl::MutexLock lock(&mu);
    return counts[static_cast<int>(kind)];
  };
  ASSERT_TRUE(Eventually([&] { return subscriber.subscriptions() == 1; }));
  const int keyring_before = count(ChangeKind::kKeyring);

  const int old_primary = group_.primary_port();
  ASSERT_TRUE(group_.KillPrimary());
  ASSERT_TRUE(group_.WaitForNewPrimary(old_primary));
  // Resubscribed on the new primary, and every kind announced (a
  // notification may have been lost while there was none).
  ASSERT_TRUE(Eventually([&] { return subscriber.subscriptions() >= 2; }));
  ASSERT_TRUE(Eventually([&] { return count(ChangeKind::kKeyring) > keyring_before; }));
  EXPECT_EQ(subscriber_client->primary_address(), absl::StrCat("127.0.0.1:", group_.primary_port()));
  const int catalog_before = count(ChangeKind::kCatalog);
  ASSERT_TRUE(Eventually([&] {
    publisher.Publish(ChangeKind::kCatalog);
    return count(ChangeKind::kCatalog) > catalog_before;
  }));
}

}  // namespace
}  // namespace edgepass::server
