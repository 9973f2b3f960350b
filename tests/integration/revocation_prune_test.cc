// The periodic prune of expired revoked sessions (--revocation-prune-interval)
// in the real server: two replicas on one real redis-server, and the embedded
// data dir. Entries expired longer than the grace go within the interval,
// others stay, the other replica and a validator streaming from it follow,
// and replicas pruning side by side stay consistent. The stores' own Prune
// under concurrent callers is tested in redis_state_test.cc and
// file_session_store_test.cc. Label: integration.
#include <grpcpp/grpcpp.h>
#include <sys/stat.h>

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "edgepass/v1/edge_sync.grpc.pb.h"
#include "edgepass/v1/session.grpc.pb.h"
#include "gtest/gtest.h"
#include "http/http_test_client.h"
#include "server/adapters/file_session_store.h"
#include "server/adapters/redis/redis_change_feed.h"
#include "server/adapters/redis/redis_client.h"
#include "server/adapters/redis/redis_session_store.h"
#include "tests/integration/server_process.h"
#include "tests/support/redis_server.h"
#include "tests/support/test_process.h"

namespace edgepass {
namespace {

using ::edgepass::testing::Context;
using ::edgepass::testing::RedisServer;
using ::edgepass::testing::ServerProcess;
using ::edgepass::testing::TempDir;

constexpr int kExpired = 1500;  // more than one HSCAN step (1000)

// Flags of a server that prunes every second with the default grace (1h)
// and checks its list against the store every second.
std::vector<std::string> PruningFlags(std::vector<std::string> more = {}) {
  std::vector<std::string> flags = {"--revocation-prune-interval", "1s", "--revocation-check-interval", "1s"};
  flags.insert(flags.end(), more.begin(), more.end());
  return flags;
}

core::RevocationEntry Revoked(const std::string& id, absl::Time expires_at) {
  return {.session_id = id,
          .type = core::RevocationType::kAuto,
          .reason = "test",
          .score = 3,
          .added_at = expires_at - absl::Hours(1),
          .expires_at = expires_at};
}

// Every stored entry's session id (ListRevokedSessions, not compiled), and
// the version the last page was read at.
std::set<std::string> Stored(ServerProcess& replica, uint64_t* version = nullptr) {
  auto stub = v1::SessionService::NewStub(replica.channel());
  std::set<std::string> ids;
  v1::ListRevokedSessionsRequest request;
  request.set_page_size(1000);
  while (true) {
    v1::ListRevokedSessionsResponse page;
    grpc::Status s = stub->ListRevokedSessions(Context().get(), request, &page);
    EXPECT_TRUE(s.ok()) << s.error_message();
    if (!s.ok()) return {};
    for (const v1::RevokedSession& e : page.sessions()) ids.insert(e.session_id());
    if (version != nullptr) *version = page.version();
    if (page.next_page_token().empty()) return ids;
    request.set_page_token(page.next_page_token());
  }
}

// The value of an unlabelled counter or gauge on the replica's /metrics (-1
// when absent).
int64_t Metric(ServerProcess& replica, const std::string& name) {
  std::optional<http::testing::TestResponse> scrape = http::testing::Fetch(replica.metrics_port(), "GET", "/metrics");
  if (!scrape.has_value()) return -1;
  const std::string prefix = "\n" + name + " ";
  const size_t at = scrape->body.find(prefix);
  if (at == std::string::npos) return -1;
  const size_t end = scrape->body.find('\n', at + prefix.size());
  double value = -1;
  if (!absl::SimpleAtod(scrape->body.substr(at + prefix.size(), end - at - prefix.size()), &value)) return -1;
  return static_cast<int64_t>(value);
}

template <typename F>
bool Eventually(F condition, absl::Duration timeout = absl::Seconds(15)) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!condition()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(100));
  }
  return true;
}

grpc::Status Revoke(ServerProcess& replica, const std::string& id) {
  v1::RevokeSessionRequest request;
  request.set_session_id(id);
  v1::RevokedSession response;
  return v1::SessionService::NewStub(replica.channel())->RevokeSession(Context().get(), request, &response);
}

TEST(RevocationPrune, TwoRedisReplicasPruneExpiredEntriesAndStayConsistent) {
  TempDir work;
  RedisServer redis;
  ASSERT_TRUE(redis.Start());
  const std::string data_dir = work.path() + "/data";
  std::vector<std::unique_ptr<ServerProcess>> replicas;
  for (int i = 0; i < 2; ++i) {
    replicas.push_back(std::make_unique<ServerProcess>(work.path(), data_dir,
                                                       PruningFlags({"--redis-addr", redis.address()})));
    ASSERT_TRUE(replicas.back()->WaitUntilServing());
  }
  ServerProcess& a = *replicas[0];
  ServerProcess& b = *replicas[1];

  // A validator streaming from b.
  grpc::ClientContext stream_context;
  stream_context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
  v1::SubscribeRequest subscribe;
  subscribe.set_validator_id("edge-1");
  auto edge = v1::EdgeSyncService::NewStub(b.channel());
  auto stream = edge->Subscribe(&stream_context, subscribe);
  v1::EdgeUpdate update;
  ASSERT_TRUE(stream->Read(&update));
  ASSERT_TRUE(update.snapshot());

  // While both run: a live revocation through the API, and entries written
  // to the store as an older release or a long-running fleet left them.
  ASSERT_TRUE(Revoke(a, "liveSession1").ok());
  absl::StatusOr<std::unique_ptr<server::RedisClient>> client =
      server::RedisClient::Create({.address = redis.address()});
  ASSERT_TRUE(client.ok()) << client.status();
  server::RedisChangeFeed feed(**client);
  server::RedisSessionStore store(**client, &feed);
  const absl::Time now = absl::Now();
  std::set<std::string> expired;
  for (int batch = 0; batch * 500 < kExpired; ++batch) {
    std::vector<core::RevocationEntry> entries;
    for (int i = batch * 500; i < (batch + 1) * 500 && i < kExpired; ++i) {
      entries.push_back(Revoked(absl::StrCat("expiredLongAgo", i), now - absl::Hours(2)));
      expired.insert(entries.back().session_id);
    }
    ASSERT_TRUE(store.Report(entries).ok());
  }
  ASSERT_TRUE(store.Put(Revoked("expiredInGrace1", now - absl::Minutes(10))).ok());

  // Within a few intervals both replicas list only what still matters.
  const std::set<std::string> kept = {"expiredInGrace1", "liveSession1"};
  for (ServerProcess* replica : {&a, &b}) {
    EXPECT_TRUE(Eventually([&] { return Stored(*replica) == kept; })) << replica->log();
  }
  // Each entry was dropped once, by one replica or the other.
  EXPECT_TRUE(Eventually([&] {
    return Metric(a, "edgepass_revocations_pruned_total") + Metric(b, "edgepass_revocations_pruned_total") ==
           kExpired;
  })) << Metric(a, "edgepass_revocations_pruned_total") << " + " << Metric(b, "edgepass_revocations_pruned_total");
  EXPECT_TRUE(absl::StrContains(a.log() + b.log(), "\"event\":\"revocations_pruned\""));

  // The validator on b took every change as a delta and lost nothing live:
  // it reaches the store's version with liveSession1 still revoked.
  uint64_t version = 0;
  ASSERT_EQ(Stored(b, &version), kept);
  std::set<std::string> held;
  bool live_removed = false;
  while (update.version() < version || !update.complete()) {
    ASSERT_TRUE(stream->Read(&update)) << "stream ended before version " << version;
    EXPECT_FALSE(update.snapshot()) << "a delta was expected, got a snapshot at " << update.version();
    for (const v1::RevokedId& r : update.revoked_add()) held.insert(r.session_id());
    for (const std::string& id : update.revoked_remove()) live_removed = live_removed || kept.count(id) > 0;
  }
  EXPECT_EQ(held.count("liveSession1"), 1u);
  EXPECT_FALSE(live_removed);
  stream_context.TryCancel();

  // Both replicas counted the removals as the store did: their consistency
  // checks (every second) found nothing to reload.
  absl::SleepFor(absl::Seconds(3));
  for (ServerProcess* replica : {&a, &b}) {
    EXPECT_EQ(Metric(*replica, "edgepass_revocation_resyncs_total"), 0) << replica->log();
  }
  // Nothing more to prune: the version stays.
  uint64_t later = 0;
  EXPECT_EQ(Stored(a, &later), kept);
  EXPECT_EQ(later, version);
}

TEST(RevocationPrune, EmbeddedServerPrunesItsDataDir) {
  TempDir work;
  const std::string data_dir = work.path() + "/data";
  ASSERT_EQ(::mkdir(data_dir.c_str(), 0700), 0);
  const absl::Time now = absl::Now();
  {
    // The data dir as a server that ran for a while left it.
    server::FileSessionStore store(data_dir + "/revocations.json");
    std::vector<core::RevocationEntry> entries;
    for (int i = 0; i < 200; ++i) entries.push_back(Revoked(absl::StrCat("expiredLongAgo", i), now - absl::Hours(3)));
    ASSERT_TRUE(store.Report(entries).ok());
    ASSERT_TRUE(store.Put(Revoked("expiredInGrace1", now - absl::Minutes(10))).ok());
    ASSERT_TRUE(store.Put(Revoked("liveSession1", now + absl::Hours(1))).ok());
  }
  const std::set<std::string> kept = {"expiredInGrace1", "liveSession1"};
  {
    ServerProcess server(work.path(), data_dir, PruningFlags());
    ASSERT_TRUE(server.WaitUntilServing());
    EXPECT_TRUE(Eventually([&] { return Stored(server) == kept; })) << server.log();
    EXPECT_EQ(Metric(server, "edgepass_revocations_pruned_total"), 200);
    EXPECT_TRUE(absl::StrContains(server.log(), "\"event\":\"revocations_pruned\"")) << server.log();
    EXPECT_TRUE(absl::StrContains(server.log(), "\"removed\":200")) << server.log();
  }
  // Stored durably: the files hold only what was kept.
  absl::StatusOr<server::SessionList> reread = server::FileSessionStore(data_dir + "/revocations.json").List();
  ASSERT_TRUE(reread.ok()) << reread.status();
  std::set<std::string> ids;
  for (const core::RevocationEntry& e : reread->entries) ids.insert(e.session_id);
  EXPECT_EQ(ids, kept);
}

TEST(RevocationPrune, ZeroIntervalKeepsEverything) {
  TempDir work;
  const std::string data_dir = work.path() + "/data";
  ASSERT_EQ(::mkdir(data_dir.c_str(), 0700), 0);
  {
    server::FileSessionStore store(data_dir + "/revocations.json");
    ASSERT_TRUE(store.Put(Revoked("expiredLongAgo1", absl::Now() - absl::Hours(3))).ok());
  }
  ServerProcess server(work.path(), data_dir, {"--revocation-prune-interval", "0"});
  ASSERT_TRUE(server.WaitUntilServing());
  absl::SleepFor(absl::Seconds(2));
  EXPECT_EQ(Stored(server), std::set<std::string>{"expiredLongAgo1"});
  EXPECT_EQ(Metric(server, "edgepass_revocations_pruned_total"), 0);
}

}  // namespace
}  // namespace edgepass
