// The Redis state adapters against a real redis-server (started per test on
// a free loopback port, AOF fsync always). Label: integration.
#include <algorithm>
#include <atomic>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "core/random.h"
#include "core/revocation.h"
#include "core/token_issuer.h"
#include "core/token_policy.h"
#include "gtest/gtest.h"
#include "server/adapters/file_secret_store.h"
#include "server/adapters/local_change_feed.h"
#include "server/adapters/redis/redis_catalog_store.h"
#include "server/adapters/redis/redis_change_feed.h"
#include "server/adapters/redis/redis_client.h"
#include "server/adapters/redis/redis_keyring_cache.h"
#include "server/adapters/redis/redis_rotation.h"
#include "server/adapters/redis/redis_session_store.h"
#include "server/app/live_state.h"
#include "tests/fakes/counting_secret_store.h"
#include "tests/fakes/in_memory_state.h"
#include "tests/fakes/keyring_load.h"
#include "tests/fakes/test_catalog.h"
#include "tests/fakes/test_clock.h"
#include "tests/support/redis_server.h"
#include "tests/support/test_process.h"

namespace edgepass::server {
namespace {

using ::edgepass::testing::CountingSecretStore;
using ::edgepass::testing::RedisServer;
using ::edgepass::testing::TempDir;
using ::edgepass::testing::WithTestAsset;

// Where the tests' clocks start: 2026-01-01.
constexpr absl::Time kStart = absl::FromUnixSeconds(1767225600);

// Polls `condition` until true or `timeout` (real time) passes.
template <typename F>
bool Eventually(F condition, absl::Duration timeout = absl::Seconds(15)) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!condition()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return true;
}

class RedisStateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!edgepass::testing::RedisServerAvailable()) FAIL() << "redis-server not installed (scripts/deps.sh installs it)";
    ASSERT_TRUE(redis_.Start());
  }

  RedisOptions Options() {
    return {.address = redis_.address(),
            .pool_size = 4,
            .connect_timeout = absl::Milliseconds(500),
            .command_timeout = absl::Seconds(2),
            .acquire_timeout = absl::Milliseconds(500),
            .reconnect_backoff = absl::Milliseconds(20),
            .max_reconnect_backoff = absl::Milliseconds(200)};
  }

  std::unique_ptr<RedisClient> NewClient(const RedisOptions& options) {
    absl::StatusOr<std::unique_ptr<RedisClient>> client = RedisClient::Create(options);
    EXPECT_TRUE(client.ok()) << client.status();
    return client.ok() ? *std::move(client) : nullptr;
  }
  std::unique_ptr<RedisClient> NewClient() { return NewClient(Options()); }
  // A client whose every command must be answered within 100 ms.
  std::unique_ptr<RedisClient> TightClient() {
    RedisOptions options = Options();
    options.command_timeout = absl::Milliseconds(100);
    return NewClient(options);
  }

  RedisServer redis_;
};

core::RevocationEntry Entry(const std::string& id, int64_t expires) {
  core::RevocationEntry e;
  e.session_id = id;
  e.reason = "test";
  e.added_at = absl::FromUnixSeconds(1000);
  e.expires_at = absl::FromUnixSeconds(expires);
  return e;
}

TEST(RedisOptions, BadOptionsNameTheField) {
  EXPECT_NE(ValidateRedisOptions({.address = "nohostport"}).message().find("redis.address"),
            std::string::npos);
  EXPECT_NE(ValidateRedisOptions({.address = "h:70000"}).message().find("redis.address"),
            std::string::npos);
  EXPECT_NE(ValidateRedisOptions({.pool_size = 0}).message().find("redis.pool_size"),
            std::string::npos);
  EXPECT_NE(ValidateRedisOptions({.command_timeout = absl::ZeroDuration()})
                .message()
                .find("redis.command_timeout"),
            std::string::npos);
  EXPECT_EQ(RedisClient::Create({.address = "[::1]:x"}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(ValidateRedisOptions({.address = "[::1]:6379"}).ok());
}

TEST_F(RedisStateTest, CommandsAreBinarySafe) {
  std::unique_ptr<RedisClient> client = NewClient();
  const std::string value("a\0b\r\n$3\r\nc", 11);
  ASSERT_TRUE(client->Command({"SET", "k", value}).ok());
  absl::StatusOr<RedisReply> r = client->Command({"GET", "k"});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->type, RedisReply::Type::kString);
  EXPECT_EQ(r->str, value);
  r = client->Command({"NOSUCHCOMMAND"});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->is_error());
  r = client->Command({"GET", "absent"});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->is_nil());
}

TEST_F(RedisStateTest, ACommandWithNoReplyWithinTheTimeoutSaysSo) {
  std::unique_ptr<RedisClient> client = TightClient();
  ASSERT_NE(client, nullptr);
  // A script that keeps Redis busy for 400 ms.
  absl::StatusOr<RedisReply> busy = client->Command(
      {"EVAL",
       "local t0 = redis.call('TIME') "
       "repeat local t = redis.call('TIME') until (t[1] - t0[1]) * 1000000 + (t[2] - t0[2]) > 400000 "
       "return 1",
       "0"});
  EXPECT_EQ(busy.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(absl::StrContains(busy.status().message(), "EVAL: no reply within the command timeout (100ms)"))
      << busy.status();
  // The connection that timed out is not reused (the script's late reply
  // would be taken for the next command's): once Redis is free, the next
  // command gets its own reply.
  absl::StatusOr<RedisReply> echo;
  for (int i = 0; i < 100; ++i) {
    echo = client->Command({"ECHO", "after"});
    if (echo.ok()) break;
    absl::SleepFor(absl::Milliseconds(50));
  }
  ASSERT_TRUE(echo.ok()) << echo.status();
  EXPECT_EQ(echo->str, "after");
}

TEST_F(RedisStateTest, PasswordIsSentAndARefusalIsPermissionDenied) {
  std::unique_ptr<RedisClient> admin = NewClient();
  ASSERT_TRUE(admin->Command({"CONFIG", "SET", "requirepass", "s3cret-pw"}).ok());
  RedisOptions options = Options();
  options.password = "wrong-pw";
  absl::StatusOr<RedisReply> refused = (*RedisClient::Create(options))->Command({"PING"});
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kPermissionDenied) << refused.status();
  EXPECT_EQ(refused.status().message().find("wrong-pw"), std::string::npos);
  options.password = "s3cret-pw";
  absl::StatusOr<RedisReply> ok = (*RedisClient::Create(options))->Command({"PING"});
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->str, "PONG");
}

TEST_F(RedisStateTest, PoolIsBoundedAndAcquireWaitsThenTimesOut) {
  RedisOptions options = Options();
  options.pool_size = 2;
  options.acquire_timeout = absl::Milliseconds(300);
  std::unique_ptr<RedisClient> client = *RedisClient::Create(options);
  absl::StatusOr<RedisClient::Connection> a = client->Acquire();
  absl::StatusOr<RedisClient::Connection> b = client->Acquire();
  ASSERT_TRUE(a.ok() && b.ok());
  const absl::Time start = absl::Now();
  absl::StatusOr<RedisClient::Connection> c = client->Acquire();
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(300));
  EXPECT_EQ(c.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(c.status().message().find(redis_.address()), std::string::npos) << c.status();

  // A waiter gets the connection another caller returns.
  std::thread waiter([&] {
    absl::StatusOr<RedisReply> r = client->Command({"PING"});
    EXPECT_TRUE(r.ok()) << r.status();
  });
  absl::SleepFor(absl::Milliseconds(50));  // let the waiter block (not a correctness wait)
  { RedisClient::Connection released = *std::move(a); }
  waiter.join();

  // Only pool_size connections were ever opened.
  absl::StatusOr<RedisReply> clients = b->Command({"INFO", "clients"});
  ASSERT_TRUE(clients.ok());
  EXPECT_NE(clients->str.find("connected_clients:2"), std::string::npos) << clients->str;
}

TEST_F(RedisStateTest, CatalogUpdatesFromTwoReplicasLoseNothing) {
  std::unique_ptr<RedisClient> c1 = NewClient();
  std::unique_ptr<RedisClient> c2 = NewClient();
  RedisCatalogStore s1(*c1, nullptr);
  RedisCatalogStore s2(*c2, nullptr);
  absl::StatusOr<VersionedCatalog> empty = s1.Load();
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_EQ(empty->version, 0u);
  EXPECT_TRUE(empty->catalog->assets().empty());

  constexpr int kPerWriter = 15;
  std::atomic<int> stored{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w) {
    RedisCatalogStore* store = w % 2 == 0 ? &s1 : &s2;
    writers.emplace_back([store, w, &stored] {
      for (int i = 0; i < kPerWriter; ++i) {
        absl::StatusOr<uint64_t> v =
            store->Update([&](const Catalog& c) { return WithTestAsset(c, w * 100 + i); });
        EXPECT_TRUE(v.ok()) << v.status();
        if (v.ok()) stored++;
      }
    });
  }
  for (std::thread& t : writers) t.join();
  absl::StatusOr<VersionedCatalog> all = s2.Load();
  ASSERT_TRUE(all.ok()) << all.status();
  // Every update that returned OK is there: none overwrote another.
  EXPECT_EQ(all->catalog->assets().size(), static_cast<size_t>(stored.load()));
  EXPECT_EQ(all->version, static_cast<uint64_t>(stored.load()));
  EXPECT_EQ(stored.load(), 4 * kPerWriter);

  // A mutation's error stores nothing.
  absl::StatusOr<uint64_t> refused = s1.Update(
      [](const Catalog&) -> absl::StatusOr<Catalog> { return absl::InvalidArgumentError("asset: no"); });
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s1.Load()->version, static_cast<uint64_t>(stored.load()));
}

TEST_F(RedisStateTest, CorruptStoredCatalogIsReportedNotReplaced) {
  std::unique_ptr<RedisClient> client = NewClient();
  ASSERT_TRUE(client->Command({"SET", "edgepass:catalog", "{\"assets\":[{\"id\":1}]}"}).ok());
  RedisCatalogStore store(*client, nullptr);
  EXPECT_EQ(store.Load().status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(store.Update([](const Catalog& c) { return WithTestAsset(c, 1); }).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(client->Command({"GET", "edgepass:catalog"})->str, "{\"assets\":[{\"id\":1}]}");
}

TEST_F(RedisStateTest, SessionsPutRemoveListPruneWithVersions) {
  std::unique_ptr<RedisClient> client = NewClient();
  RedisSessionStore store(*client, nullptr);
  EXPECT_EQ(store.List()->version, 0u);
  EXPECT_EQ(*store.Put(Entry("sessA1", 5000)), 1u);
  EXPECT_EQ(*store.Put(Entry("sessB2", 9000)), 2u);
  core::RevocationEntry auto_entry = Entry("sessA1", 6000);
  auto_entry.type = core::RevocationType::kAuto;
  auto_entry.score = 4.25;
  auto_entry.score_components = {{"rate_ratio", 3.25}, {"ip_penalty", 1}};
  EXPECT_EQ(*store.Put(auto_entry), 3u);
  EXPECT_EQ(*store.Remove("sessB2"), 4u);
  EXPECT_EQ(store.Remove("sessB2").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store.List()->version, 4u);  // NOT_FOUND changed nothing

  RedisSessionStore other(*client, nullptr);  // another replica sees the same
  absl::StatusOr<SessionList> list = other.List();
  ASSERT_TRUE(list.ok()) << list.status();
  ASSERT_EQ(list->entries.size(), 1u);
  EXPECT_EQ(list->entries[0].session_id, "sessA1");
  EXPECT_EQ(list->entries[0].type, core::RevocationType::kAuto);
  EXPECT_EQ(list->entries[0].score_components.at("rate_ratio"), 3.25);

  ASSERT_TRUE(store.Put(Entry("sessC3", 9000)).ok());
  EXPECT_EQ(*store.Prune(absl::FromUnixSeconds(7000)), 1u);
  EXPECT_EQ(*store.Prune(absl::FromUnixSeconds(7000)), 0u);
  list = store.List();
  ASSERT_EQ(list->entries.size(), 1u);
  EXPECT_EQ(list->entries[0].session_id, "sessC3");
  EXPECT_EQ(list->version, 6u);

  ASSERT_TRUE(client->Command({"HSET", "edgepass:sessions", "bad", "{}"}).ok());
  absl::Status corrupt = store.List().status();
  EXPECT_EQ(corrupt.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(corrupt.message().find("\"bad\""), std::string::npos) << corrupt;
}

core::RevocationEntry AutoEntry(const std::string& id, double score) {
  core::RevocationEntry e = Entry(id, 9000);
  e.type = core::RevocationType::kAuto;
  e.score = score;
  e.score_components = {{"rate", score - 1}};
  return e;
}

TEST_F(RedisStateTest, ReportsNeverReplaceManualNorRepeatUnderConcurrentWriters) {
  constexpr int kIds = 300;
  constexpr int kWriters = 4;
  std::vector<std::unique_ptr<RedisClient>> clients;
  for (int i = 0; i < kWriters; ++i) clients.push_back(NewClient());
  std::atomic<int> stored{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kWriters; ++t) {
    threads.emplace_back([&, t] {
      RedisSessionStore store(*clients[t], nullptr);  // one replica each
      for (int i = 0; i < kIds; ++i) {
        const std::string id = absl::StrCat("sess", i);
        if (t == 0 && i % 3 == 0) {
          EXPECT_TRUE(store.Put(Entry(id, 9000)).ok());  // an operator's MANUAL revoke
          continue;
        }
        std::vector<core::RevocationEntry> batch = {AutoEntry(id, 2 + t), AutoEntry(absl::StrCat("x", id), 3)};
        absl::StatusOr<ReportResult> r = store.Report(batch);
        ASSERT_TRUE(r.ok()) << r.status();
        ASSERT_EQ(r->outcomes.size(), 2u);
        for (ReportOutcome o : r->outcomes) stored += o == ReportOutcome::kStored;
      }
    });
  }
  for (auto& t : threads) t.join();
  RedisSessionStore store(*clients[0], nullptr);
  absl::StatusOr<SessionList> list = store.List();
  ASSERT_TRUE(list.ok()) << list.status();
  ASSERT_EQ(list->entries.size(), 2u * kIds);
  int auto_count = 0;
  for (const core::RevocationEntry& e : list->entries) {
    int n = 0;
    if (absl::SimpleAtoi(absl::string_view(e.session_id).substr(4), &n) && e.session_id.rfind("sess", 0) == 0) {
      EXPECT_EQ(e.type, n % 3 == 0 ? core::RevocationType::kManual : core::RevocationType::kAuto) << e.session_id;
    }
    auto_count += e.type == core::RevocationType::kAuto;
  }
  // Every AUTO entry was stored by exactly one report: the change log holds
  // one put per stored report, plus the MANUAL puts.
  absl::StatusOr<SessionChanges> all = store.ChangesSince(0);
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_FALSE(all->too_old);
  EXPECT_EQ(all->version, list->version);
  int logged_auto = 0;
  for (const SessionChange& c : all->changes) {
    logged_auto += c.entry.has_value() && c.entry->type == core::RevocationType::kAuto;
  }
  EXPECT_EQ(logged_auto, stored.load());
  EXPECT_GE(stored.load(), auto_count);  // a report may be replaced by a later MANUAL revoke
  EXPECT_LE(stored.load(), auto_count + kIds / 3 + 1);

  std::vector<core::RevocationEntry> too_many(kMaxReportBatch + 1, AutoEntry("many", 3));
  EXPECT_EQ(store.Report(too_many).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(RedisStateTest, LoadStreamsThePagesAndTheChangesMadeMeanwhile) {
  std::unique_ptr<RedisClient> client = NewClient();
  std::unique_ptr<RedisClient> other_client = NewClient();
  RedisSessionStore store(*client, nullptr);
  RedisSessionStore other(*other_client, nullptr);  // another replica
  // 12,000 entries: three pages.
  for (int batch = 0; batch < 12; ++batch) {
    std::vector<core::RevocationEntry> entries;
    for (int i = 0; i < 1000; ++i) entries.push_back(AutoEntry(absl::StrCat("s", batch * 1000 + i), 3));
    ASSERT_TRUE(store.Report(entries).ok());
  }
  // While the second page is visited, the other replica removes, replaces
  // and adds entries before and after the place the pages have reached.
  std::map<std::string, core::RevocationEntry> seen;
  bool changed = false;
  size_t visits = 0;
  absl::StatusOr<SessionLoad> loaded = store.Load([&](absl::string_view id, const core::RevocationEntry* e) {
    ++visits;
    if (e != nullptr) {
      seen[std::string(id)] = *e;
    } else {
      seen.erase(std::string(id));
    }
    if (changed || visits != 6000) return;
    changed = true;
    ASSERT_TRUE(other.Remove("s10").ok());               // on a page read already
    ASSERT_TRUE(other.Remove("s9999").ok());             // on a page not read yet
    ASSERT_TRUE(other.Put(Entry("s11", 9000)).ok());     // replaced after it was read
    ASSERT_TRUE(other.Put(Entry("s0new", 9000)).ok());   // new, where the pages were
    ASSERT_TRUE(other.Put(Entry("zz", 9000)).ok());      // new, where they are going
  });
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ASSERT_TRUE(changed);
  absl::StatusOr<SessionList> now = store.List();
  ASSERT_TRUE(now.ok()) << now.status();
  EXPECT_EQ(loaded->version, now->version);
  EXPECT_EQ(loaded->count, now->entries.size());
  ASSERT_EQ(seen.size(), now->entries.size());
  EXPECT_EQ(seen.size(), 12000u + 2 - 2);
  for (const core::RevocationEntry& e : now->entries) {
    auto it = seen.find(e.session_id);
    ASSERT_NE(it, seen.end()) << e.session_id;
    EXPECT_EQ(it->second.expires_at, e.expires_at) << e.session_id;
    EXPECT_EQ(it->second.type, e.type) << e.session_id;
  }
  EXPECT_EQ(seen.count("s10") + seen.count("s9999"), 0u);
  EXPECT_EQ(seen.at("s11").expires_at, absl::FromUnixSeconds(9000));
}

// Reports 600 AUTO entries in three batches, every `nth` of them expired
// (at 5000 s); returns the expired ids.
std::set<std::string> ReportWithExpired(RedisSessionStore& store, int nth) {
  std::set<std::string> expired;
  for (int batch = 0; batch < 3; ++batch) {
    std::vector<core::RevocationEntry> entries;
    for (int i = 0; i < 200; ++i) {
      const int n = batch * 200 + i;
      core::RevocationEntry e = AutoEntry(absl::StrCat("sess", n), 3);
      if (n % nth == 0) {
        e.expires_at = absl::FromUnixSeconds(5000);
        expired.insert(e.session_id);
      }
      entries.push_back(std::move(e));
    }
    EXPECT_TRUE(store.Report(entries).ok());
  }
  return expired;
}

TEST_F(RedisStateTest, PruneWalksTheHashInStepsAndLogsEachRemoval) {
  std::unique_ptr<RedisClient> client = NewClient();
  RedisSessionStore store(*client, nullptr, RedisSessionStore::kDefaultChangeLogLength, /*prune_scan_count=*/50);
  // 600 entries (a real hash table, not a small listpack HSCAN returns at
  // once), every third expired by the cutoff.
  const std::set<std::string> expired = ReportWithExpired(store, 3);
  const uint64_t before = store.List()->version;
  ASSERT_EQ(before, 3u);

  absl::StatusOr<size_t> dropped = store.Prune(absl::FromUnixSeconds(7000));
  ASSERT_TRUE(dropped.ok()) << dropped.status();
  EXPECT_EQ(*dropped, expired.size());
  absl::StatusOr<SessionList> list = store.List();
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_EQ(list->entries.size(), 400u);
  for (const core::RevocationEntry& e : list->entries) EXPECT_EQ(expired.count(e.session_id), 0u) << e.session_id;

  // Each step dropped its share under its own version, logged like Remove().
  absl::StatusOr<SessionChanges> changes = store.ChangesSince(before);
  ASSERT_TRUE(changes.ok()) << changes.status();
  ASSERT_FALSE(changes->too_old);
  EXPECT_EQ(changes->version, list->version);
  EXPECT_GT(changes->version, before + 1);  // more than one step removed entries
  EXPECT_EQ(changes->stored_count, std::optional<size_t>(400));
  std::set<std::string> removed;
  for (const SessionChange& c : changes->changes) {
    EXPECT_FALSE(c.entry.has_value()) << c.session_id;
    EXPECT_GT(c.version, before);
    removed.insert(c.session_id);
  }
  EXPECT_EQ(changes->changes.size(), expired.size());
  EXPECT_EQ(removed, expired);

  EXPECT_EQ(*store.Prune(absl::FromUnixSeconds(7000)), 0u);
  EXPECT_EQ(store.List()->version, list->version);  // nothing dropped: no version

  // A put that adds a session is marked created; one that replaces is not.
  ASSERT_TRUE(store.Put(Entry("sessNew", 9000)).ok());
  ASSERT_TRUE(store.Put(Entry("sessNew", 9500)).ok());
  changes = store.ChangesSince(list->version);
  ASSERT_TRUE(changes.ok()) << changes.status();
  ASSERT_EQ(changes->changes.size(), 2u);
  EXPECT_TRUE(changes->changes[0].created);
  EXPECT_FALSE(changes->changes[1].created);
  EXPECT_EQ(changes->stored_count, std::optional<size_t>(401));
}

TEST_F(RedisStateTest, OneReplicaClaimsThePrunePerInterval) {
  std::unique_ptr<RedisClient> c1 = NewClient();
  std::unique_ptr<RedisClient> c2 = NewClient();
  RedisSessionStore a(*c1, nullptr), b(*c2, nullptr);
  absl::StatusOr<bool> first = a.ClaimPrune(absl::Milliseconds(500));
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_TRUE(*first);
  EXPECT_FALSE(*b.ClaimPrune(absl::Milliseconds(500)));
  EXPECT_FALSE(*a.ClaimPrune(absl::Milliseconds(500)));  // the claimant too, until it expires
  const int64_t ttl = c1->Command({"PTTL", "edgepass:sessions:prune-claim"})->integer;
  EXPECT_GT(ttl, 0);
  EXPECT_LE(ttl, 500);
  absl::SleepFor(absl::Milliseconds(ttl + 50));
  EXPECT_TRUE(*b.ClaimPrune(absl::Milliseconds(500)));
}

TEST_F(RedisStateTest, ConcurrentPrunesFromTwoReplicasDropAndLogEachEntryOnce) {
  std::unique_ptr<RedisClient> setup_client = NewClient();
  RedisSessionStore setup(*setup_client, nullptr);
  const std::set<std::string> expired = ReportWithExpired(setup, 2);
  const uint64_t before = setup.List()->version;

  // Two replicas prune at once, in small steps so their walks interleave,
  // while a third revokes some of the expired sessions again (a new token).
  std::set<std::string> revoked_again;
  for (int n = 0; n < 600; n += 20) revoked_again.insert(absl::StrCat("sess", n));
  std::unique_ptr<RedisClient> client_a = NewClient();
  std::unique_ptr<RedisClient> client_b = NewClient();
  RedisSessionStore replica_a(*client_a, nullptr, RedisSessionStore::kDefaultChangeLogLength, 20);
  RedisSessionStore replica_b(*client_b, nullptr, RedisSessionStore::kDefaultChangeLogLength, 20);
  std::atomic<size_t> dropped{0};
  std::vector<std::thread> threads;
  for (RedisSessionStore* replica : {&replica_a, &replica_b}) {
    threads.emplace_back([&, replica] {
      for (int round = 0; round < 3; ++round) {
        absl::StatusOr<size_t> n = replica->Prune(absl::FromUnixSeconds(7000));
        ASSERT_TRUE(n.ok()) << n.status();
        dropped += *n;
      }
    });
  }
  threads.emplace_back([&] {
    for (const std::string& id : revoked_again) ASSERT_TRUE(setup.Put(Entry(id, 9500)).ok());
  });
  for (std::thread& t : threads) t.join();

  // Every removal logged once, and counted once across the two replicas.
  absl::StatusOr<SessionChanges> changes = setup.ChangesSince(before);
  ASSERT_TRUE(changes.ok()) << changes.status();
  ASSERT_FALSE(changes->too_old);
  std::set<std::string> removed;
  for (const SessionChange& c : changes->changes) {
    if (c.entry.has_value()) continue;  // a revoke again
    EXPECT_EQ(expired.count(c.session_id), 1u) << c.session_id;
    EXPECT_TRUE(removed.insert(c.session_id).second) << c.session_id << " removed twice";
  }
  EXPECT_EQ(dropped.load(), removed.size());
  EXPECT_GE(removed.size(), expired.size() - revoked_again.size());

  // What is left: every live entry, each session revoked again with its new
  // expiry, no other expired one; the stored count agrees with the log.
  absl::StatusOr<SessionList> list = setup.List();
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_EQ(list->entries.size(), 600 - expired.size() + revoked_again.size());
  for (const core::RevocationEntry& e : list->entries) {
    if (expired.count(e.session_id) == 0) continue;
    EXPECT_EQ(revoked_again.count(e.session_id), 1u) << e.session_id;
    EXPECT_EQ(e.expires_at, absl::FromUnixSeconds(9500)) << e.session_id;
  }
  EXPECT_EQ(changes->stored_count, std::optional<size_t>(list->entries.size()));
  EXPECT_EQ(*replica_a.Prune(absl::FromUnixSeconds(7000)), 0u);
}

TEST_F(RedisStateTest, ListPageReadsPagesInIdOrderAndRebuildsAStaleIndex) {
  std::unique_ptr<RedisClient> client = NewClient();
  RedisSessionStore store(*client, nullptr);
  std::vector<core::RevocationEntry> entries;
  for (int i = 299; i >= 0; --i) entries.push_back(AutoEntry(absl::StrFormat("sess%03d", i), 3));
  entries[5].expires_at = absl::FromUnixSeconds(5000);  // sess294, pruned below
  ASSERT_TRUE(store.Report(entries).ok());
  ASSERT_TRUE(store.Remove("sess010").ok());
  ASSERT_EQ(*store.Prune(absl::FromUnixSeconds(7000)), 1u);
  ASSERT_TRUE(store.Put(Entry("sess010b", 9000)).ok());
  std::vector<std::string> expected;
  absl::StatusOr<SessionList> listed = store.List();  // held: a range-for over a temporary's member dangles
  ASSERT_TRUE(listed.ok()) << listed.status();
  for (const core::RevocationEntry& e : listed->entries) expected.push_back(e.session_id);
  std::sort(expected.begin(), expected.end());
  ASSERT_EQ(expected.size(), 299u);

  auto all_pages = [&](size_t max) {
    std::vector<std::string> ids;
    std::string after;
    while (true) {
      absl::StatusOr<SessionPage> page = store.ListPage(after, max);
      EXPECT_TRUE(page.ok()) << page.status();
      if (!page.ok()) break;
      EXPECT_EQ(page->version, store.List()->version);
      EXPECT_LE(page->entries.size(), max);
      for (const core::RevocationEntry& e : page->entries) ids.push_back(e.session_id);
      if (!page->more) break;
      after = page->entries.back().session_id;
    }
    return ids;
  };
  EXPECT_EQ(all_pages(64), expected);
  EXPECT_EQ(all_pages(1000), expected);

  // An index missing (data stored before it existed) or out of step with the
  // hash (an edit by hand) is built again from the hash.
  ASSERT_TRUE(client->Command({"DEL", "edgepass:sessions:ids"}).ok());
  EXPECT_EQ(all_pages(64), expected);
  ASSERT_EQ(client->Command({"HDEL", "edgepass:sessions", "sess100"})->integer, 1);
  expected.erase(std::find(expected.begin(), expected.end(), "sess100"));
  EXPECT_EQ(all_pages(64), expected);
  EXPECT_EQ(client->Command({"ZCARD", "edgepass:sessions:ids"})->integer, 298);

  EXPECT_EQ(store.ListPage(std::string(300, 'x'), 10).status().code(), absl::StatusCode::kInvalidArgument);
  // The store takes only what its readers take (core::CheckSessionId), so no
  // entry stored here stops a replica loading the list.
  const std::string too_long(core::kMaxSessionIdLength + 1, 'x');
  for (const std::string& id : {too_long, std::string("bad id")}) {
    absl::StatusOr<uint64_t> put = store.Put(Entry(id, 9000));
    EXPECT_EQ(put.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(put.status().message(), "entry.session_id: must be 1 to 64 characters of [A-Za-z0-9_-]");
    EXPECT_EQ(store.Remove(id).status().message(), "session_id: must be 1 to 64 characters of [A-Za-z0-9_-]");
    EXPECT_EQ(store.ListPage(id, 10).status().message(), "after: must be 1 to 64 characters of [A-Za-z0-9_-]");
  }
  EXPECT_TRUE(store.Put(Entry(std::string(core::kMaxSessionIdLength, 'x'), 9000)).ok());
  EXPECT_TRUE(store.List().ok());  // every entry reads back
}

// Writes `n` entries sess0000001... straight into the hash, as data stored
// before the id index existed (which it leaves alone), 20,000 per script.
void SeedHashDirectly(RedisClient& admin, int n) {
  RedisSessionStore seeding(admin, nullptr);
  ASSERT_TRUE(seeding.Put(Entry("tmplsess", 9000)).ok());
  constexpr int kPerScript = 20000;  // each script well within a 2 s timeout
  for (int from = 1; from <= n; from += kPerScript) {
    absl::StatusOr<RedisReply> seeded = admin.Command(
        {"EVAL",
         "local t = redis.call('HGET', KEYS[1], 'tmplsess') "
         "for i = tonumber(ARGV[1]), tonumber(ARGV[2]) do "
         "  local id = string.format('sess%07d', i) "
         "  redis.call('HSET', KEYS[1], id, (string.gsub(t, 'tmplsess', id))) "
         "end",
         "1", "edgepass:sessions", absl::StrCat(from), absl::StrCat(std::min(n, from + kPerScript - 1))});
    ASSERT_TRUE(seeded.ok()) << seeded.status();
  }
  ASSERT_EQ(admin.Command({"HDEL", "edgepass:sessions", "tmplsess"})->integer, 1);
  ASSERT_EQ(admin.Command({"HLEN", "edgepass:sessions"})->integer, n);
}

TEST_F(RedisStateTest, AMissingIdIndexOfManyEntriesIsBuiltInStepsThatEachFitTheCommandTimeout) {
  // 200,000 entries from before the index; the index holds two ids no
  // longer in the hash.
  constexpr int kEntries = 200000;
  std::unique_ptr<RedisClient> admin = NewClient();
  ASSERT_NO_FATAL_FAILURE(SeedHashDirectly(*admin, kEntries));
  ASSERT_TRUE(admin->Command({"DEL", "edgepass:sessions:ids"}).ok());
  ASSERT_EQ(admin->Command({"ZADD", "edgepass:sessions:ids", "0", "gone1", "0", "gone2"})->integer, 2);

  // Building the index in one script takes Redis longer than the 100 ms.
  std::unique_ptr<RedisClient> client = TightClient();
  ASSERT_NE(client, nullptr);
  RedisSessionStore store(*client, nullptr);
  size_t visited = 0;
  absl::StatusOr<SessionLoad> load = store.Load([&](absl::string_view, const core::RevocationEntry* e) {
    if (e != nullptr) ++visited;
  });
  ASSERT_TRUE(load.ok()) << load.status();
  EXPECT_EQ(load->count, static_cast<size_t>(kEntries));
  EXPECT_EQ(visited, static_cast<size_t>(kEntries));
  EXPECT_EQ(admin->Command({"ZCARD", "edgepass:sessions:ids"})->integer, kEntries);
  EXPECT_EQ(admin->Command({"ZSCORE", "edgepass:sessions:ids", "gone1"})->type, RedisReply::Type::kNil);
  absl::StatusOr<SessionPage> first = store.ListPage("", 2);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_EQ(first->entries.size(), 2u);
  EXPECT_EQ(first->entries[0].session_id, "sess0000001");
  EXPECT_EQ(first->entries[1].session_id, "sess0000002");
}

TEST_F(RedisStateTest, ListOfManyEntriesReadsPagesThatEachFitTheCommandTimeout) {
  constexpr int kEntries = 200000;
  std::unique_ptr<RedisClient> admin = NewClient();
  ASSERT_NO_FATAL_FAILURE(SeedHashDirectly(*admin, kEntries));
  RedisSessionStore writer(*admin, nullptr);
  ASSERT_TRUE(writer.Put(Entry("sess0000001", 9999)).ok());  // a change after the seeding
  ASSERT_TRUE(writer.ListPage("", 1).ok());  // the id index built first, so each script below is a page
  // Scripts Redis has run so far.
  auto scripts_run = [&] {
    absl::StatusOr<RedisReply> info = admin->Command({"INFO", "commandstats"});
    const size_t at = info.ok() ? info->str.find("cmdstat_eval:calls=") : std::string::npos;
    int64_t calls = 0;
    if (at != std::string::npos) {
      const std::string rest = info->str.substr(at + 19);
      EXPECT_TRUE(absl::SimpleAtoi(rest.substr(0, rest.find(',')), &calls)) << rest;
    }
    return calls;
  };
  const int64_t scripts_before = scripts_run();

  std::unique_ptr<RedisClient> client = TightClient();
  ASSERT_NE(client, nullptr);
  RedisSessionStore store(*client, nullptr);
  absl::StatusOr<SessionList> all;
  std::thread lister([&] { all = store.List(); });
  // Once the first page (sess0000001 to sess0005000) is read, change three
  // sessions while the other 39 pages are: what List() returns must have them.
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (scripts_run() == scripts_before && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(1));
  EXPECT_TRUE(writer.Remove("sess0000002").ok());
  EXPECT_TRUE(writer.Put(Entry("sess0000003", 9998)).ok());
  EXPECT_TRUE(writer.Put(Entry("sess9999999", 9997)).ok());
  lister.join();
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(all->version, writer.ChangesSince(0)->version);
  std::map<std::string, absl::Time> expiry;
  for (const core::RevocationEntry& e : all->entries) expiry[e.session_id] = e.expires_at;
  EXPECT_EQ(all->entries.size(), static_cast<size_t>(kEntries));  // one removed, one added
  EXPECT_EQ(expiry.size(), static_cast<size_t>(kEntries));         // each once
  EXPECT_EQ(expiry["sess0000001"], absl::FromUnixSeconds(9999));
  EXPECT_EQ(expiry.count("sess0000002"), 0u);
  EXPECT_EQ(expiry["sess0000003"], absl::FromUnixSeconds(9998));
  EXPECT_EQ(expiry["sess9999999"], absl::FromUnixSeconds(9997));
}

TEST_F(RedisStateTest, ChangesSinceGivesEachReplicaOnlyWhatItHasNotSeen) {
  std::unique_ptr<RedisClient> client = NewClient();
  RedisSessionStore store(*client, nullptr, /*change_log_length=*/5);
  EXPECT_FALSE(store.ChangesSince(0)->too_old);  // an empty store: nothing to miss
  ASSERT_EQ(*store.Put(Entry("sessA1", 9000)), 1u);
  std::vector<core::RevocationEntry> batch = {AutoEntry("sessB1", 3), AutoEntry("sessB2", 4)};
  ASSERT_EQ(store.Report(batch)->version, 2u);
  ASSERT_EQ(*store.Remove("sessA1"), 3u);

  RedisSessionStore replica(*client, nullptr, 5);
  absl::StatusOr<SessionChanges> c = replica.ChangesSince(1);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_FALSE(c->too_old);
  EXPECT_EQ(c->version, 3u);
  ASSERT_EQ(c->changes.size(), 3u);
  EXPECT_EQ(c->changes[0].version, 2u);
  EXPECT_EQ(c->changes[0].session_id, "sessB1");
  EXPECT_EQ(c->changes[1].entry->score, 4);
  EXPECT_EQ(c->changes[2].session_id, "sessA1");
  EXPECT_FALSE(c->changes[2].entry.has_value());
  EXPECT_TRUE(replica.ChangesSince(3)->changes.empty());
  EXPECT_FALSE(replica.ChangesSince(3)->too_old);
  EXPECT_TRUE(replica.ChangesSince(9)->too_old);  // ahead of the store (it was reset)

  // The log keeps 5 records: version 1 falls out, then version 2 loses its first.
  ASSERT_TRUE(store.Put(Entry("sessC1", 9000)).ok());  // 4
  ASSERT_TRUE(store.Put(Entry("sessC2", 9000)).ok());  // 5: 5 records from version 2 on
  EXPECT_FALSE(replica.ChangesSince(1)->too_old);
  ASSERT_TRUE(store.Put(Entry("sessC3", 9000)).ok());  // 6: sessB1's record is trimmed
  EXPECT_TRUE(replica.ChangesSince(1)->too_old);
  EXPECT_FALSE(replica.ChangesSince(2)->too_old);
  EXPECT_EQ(replica.ChangesSince(2)->changes.size(), 4u);
  EXPECT_EQ(client->Command({"XLEN", "edgepass:sessions:changes"})->integer, 5);

  // Data from before the change log (no stream): one full load, then deltas.
  ASSERT_TRUE(client->Command({"DEL", "edgepass:sessions:changes"}).ok());
  EXPECT_TRUE(replica.ChangesSince(5)->too_old);
  EXPECT_FALSE(replica.ChangesSince(6)->too_old);
  ASSERT_EQ(*store.Put(Entry("sessD1", 9000)), 7u);
  c = replica.ChangesSince(6);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_FALSE(c->too_old);
  ASSERT_EQ(c->changes.size(), 1u);
  EXPECT_EQ(c->changes[0].session_id, "sessD1");

  // A counter reset (the version key deleted) drops the old log, so record
  // ids keep growing and replicas ahead of the store reload.
  ASSERT_TRUE(client->Command({"DEL", "edgepass:sessions:version"}).ok());
  ASSERT_EQ(*store.Put(Entry("sessE1", 9000)), 1u);
  EXPECT_TRUE(replica.ChangesSince(7)->too_old);
  EXPECT_EQ(replica.ChangesSince(0)->changes.size(), 1u);
}

TEST_F(RedisStateTest, ReplicaReloadsTheListWhenTheStoreDriftsOutsideTheChangeLog) {
  std::unique_ptr<RedisClient> client = NewClient();
  LocalChangeFeed feed;
  RedisSessionStore store(*client, &feed);
  edgepass::testing::TestClock clock{kStart};
  auto revoked = [&](const std::string& id) {
    core::RevocationEntry e;
    e.session_id = id;
    e.reason = "test";
    e.added_at = clock.Now();
    e.expires_at = clock.Now() + absl::Hours(1);
    return e;
  };
  for (const char* id : {"sessA", "sessB", "sessC"}) ASSERT_TRUE(store.Put(revoked(id)).ok());
  edgepass::testing::InMemoryCatalogStore catalogs;
  absl::StatusOr<core::Keyring> keyring = core::Keyring::Create(
      {{.id = "20260101_0123456789abcdef0123", .value = std::string(128, 'a'), .state = core::KeyState::kPrimary}});
  ASSERT_TRUE(keyring.ok()) << keyring.status();
  edgepass::testing::FixedKeyringSource keys(std::make_shared<const core::Keyring>(*std::move(keyring)));
  LiveState live(&catalogs, &store, &keys, &feed, clock.AsFunction(),
                 {.revocations = {.retention = absl::Hours(24), .capacity = 100},
                  .refresh_interval = absl::Hours(100),
                  .keyring_poll_interval = absl::Milliseconds(10),
                  .consistency_check_interval = absl::Minutes(1)});
  ASSERT_TRUE(live.Start().ok());
  ASSERT_EQ(live.edge()->revoked.size(), 3u);

  // An edit by hand, past the change log: the replica cannot see it in a delta.
  ASSERT_EQ(client->Command({"HDEL", "edgepass:sessions", "sessB"})->integer, 1);
  ASSERT_TRUE(store.Put(revoked("sessD")).ok());
  ASSERT_TRUE(Eventually([&] { return live.edge()->revoked.Find("sessD").has_value(); }));
  EXPECT_TRUE(live.edge()->revoked.Find("sessB").has_value());  // no check yet: still drifted
  EXPECT_EQ(live.resyncs(), 0u);

  // The check is due: counts differ (3 stored, 4 here), so the list is loaded again.
  clock.Advance(absl::Minutes(1));
  ASSERT_TRUE(Eventually([&] { return live.resyncs() == 1; }));
  ASSERT_TRUE(Eventually([&] { return !live.edge()->revoked.Find("sessB").has_value(); }));
  EXPECT_EQ(live.edge()->revoked.size(), 3u);

  // In step again: the next checks find nothing to do.
  ASSERT_TRUE(store.Put(revoked("sessE")).ok());
  clock.Advance(absl::Minutes(1));
  ASSERT_TRUE(Eventually([&] { return live.edge()->revoked.Find("sessE").has_value(); }));
  absl::SleepFor(absl::Milliseconds(200));  // several reload rounds
  clock.Advance(absl::Minutes(1));
  absl::SleepFor(absl::Milliseconds(200));
  EXPECT_EQ(live.resyncs(), 1u);
  EXPECT_EQ(live.edge()->revoked.size(), 4u);
}

// Collects what a feed's listener was told.
class Recorder {
 public:
  ChangeFeed::Listener Listener() {
    return [this](ChangeKind kind) {
      absl::MutexLock lock(&mu_);
      counts_[static_cast<int>(kind)]++;
    };
  }
  int count(ChangeKind kind) {
    absl::MutexLock lock(&mu_);
    return counts_[static_cast<int>(kind)];
  }

 private:
  absl::Mutex mu_;
  int counts_[3] = {0, 0, 0};
};

TEST_F(RedisStateTest, ChangeFeedDeliversAcrossReplicasAndAfterARestart) {
  std::unique_ptr<RedisClient> c1 = NewClient();
  std::unique_ptr<RedisClient> c2 = NewClient();
  Recorder seen;
  RedisChangeFeed publisher(*c1);
  RedisChangeFeed subscriber(*c2);
  subscriber.Subscribe(seen.Listener());
  // Every (re)subscription tells listeners every kind changed.
  ASSERT_TRUE(Eventually([&] { return seen.count(ChangeKind::kKeyring) >= 1; }));
  EXPECT_GE(seen.count(ChangeKind::kCatalog), 1);
  EXPECT_EQ(publisher.subscriptions(), 0);  // publish-only: no subscriber connection
  const int sessions_before = seen.count(ChangeKind::kSessions);

  // A store write on one replica reaches the other's listener.
  RedisSessionStore sessions(*c1, &publisher);
  ASSERT_TRUE(sessions.Put(Entry("sessA1", 5000)).ok());
  ASSERT_TRUE(Eventually([&] { return seen.count(ChangeKind::kSessions) > sessions_before; }));

  redis_.Stop();
  const int keyring_before = seen.count(ChangeKind::kKeyring);
  publisher.Publish(ChangeKind::kCatalog);  // lost: best effort, counted
  EXPECT_GE(publisher.publish_failures(), 1);
  ASSERT_TRUE(redis_.Start());
  ASSERT_TRUE(Eventually([&] { return subscriber.subscriptions() >= 2; }));
  ASSERT_TRUE(Eventually([&] { return seen.count(ChangeKind::kKeyring) > keyring_before; }));

  // And it goes on delivering.
  const int catalog_before = seen.count(ChangeKind::kCatalog);
  ASSERT_TRUE(Eventually([&] {
    publisher.Publish(ChangeKind::kCatalog);
    return seen.count(ChangeKind::kCatalog) > catalog_before;
  }));
}

TEST_F(RedisStateTest, WritesFailUnavailableWhileRedisIsDownAndStoredDataSurvives) {
  std::unique_ptr<RedisClient> client = NewClient();
  RedisSessionStore sessions(*client, nullptr);
  RedisCatalogStore catalog(*client, nullptr);
  ASSERT_TRUE(sessions.Put(Entry("keptA1", 9000)).ok());
  ASSERT_TRUE(catalog.Update([](const Catalog& c) { return WithTestAsset(c, 1); }).ok());

  redis_.Stop();  // SIGKILL: only what the AOF fsync'd survives
  absl::StatusOr<uint64_t> put = sessions.Put(Entry("lostB2", 9000));
  EXPECT_EQ(put.status().code(), absl::StatusCode::kUnavailable) << put.status();
  EXPECT_NE(put.status().message().find(redis_.address()), std::string::npos) << put.status();
  EXPECT_EQ(sessions.Remove("keptA1").status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(sessions.List().status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(catalog.Update([](const Catalog& c) { return WithTestAsset(c, 2); }).status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(catalog.Load().status().code(), absl::StatusCode::kUnavailable);

  ASSERT_TRUE(redis_.Start());
  absl::StatusOr<SessionList> list;
  ASSERT_TRUE(Eventually([&] { return (list = sessions.List()).ok(); })) << list.status();
  ASSERT_EQ(list->entries.size(), 1u);
  EXPECT_EQ(list->entries[0].session_id, "keptA1");
  EXPECT_EQ(list->version, 1u);
  absl::StatusOr<VersionedCatalog> c = catalog.Load();
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->version, 1u);
  EXPECT_NE(c->catalog->Find("a1"), nullptr);
  EXPECT_EQ(c->catalog->Find("a2"), nullptr);
  EXPECT_EQ(*sessions.Put(Entry("afterC3", 9000)), 2u);
}

class RedisKeyringCacheTest : public RedisStateTest {
 protected:
  void SetUp() override {
    RedisStateTest::SetUp();
    if (IsSkipped()) return;
    file_ = std::make_unique<FileSecretStore>(keys_dir_.path() + "/keyring.json");
    core::SecureRandom random;
    ASSERT_TRUE(file_->LoadOrCreate(clock_.Now(), random).ok());
    store_ = std::make_unique<CountingSecretStore>(*file_);
  }

  RedisKeyringCacheOptions CacheOptions() {
    return {.ttl = absl::Seconds(10),
            .lock_ttl = absl::Seconds(10),
            .fill_wait = absl::Seconds(5),
            .retry_interval = absl::Seconds(1),
            .store_backoff = absl::Seconds(30),
            .first_wait = absl::Seconds(10),
            .clock = clock_.AsFunction()};
  }

  TempDir keys_dir_;
  edgepass::testing::TestClock clock_{kStart};
  std::unique_ptr<FileSecretStore> file_;
  std::unique_ptr<CountingSecretStore> store_;
};

TEST_F(RedisKeyringCacheTest, TwoReplicasReadTheStoreAtMostOncePerTtl) {
  std::unique_ptr<RedisClient> c1 = NewClient();
  std::unique_ptr<RedisClient> c2 = NewClient();
  RedisKeyringCache replica1(*c1, *store_, nullptr, CacheOptions());
  RedisKeyringCache replica2(*c2, *store_, nullptr, CacheOptions());

  // Issuers on both replicas call continuously while simulated time runs.
  constexpr absl::Duration kRun = absl::Seconds(60);
  const testing::KeyringLoad load = testing::RunIssuers(
      replica1, replica2, [&](absl::Duration d) { clock_.Advance(d); }, kRun, absl::Milliseconds(100));

  // The copy in Redis is refilled once per TTL window by whichever replica
  // wins the lock: at most run/ttl + 1 store reads (the first fill, then one
  // per expiry), however many calls were made.
  const int64_t reads = store_->read_count();
  EXPECT_LE(reads, kRun / absl::Seconds(10) + 1) << "calls: " << load.calls;
  std::cout << "store reads: " << reads << " for " << load.calls << " calls\n";
  EXPECT_GE(reads, 2);  // it did refresh
  EXPECT_EQ(load.failures, 0);
  EXPECT_GT(load.calls, 1000);
}

TEST_F(RedisKeyringCacheTest, ServesFromMemoryWhileRedisIsDownAndResumesAfter) {
  std::unique_ptr<RedisClient> client = NewClient();
  RedisKeyringCache cache(*client, *store_, nullptr, CacheOptions());
  absl::StatusOr<std::shared_ptr<const core::Keyring>> first = cache.Current();
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(store_->read_count(), 1);

  redis_.Stop();
  for (int i = 0; i < 60; ++i) {
    clock_.Advance(absl::Seconds(1));
    absl::StatusOr<std::shared_ptr<const core::Keyring>> k = cache.Current();
    ASSERT_TRUE(k.ok()) << k.status();
    EXPECT_EQ((*k)->Primary()->id, (*first)->Primary()->id);
  }
  EXPECT_EQ(store_->read_count(), 1);  // a keyring in memory: the store is spared

  ASSERT_TRUE(redis_.Start());
  ASSERT_TRUE(Eventually([&] {
    clock_.Advance(absl::Seconds(11));
    EXPECT_TRUE(cache.Current().ok());
    return store_->read_count() >= 2;
  }));
  absl::StatusOr<RedisReply> copy = client->Command({"EXISTS", "edgepass:keyring"});
  ASSERT_TRUE(copy.ok());
  EXPECT_EQ(copy->integer, 1);
}

TEST_F(RedisKeyringCacheTest, WithoutRedisTheStoreIsReadAtMostOncePerBackoff) {
  redis_.Stop();
  std::unique_ptr<RedisClient> client = NewClient();
  store_->SetUnavailable(true);
  RedisKeyringCache cache(*client, *store_, nullptr, CacheOptions());
  EXPECT_EQ(cache.Current().status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(store_->read_count(), 1);
  for (int i = 0; i < 20; ++i) {
    clock_.Advance(absl::Seconds(1));
    EXPECT_FALSE(cache.Current().ok());
  }
  EXPECT_EQ(store_->read_count(), 1);  // store_backoff is 30 s
  store_->SetUnavailable(false);
  clock_.Advance(absl::Seconds(10));
  absl::StatusOr<std::shared_ptr<const core::Keyring>> k = cache.Current();
  ASSERT_TRUE(k.ok()) << k.status();
  EXPECT_EQ(store_->read_count(), 2);
}

TEST_F(RedisKeyringCacheTest, SharedKeyringReachesOtherReplicasWithoutStoreReads) {
  std::unique_ptr<RedisClient> c1 = NewClient();
  std::unique_ptr<RedisClient> c2 = NewClient();
  RedisChangeFeed feed1(*c1);
  RedisChangeFeed feed2(*c2);
  RedisKeyringCache rotator(*c1, *store_, &feed1, CacheOptions());
  RedisKeyringCache issuer(*c2, *store_, &feed2, CacheOptions());
  ASSERT_TRUE(Eventually([&] { return feed2.subscriptions() >= 1; }));
  absl::StatusOr<std::shared_ptr<const core::Keyring>> before = issuer.Current();
  ASSERT_TRUE(before.ok()) << before.status();
  ASSERT_TRUE(rotator.Current().ok());
  const int64_t reads = store_->read_count();

  // A rotation: new primary in the store, then shared through Redis.
  core::SecureRandom random;
  std::vector<core::SigningKey> keys = {
      core::GenerateSigningKey(clock_.Now(), core::KeyState::kPrimary, random)};
  core::SigningKey old = *(*before)->Primary();
  old.state = core::KeyState::kSecondary;
  keys.push_back(old);
  absl::StatusOr<core::Keyring> rotated = core::Keyring::Create(keys);
  ASSERT_TRUE(rotated.ok());
  ASSERT_TRUE(store_->WriteKeyring(*rotated).ok());
  ASSERT_TRUE(rotator.Share(*rotated).ok());

  const std::string new_primary = rotated->Primary()->id;
  ASSERT_TRUE(Eventually([&] {
    absl::StatusOr<std::shared_ptr<const core::Keyring>> k = issuer.Current();
    return k.ok() && (*k)->Primary()->id == new_primary;
  }));
  EXPECT_EQ(store_->read_count(), reads);
}


TEST_F(RedisStateTest, RotationLockGrantsOneLeaseAtATimeWithGrowingFences) {
  std::unique_ptr<RedisClient> a = NewClient(), b = NewClient();
  RedisRotationLock lock_a(*a), lock_b(*b);
  absl::StatusOr<std::optional<RotationLease>> first = lock_a.Acquire(absl::Milliseconds(300));
  ASSERT_TRUE(first.ok() && first->has_value()) << first.status();
  absl::StatusOr<std::optional<RotationLease>> refused = lock_b.Acquire(absl::Seconds(30));
  ASSERT_TRUE(refused.ok());
  EXPECT_FALSE(refused->has_value());
  EXPECT_TRUE(lock_a.Renew(**first, absl::Milliseconds(300)).ok());

  // The holder stalls past its lease; the next one gets a larger fence and
  // the stalled one can neither renew nor release it.
  absl::SleepFor(absl::Milliseconds(400));
  absl::StatusOr<std::optional<RotationLease>> second = lock_b.Acquire(absl::Seconds(30));
  ASSERT_TRUE(second.ok() && second->has_value());
  EXPECT_GT((*second)->fence, (*first)->fence);
  absl::Status lost = lock_a.Renew(**first, absl::Seconds(30));
  EXPECT_EQ(lost.code(), absl::StatusCode::kAborted) << lost;
  EXPECT_NE(lost.message().find("rotation lock lost"), std::string::npos);
  lock_a.Release(**first);
  EXPECT_TRUE(lock_b.Renew(**second, absl::Seconds(30)).ok());
  lock_b.Release(**second);
  absl::StatusOr<std::optional<RotationLease>> third = lock_a.Acquire(absl::Seconds(30));
  ASSERT_TRUE(third.ok() && third->has_value());
  EXPECT_GT((*third)->fence, (*second)->fence);
}

TEST_F(RedisStateTest, ValidatorDirectoryIsSharedByReplicasAndForgetsQuietValidators) {
  std::unique_ptr<RedisClient> a = NewClient(), b = NewClient();
  RedisValidatorDirectory replica_a(*a), replica_b(*b);
  const absl::Time now = absl::FromUnixMillis(absl::ToUnixMillis(absl::Now()));
  ASSERT_TRUE(replica_a
                  .Publish("a", {{.validator_id = "edge-1", .keyring_fingerprint = "f1", .acked_version = 7,
                                  .seen_at = now},
                                 {.validator_id = "edge-old", .keyring_fingerprint = "f0",
                                  .seen_at = now - absl::Minutes(5)}})
                  .ok());
  ASSERT_TRUE(replica_b.Publish("b", {{.validator_id = "edge-2", .seen_at = now}}).ok());
  absl::StatusOr<std::vector<ValidatorAck>> live = replica_b.List(now - absl::Seconds(15));
  ASSERT_TRUE(live.ok()) << live.status();
  ASSERT_EQ(live->size(), 2u);
  EXPECT_EQ((*live)[0], (ValidatorAck{.validator_id = "edge-1", .replica = "a", .keyring_fingerprint = "f1",
                                      .acked_version = 7, .seen_at = now}));
  EXPECT_EQ((*live)[1].validator_id, "edge-2");
  EXPECT_EQ((*live)[1].keyring_fingerprint, "");
  // edge-old was dropped from Redis by that List.
  absl::StatusOr<RedisReply> fields = a->Command({"HLEN", a->Key("validators")});
  ASSERT_TRUE(fields.ok());
  EXPECT_EQ(fields->integer, 2);

  // A validator that left replica a is forgotten; one another replica
  // reported since is not (it moved there).
  ASSERT_TRUE(replica_b.Publish("b", {{.validator_id = "edge-1", .keyring_fingerprint = "f2", .seen_at = now}}).ok());
  ASSERT_TRUE(replica_a.Forget("a", {"edge-1"}).ok());
  ASSERT_TRUE(replica_b.Forget("b", {"edge-2"}).ok());
  live = replica_a.List(now - absl::Seconds(15));
  ASSERT_TRUE(live.ok());
  ASSERT_EQ(live->size(), 1u);
  EXPECT_EQ((*live)[0].validator_id, "edge-1");
  EXPECT_EQ((*live)[0].replica, "b");
}

}  // namespace
}  // namespace edgepass::server
