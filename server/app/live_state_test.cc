// The incrementally compiled revocation list and the edge-sync deltas made
// from change records, against core::CompileRevocationList over what the
// real file store holds: random revokes, reports, restores and time passing,
// with a small capacity so entries move on and off the list.
#include "server/app/live_state.h"

#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "server/adapters/file_session_store.h"
#include "server/adapters/local_change_feed.h"
#include "server/app/edge_sync_hub.h"
#include "tests/fakes/in_memory_state.h"
#include "tests/fakes/test_clock.h"
#include "tests/support/temp_dir.h"

namespace edgepass::server {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1767225600);

std::shared_ptr<const core::Keyring> TestKeyring() {
  absl::StatusOr<core::Keyring> k = core::Keyring::Create(
      {{.id = "20260101_0123456789abcdef0123", .value = std::string(128, 'a'), .state = core::KeyState::kPrimary}});
  return std::make_shared<const core::Keyring>(*std::move(k));
}

using Held = std::map<std::string, absl::Time>;

// A validator's view, built from the stream's messages only.
struct Follower {
  std::shared_ptr<EdgeSubscription> sub;
  Held held;
  int snapshots = 0;
  void PullAll() {
    while (std::optional<EdgeMessage> m = sub->Pull()) {
      if (m->snapshot) {
        if (m->snapshot_revoked_count.has_value()) held.clear(), ++snapshots;
      } else {
        for (const std::string& id : m->revoked_remove) held.erase(id);
      }
      for (const EdgeRevoked& e : m->revoked_add) held[e.session_id] = e.expires_at;
    }
  }
};

TEST(LiveStateIncremental, MatchesAFullCompileAndDeltasKeepValidatorsExact) {
  ::edgepass::testing::TempDir dir;
  testing::TestClock clock(kStart);
  LocalChangeFeed feed;
  FileSessionStore store(dir.path() + "/revocations.json", &feed);
  testing::InMemoryCatalogStore catalogs;
  testing::FixedKeyringSource keys(TestKeyring());
  const core::RevocationListOptions list_options{.retention = absl::Hours(2), .capacity = 25};
  LiveState live(&catalogs, &store, &keys, &feed, clock.AsFunction(),
                 {.revocations = list_options, .refresh_interval = absl::Hours(100),
                  .keyring_poll_interval = absl::Milliseconds(5)});
  ASSERT_TRUE(live.Start().ok());
  EdgeSyncHub hub(&live, clock.AsFunction());
  hub.Start();
  Follower fast{*hub.Subscribe({.validator_id = "fast"}, [] {})};
  Follower slow{*hub.Subscribe({.validator_id = "slow"}, [] {})};

  std::mt19937 random(7);
  auto pick = [&](int n) { return static_cast<int>(random() % static_cast<unsigned>(n)); };
  auto expected = [&] {
    Held out;
    absl::StatusOr<SessionList> list = store.List();
    EXPECT_TRUE(list.ok()) << list.status();
    for (const core::RevocationEntry* e : core::CompileRevocationList(list->entries, clock.Now(), list_options)) {
      out[e->session_id] = e->expires_at;
    }
    return out;
  };
  auto compiled = [&] {
    Held out;
    for (const EdgeRevoked& e : live.edge()->revoked.Sorted()) out[e.session_id] = e.expires_at;
    return out;
  };

  for (int step = 0; step < 400; ++step) {
    const absl::Time now = absl::FromUnixSeconds(absl::ToUnixSeconds(clock.Now()));
    const std::string id = absl::StrCat("sess", pick(60));
    switch (pick(5)) {
      case 0:
      case 1: {
        core::RevocationEntry e{.session_id = id, .reason = "test", .added_at = now,
                                .expires_at = now + absl::Minutes(10 + pick(170))};
        ASSERT_TRUE(store.Put(e).ok());
        break;
      }
      case 2: {
        std::vector<core::RevocationEntry> batch;
        for (int i = 0, n = 1 + pick(4); i < n; ++i) {
          batch.push_back({.session_id = absl::StrCat("sess", pick(60)), .type = core::RevocationType::kAuto,
                           .score = 2.5 + pick(8) * 0.5, .added_at = now,
                           .expires_at = now + absl::Minutes(10 + pick(170))});
        }
        ASSERT_TRUE(store.Report(batch).ok());
        break;
      }
      case 3:
        (void)store.Remove(id);
        break;
      case 4:
        clock.Advance(absl::Seconds(pick(900)));
        break;
    }
    const Held want = expected();
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (compiled() != want && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(2));
    ASSERT_EQ(compiled(), want) << "step " << step;
    EXPECT_EQ(live.edge()->revoked.size(), want.size());
    fast.PullAll();
    EXPECT_EQ(fast.held, want) << "step " << step;
    if (step % 7 == 6) {  // behind by several changes: one delta brings it up
      slow.PullAll();
      EXPECT_EQ(slow.held, want) << "step " << step;
    }
  }
  EXPECT_EQ(fast.snapshots, 1);  // every later change came as a delta
  EXPECT_EQ(slow.snapshots, 1);
  hub.Unsubscribe(fast.sub);
  hub.Unsubscribe(slow.sub);
  hub.Stop();
}

// A replica's start streams the store's base file and log (puts, replaced
// entries, removals) into the compiled list without reading the whole list
// into memory first; it must come out as a full compile of what is stored.
TEST(LiveStateIncremental, StartStreamsBaseAndLogIntoTheSameList) {
  ::edgepass::testing::TempDir dir;
  const std::string path = dir.path() + "/revocations.json";
  const core::RevocationListOptions list_options{.retention = absl::Hours(2), .capacity = 30};
  const absl::Time now = kStart + absl::Hours(1);
  {
    // Compacted often, so both the base and the log hold changes.
    FileSessionStore store(path, nullptr, {.compact_after_bytes = 2000});
    std::mt19937 random(11);
    auto pick = [&](int n) { return static_cast<int>(random() % static_cast<unsigned>(n)); };
    for (int i = 0; i < 300; ++i) {
      const std::string id = absl::StrCat("sess", pick(80));
      const absl::Time added = kStart - absl::Minutes(pick(120)) + absl::Minutes(60);
      if (pick(4) == 0) {
        (void)store.Remove(id);
      } else if (pick(3) == 0) {
        ASSERT_TRUE(store.Report({{.session_id = id, .type = core::RevocationType::kAuto, .score = 2.5 + pick(8) * 0.5,
                                   .added_at = added, .expires_at = added + absl::Minutes(1 + pick(170))}})
                        .ok());
      } else {
        ASSERT_TRUE(store.Put({.session_id = id, .reason = "test", .added_at = added,
                               .expires_at = added + absl::Minutes(1 + pick(170))})
                        .ok());
      }
    }
  }
  ASSERT_GT(std::filesystem::file_size(path + ".log"), 0u);
  FileSessionStore store(path);
  Held want;
  absl::StatusOr<SessionList> list = FileSessionStore(path).List();
  ASSERT_TRUE(list.ok()) << list.status();
  for (const core::RevocationEntry* e : core::CompileRevocationList(list->entries, now, list_options)) {
    want[e->session_id] = e->expires_at;
  }
  ASSERT_EQ(want.size(), 30u);  // over capacity: the ranking decides
  LocalChangeFeed feed;
  testing::InMemoryCatalogStore catalogs;
  testing::FixedKeyringSource keys(TestKeyring());
  LiveState live(&catalogs, &store, &keys, &feed, [&] { return now; },
                 {.revocations = list_options, .refresh_interval = absl::Hours(100)});
  ASSERT_TRUE(live.Start().ok());
  Held got;
  for (const EdgeRevoked& e : live.edge()->revoked.Sorted()) got[e.session_id] = e.expires_at;
  EXPECT_EQ(got, want);
  EXPECT_EQ(live.edge()->version, list->version);
}

// A keyring written on any replica is announced on the feed; the edge
// snapshot follows at once, not at the next poll (here an hour away), so a
// revoked key leaves every validator at once.
TEST(LiveStateKeyring, AKeyringNotificationIsPickedUpWithoutWaitingForThePoll) {
  ::edgepass::testing::TempDir dir;
  LocalChangeFeed feed;
  FileSessionStore store(dir.path() + "/revocations.json", &feed);
  testing::InMemoryCatalogStore catalogs;
  testing::FixedKeyringSource keys(TestKeyring());
  LiveState live(&catalogs, &store, &keys, &feed, [] { return kStart; },
                 {.refresh_interval = absl::Hours(100), .keyring_poll_interval = absl::Hours(1)});
  ASSERT_TRUE(live.Start().ok());
  const std::shared_ptr<const EdgeSnapshot> before = live.edge();
  absl::StatusOr<core::Keyring> next = core::Keyring::Create(
      {{.id = "20260102_fedcba9876543210fedc", .value = std::string(128, 'b'), .state = core::KeyState::kPrimary}});
  ASSERT_TRUE(next.ok()) << next.status();
  ASSERT_TRUE(keys.Share(*next).ok());
  feed.Publish(ChangeKind::kKeyring);
  const std::shared_ptr<const EdgeSnapshot> after = live.WaitForEdgeChange(*before, absl::Seconds(10));
  EXPECT_EQ(after->keyring_fingerprint, KeyringFingerprint(*next));
  EXPECT_EQ(after->version, before->version);
}

TEST(EdgeRevokedSet, ChangesShareUntouchedBucketsAndDiffFindsTheRest) {
  std::vector<EdgeRevoked> all;
  for (int i = 0; i < 5000; ++i) all.push_back({absl::StrCat("id", i), absl::InfiniteFuture()});
  const EdgeRevokedSet a = EdgeRevokedSet::Of(all);
  EXPECT_EQ(a.size(), 5000u);
  const std::vector<EdgeRevoked> add = {{"new1", kStart}, {"id7", kStart}};
  const std::vector<std::string> remove = {"id9", "absent"};
  const EdgeRevokedSet b = a.With(add, remove);
  EXPECT_EQ(b.size(), 5000u);  // +new1 -id9, id7 replaced
  ASSERT_TRUE(b.Find("new1").has_value());
  EXPECT_EQ(b.Find("id7")->expires_at, kStart);
  EXPECT_FALSE(b.Find("id9").has_value());
  EXPECT_TRUE(a.Find("id9").has_value());  // a is unchanged
  std::vector<EdgeRevoked> adds;
  std::vector<std::string> removes;
  EdgeRevokedSet::Diff(a, b, &adds, &removes);
  std::sort(adds.begin(), adds.end(), [](const auto& x, const auto& y) { return x.session_id < y.session_id; });
  EXPECT_EQ(adds, (std::vector<EdgeRevoked>{{"id7", kStart}, {"new1", kStart}}));
  EXPECT_EQ(removes, std::vector<std::string>{"id9"});
  // Read in parts, every entry once.
  EdgeRevokedSet::Cursor cursor;
  std::vector<EdgeRevoked> parts;
  while (b.Take(&cursor, 333, &parts)) {
  }
  EXPECT_EQ(parts.size(), 5000u);
  EXPECT_EQ(b.Sorted().size(), 5000u);
}

}  // namespace
}  // namespace edgepass::server
