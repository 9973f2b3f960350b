#include "server/adapters/cached_keyring_source.h"

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "core/random.h"
#include "gtest/gtest.h"
#include "server/adapters/file_secret_store.h"
#include "server/adapters/local_change_feed.h"
#include "tests/fakes/counting_secret_store.h"
#include "tests/support/temp_dir.h"

namespace edgepass::server {
namespace {

using ::edgepass::testing::CountingSecretStore;

class CachedKeyringSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = temp_.path();
    file_ = std::make_unique<FileSecretStore>(dir_ + "/keyring.json");
    core::SecureRandom random;
    ASSERT_TRUE(file_->LoadOrCreate(absl::FromUnixSeconds(1767225600), random).ok());
    store_ = std::make_unique<CountingSecretStore>(*file_);
  }
  CachedKeyringSourceOptions Options() {
    return {.ttl = absl::Seconds(10),
            .retry_interval = absl::Seconds(1),
            .first_wait = absl::Seconds(30),
            .clock = [this] { return absl::FromUnixMicros(now_micros_.load()); }};
  }
  void Advance(absl::Duration d) { now_micros_ += absl::ToInt64Microseconds(d); }
  // A keyring the store does not hold, primary kNextKeyId.
  static constexpr char kNextKeyId[] = "20260102_fedcba9876543210fedc";
  static core::Keyring NextKeyring() {
    return *core::Keyring::Create(
        {{.id = kNextKeyId, .value = std::string(128, 'b'), .state = core::KeyState::kPrimary}});
  }

  ::edgepass::testing::TempDir temp_;
  std::string dir_;
  std::unique_ptr<FileSecretStore> file_;
  std::unique_ptr<CountingSecretStore> store_;
  std::atomic<int64_t> now_micros_{int64_t{1767225600} * 1000000};
};

TEST_F(CachedKeyringSourceTest, FirstLoadIsASingleFlight) {
  CachedKeyringSource source(*store_, nullptr, Options());
  store_->BlockReads();
  std::vector<std::thread> callers;
  std::vector<absl::StatusOr<std::shared_ptr<const core::Keyring>>> results(8);
  for (size_t i = 0; i < results.size(); ++i) {
    callers.emplace_back([&, i] { results[i] = source.Current(); });
  }
  ASSERT_TRUE(store_->WaitForBlockedReads(1, absl::Seconds(10)));
  store_->ReleaseReads();
  for (std::thread& t : callers) t.join();
  EXPECT_EQ(store_->read_count(), 1);
  for (const auto& r : results) {
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->get(), results[0]->get());
    EXPECT_NE((*r)->Primary(), nullptr);
  }
}

TEST_F(CachedKeyringSourceTest, FreshKeyringIsServedWithoutReads) {
  CachedKeyringSource source(*store_, nullptr, Options());
  ASSERT_TRUE(source.Current().ok());
  for (int i = 0; i < 100; ++i) {
    Advance(absl::Milliseconds(99));
    ASSERT_TRUE(source.Current().ok());
  }
  EXPECT_EQ(store_->read_count(), 1);  // 9.9 s < ttl
  Advance(absl::Milliseconds(200));
  ASSERT_TRUE(source.Current().ok());
  EXPECT_EQ(store_->read_count(), 2);
}

TEST_F(CachedKeyringSourceTest, StaleKeyringIsServedWhileOneCallerRefreshes) {
  CachedKeyringSource source(*store_, nullptr, Options());
  absl::StatusOr<std::shared_ptr<const core::Keyring>> first = source.Current();
  ASSERT_TRUE(first.ok());
  Advance(absl::Seconds(11));
  store_->BlockReads();
  std::thread refresher([&] { ASSERT_TRUE(source.Current().ok()); });
  ASSERT_TRUE(store_->WaitForBlockedReads(1, absl::Seconds(10)));
  for (int i = 0; i < 50; ++i) {
    absl::StatusOr<std::shared_ptr<const core::Keyring>> k = source.Current();
    ASSERT_TRUE(k.ok());
    EXPECT_EQ(k->get(), first->get());  // not blocked behind the refresh
  }
  EXPECT_EQ(store_->read_count(), 2);
  store_->ReleaseReads();
  refresher.join();
  EXPECT_EQ(store_->read_count(), 2);
}

TEST_F(CachedKeyringSourceTest, FailedReadKeepsTheKeyringAndRetriesAfterTheInterval) {
  CachedKeyringSource source(*store_, nullptr, Options());
  ASSERT_TRUE(source.Current().ok());
  store_->SetUnavailable(true);
  Advance(absl::Seconds(11));
  ASSERT_TRUE(source.Current().ok());
  ASSERT_TRUE(source.Current().ok());
  EXPECT_EQ(store_->read_count(), 2);  // one failed read, then the retry interval
  Advance(absl::Seconds(1));
  ASSERT_TRUE(source.Current().ok());
  EXPECT_EQ(store_->read_count(), 3);
  store_->SetUnavailable(false);
  Advance(absl::Seconds(1));
  ASSERT_TRUE(source.Current().ok());
  ASSERT_TRUE(source.Current().ok());
  EXPECT_EQ(store_->read_count(), 4);
}

TEST_F(CachedKeyringSourceTest, NothingCachedReturnsTheStoreError) {
  store_->SetUnavailable(true);
  CachedKeyringSource source(*store_, nullptr, Options());
  EXPECT_EQ(source.Current().status().code(), absl::StatusCode::kUnavailable);
}

TEST_F(CachedKeyringSourceTest, InvalidateRereadsTheStore) {
  CachedKeyringSource source(*store_, nullptr, Options());
  ASSERT_TRUE(source.Current().ok());
  source.Invalidate();
  ASSERT_TRUE(source.Current().ok());
  ASSERT_TRUE(source.Current().ok());
  EXPECT_EQ(store_->read_count(), 2);
}

// Share() serves the keyring at once and announces it, so that the edge
// snapshot of this replica (LiveState, listening on the same feed) follows
// without waiting for its poll; the store is not read again for it.
TEST_F(CachedKeyringSourceTest, ShareServesTheKeyringAndAnnouncesIt) {
  absl::Mutex mu;
  int announced = 0;  // before the feed: its thread may call the listener until it is gone
  LocalChangeFeed feed;
  feed.Subscribe([&](ChangeKind kind) {
    absl::MutexLock lock(&mu);
    if (kind == ChangeKind::kKeyring) ++announced;
  });
  CachedKeyringSource source(*store_, &feed, Options());
  absl::StatusOr<std::shared_ptr<const core::Keyring>> first = source.Current();
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(source.Share(NextKeyring()).ok());
  EXPECT_EQ(source.Current().value()->Primary()->id, kNextKeyId);
  {
    absl::MutexLock lock(&mu);
    EXPECT_TRUE(mu.AwaitWithTimeout(absl::Condition(+[](int* n) { return *n > 0; }, &announced), absl::Seconds(10)));
  }
  // Its own announcement does not make it read the store again.
  EXPECT_EQ(source.Current().value()->Primary()->id, kNextKeyId);
  EXPECT_EQ(store_->read_count(), 1);
}

// A fetch that started before Share() does not replace the shared keyring
// with what it read (the file, never given the new keyring, stands for a
// read that came before the write).
TEST_F(CachedKeyringSourceTest, AFetchUnderWayWhenAKeyringIsSharedDoesNotReplaceIt) {
  CachedKeyringSource source(*store_, nullptr, Options());
  ASSERT_TRUE(source.Current().ok());
  Advance(absl::Seconds(11));  // stale: the next call fetches
  store_->BlockReads();
  std::thread fetcher([&] { (void)source.Current(); });
  ASSERT_TRUE(store_->WaitForBlockedReads(1, absl::Seconds(10)));
  ASSERT_TRUE(source.Share(NextKeyring()).ok());
  store_->ReleaseReads();
  fetcher.join();
  EXPECT_EQ(store_->read_count(), 2);
  EXPECT_EQ(source.Current().value()->Primary()->id, kNextKeyId);
}

}  // namespace
}  // namespace edgepass::server
