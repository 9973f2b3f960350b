// RevocationPruner over the in-memory session store and a hand-moved clock:
// which entries a run drops (the grace), what it counts and logs, and the
// timer. The stores' own Prune (Redis, files) is tested with them.
#include "server/app/revocation_pruner.h"

#include <atomic>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "logging/json_log.h"
#include "tests/fakes/in_memory_state.h"
#include "tests/fakes/test_clock.h"

namespace edgepass::server {
namespace {

using ::testing::HasSubstr;
using testing::InMemorySessionStore;
using testing::TestClock;

const absl::Time kNow = absl::FromUnixSeconds(1767225600);  // 2026-01-01

core::RevocationEntry Expiring(const std::string& id, absl::Time expires_at) {
  return {.session_id = id, .added_at = expires_at - absl::Hours(1), .expires_at = expires_at};
}

std::vector<std::string> Ids(SessionStore& store) {
  absl::StatusOr<SessionPage> page = store.ListPage("", 100);
  std::vector<std::string> ids;
  for (const core::RevocationEntry& e : page->entries) ids.push_back(e.session_id);
  return ids;
}

// Captures the JSON log lines written while it lives.
class LogCapture {
 public:
  LogCapture() {
    logging::SetSinkForTesting([this](absl::string_view line) {
      absl::MutexLock lock(&mu_);
      lines_.emplace_back(line);
    });
  }
  ~LogCapture() { logging::SetSinkForTesting(nullptr); }
  std::vector<std::string> lines() {
    absl::MutexLock lock(&mu_);
    return lines_;
  }

 private:
  absl::Mutex mu_;
  std::vector<std::string> lines_;
};

TEST(RevocationPruner, DropsOnlyEntriesExpiredLongerThanTheGrace) {
  InMemorySessionStore store;
  TestClock clock(kNow);
  ASSERT_TRUE(store.Put(Expiring("pastGrace", kNow - absl::Hours(1) - absl::Seconds(1))).ok());
  ASSERT_TRUE(store.Put(Expiring("withinGrace", kNow - absl::Minutes(59))).ok());
  ASSERT_TRUE(store.Put(Expiring("live", kNow + absl::Minutes(5))).ok());
  RevocationPruner pruner(&store, clock.AsFunction(), {.grace = absl::Hours(1)});
  LogCapture log;

  ASSERT_EQ(pruner.PruneOnce().value(), 1u);
  EXPECT_THAT(Ids(store), ::testing::ElementsAre("live", "withinGrace"));
  EXPECT_EQ(pruner.pruned(), 1u);
  ASSERT_EQ(log.lines().size(), 1u);
  EXPECT_THAT(log.lines()[0], HasSubstr("\"event\":\"revocations_pruned\""));
  EXPECT_THAT(log.lines()[0], HasSubstr("\"removed\":1"));
  EXPECT_THAT(log.lines()[0], HasSubstr("\"expired_before\":\"2025-12-31T23:00:00Z\""));

  // Nothing more to drop: no log line, same count.
  ASSERT_EQ(pruner.PruneOnce().value(), 0u);
  EXPECT_EQ(log.lines().size(), 1u);

  // An hour on, the entry within the grace goes too; the live one's token
  // expired 55 minutes ago, inside the grace: it stays.
  clock.Advance(absl::Hours(1));
  ASSERT_EQ(pruner.PruneOnce().value(), 1u);
  EXPECT_THAT(Ids(store), ::testing::ElementsAre("live"));
  EXPECT_EQ(pruner.pruned(), 2u);
}

// A store that cannot be reached.
class UnreachableSessionStore : public InMemorySessionStore {
 public:
  absl::StatusOr<size_t> Prune(absl::Time) override { return absl::UnavailableError("redis: connection refused"); }
};

TEST(RevocationPruner, AFailedRunIsLoggedAndCountsNothing) {
  UnreachableSessionStore store;
  RevocationPruner pruner(&store, [] { return kNow; }, {});
  LogCapture log;
  EXPECT_EQ(pruner.PruneOnce().status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(pruner.pruned(), 0u);
  ASSERT_EQ(log.lines().size(), 1u);
  EXPECT_THAT(log.lines()[0], HasSubstr("\"event\":\"revocation_prune_failed\""));
  EXPECT_THAT(log.lines()[0], HasSubstr("connection refused"));
}

TEST(RevocationPruner, RunsEveryIntervalUntilStopped) {
  InMemorySessionStore store;
  TestClock clock(kNow);
  RevocationPruner pruner(&store, clock.AsFunction(),
                          {.interval = absl::Milliseconds(10), .grace = absl::Minutes(5)});
  pruner.Start();
  pruner.Start();  // once is enough; a second call starts nothing
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(store.Put(Expiring(absl::StrCat("gone", i), kNow - absl::Hours(1))).ok());
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (pruner.pruned() < static_cast<uint64_t>(i + 1) && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(5));
    }
    ASSERT_EQ(pruner.pruned(), static_cast<uint64_t>(i + 1));
  }
  pruner.Stop();
  pruner.Stop();
  ASSERT_TRUE(store.Put(Expiring("afterStop", kNow - absl::Hours(1))).ok());
  absl::SleepFor(absl::Milliseconds(50));
  EXPECT_THAT(Ids(store), ::testing::ElementsAre("afterStop"));
}

// A store another replica's pruner has claimed (or that cannot be asked).
class ClaimedSessionStore : public InMemorySessionStore {
 public:
  explicit ClaimedSessionStore(absl::StatusOr<bool> claim) : claim_(std::move(claim)) {}
  absl::StatusOr<bool> ClaimPrune(absl::Duration period) override {
    claims_.fetch_add(1);
    EXPECT_EQ(period, absl::Milliseconds(10));  // the interval
    return claim_;
  }
  int claims() const { return claims_.load(); }

 private:
  const absl::StatusOr<bool> claim_;
  std::atomic<int> claims_{0};
};

TEST(RevocationPruner, SkipsItsTurnWhenAnotherReplicaClaimedTheInterval) {
  for (absl::StatusOr<bool> claim : {absl::StatusOr<bool>(false),
                                     absl::StatusOr<bool>(absl::UnavailableError("redis: connection refused"))}) {
    ClaimedSessionStore store(claim);
    ASSERT_TRUE(store.Put(Expiring("old", kNow - absl::Hours(10))).ok());
    LogCapture log;
    RevocationPruner pruner(&store, [] { return kNow; }, {.interval = absl::Milliseconds(10)});
    pruner.Start();
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (store.claims() < 3 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(5));
    pruner.Stop();
    EXPECT_GE(store.claims(), 3);
    EXPECT_EQ(pruner.pruned(), 0u);
    EXPECT_THAT(Ids(store), ::testing::ElementsAre("old"));
    if (!claim.ok()) {
      ASSERT_FALSE(log.lines().empty());
      EXPECT_THAT(log.lines()[0], HasSubstr("\"event\":\"revocation_prune_failed\""));
      EXPECT_THAT(log.lines()[0], HasSubstr("connection refused"));
    }
  }
}

TEST(RevocationPruner, ZeroIntervalNeverRuns) {
  InMemorySessionStore store;
  ASSERT_TRUE(store.Put(Expiring("old", kNow - absl::Hours(10))).ok());
  RevocationPruner pruner(&store, [] { return kNow; }, {.interval = absl::ZeroDuration()});
  pruner.Start();
  absl::SleepFor(absl::Milliseconds(50));
  pruner.Stop();
  EXPECT_EQ(pruner.pruned(), 0u);
  EXPECT_THAT(Ids(store), ::testing::ElementsAre("old"));
}

}  // namespace
}  // namespace edgepass::server
