#include "server/adapters/file_session_store.h"

#include <sys/stat.h>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <iostream>
#include <set>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "files/atomic_file.h"
#include "gtest/gtest.h"
#include "server/adapters/local_change_feed.h"
#include "tests/support/temp_dir.h"

namespace edgepass::server {
namespace {

core::RevocationEntry Entry(const std::string& id, int64_t added, int64_t expires) {
  core::RevocationEntry e;
  e.session_id = id;
  e.type = core::RevocationType::kManual;
  e.reason = "test";
  e.added_at = absl::FromUnixSeconds(added);
  e.expires_at = absl::FromUnixSeconds(expires);
  return e;
}

const core::RevocationEntry* FindEntry(const SessionList& list, const std::string& id) {
  for (const auto& e : list.entries) {
    if (e.session_id == id) return &e;
  }
  return nullptr;
}

class FileSessionStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = temp_.path();
    path_ = dir_ + "/revocations.json";
  }
  ::edgepass::testing::TempDir temp_;
  std::string dir_;
  std::string path_;
};

TEST_F(FileSessionStoreTest, AbsentFileIsEmptyAtVersionZero) {
  FileSessionStore store(path_);
  absl::StatusOr<SessionList> list = store.List();
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_TRUE(list->entries.empty());
  EXPECT_EQ(list->version, 0u);
}

TEST_F(FileSessionStoreTest, PutRemoveListRoundTripAndPersistVersion) {
  {
    FileSessionStore store(path_);
    EXPECT_EQ(*store.Put(Entry("sessA1", 1000, 5000)), 1u);
    EXPECT_EQ(*store.Put(Entry("sessB2", 1001, 6000)), 2u);
    core::RevocationEntry replaced = Entry("sessA1", 1000, 9000);
    replaced.type = core::RevocationType::kAuto;
    replaced.score = 3.5;
    replaced.score_components = {{"rate_ratio", 2.5}, {"ip_penalty", 1}};
    EXPECT_EQ(*store.Put(replaced), 3u);
    EXPECT_EQ(*store.Remove("sessB2"), 4u);
    EXPECT_EQ(store.Remove("sessB2").status().code(), absl::StatusCode::kNotFound);
  }
  struct stat st;
  ASSERT_EQ(stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  FileSessionStore reopened(path_);  // a restart
  absl::StatusOr<SessionList> list = reopened.List();
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_EQ(list->version, 4u);
  ASSERT_EQ(list->entries.size(), 1u);
  const core::RevocationEntry& e = list->entries[0];
  EXPECT_EQ(e.session_id, "sessA1");
  EXPECT_EQ(e.type, core::RevocationType::kAuto);
  EXPECT_EQ(e.score, 3.5);
  EXPECT_EQ(e.score_components.at("rate_ratio"), 2.5);
  EXPECT_EQ(e.expires_at, absl::FromUnixSeconds(9000));
  EXPECT_EQ(*reopened.Put(Entry("sessC3", 1002, 7000)), 5u);
}

TEST_F(FileSessionStoreTest, ReadsTheOldListFormatsAsManualEntries) {
  const int64_t future = absl::ToUnixSeconds(absl::Now() + absl::Hours(24 * 365));
  ASSERT_TRUE(
      files::WriteFileAtomically(
          path_,
          absl::StrCat(
              R"(["oldOne123", {"session_id": "oldTwo456", "expires_at": )",
              future, R"(}, {"session_id": "gone789", "expires_at": 1}])"))
          .ok());
  FileSessionStore store(path_);
  absl::StatusOr<SessionList> list = store.List();
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_EQ(list->version, 1u);
  ASSERT_EQ(list->entries.size(), 2u);  // the long-expired one is dropped
  const core::RevocationEntry* one = FindEntry(*list, "oldOne123");
  const core::RevocationEntry* two = FindEntry(*list, "oldTwo456");
  ASSERT_NE(one, nullptr);
  ASSERT_NE(two, nullptr);
  EXPECT_EQ(one->type, core::RevocationType::kManual);
  EXPECT_EQ(one->expires_at, absl::InfiniteFuture());
  EXPECT_EQ(two->expires_at, absl::FromUnixSeconds(future));

  // The next change rewrites the file in the new format, keeping the entries.
  EXPECT_EQ(*store.Put(Entry("newOne999", 1000, future)), 2u);
  std::string text = *files::ReadFileToString(path_);
  EXPECT_NE(text.find("\"entries\""), std::string::npos);
  EXPECT_EQ(FileSessionStore(path_).List()->entries.size(), 3u);
}

TEST_F(FileSessionStoreTest, ReadsTheOldSessionsObjectFormat) {
  ASSERT_TRUE(
      files::WriteFileAtomically(path_, R"({"sessions": ["abcDEF123"]})").ok());
  absl::StatusOr<SessionList> list = FileSessionStore(path_).List();
  ASSERT_TRUE(list.ok()) << list.status();
  ASSERT_EQ(list->entries.size(), 1u);
  EXPECT_EQ(list->entries[0].session_id, "abcDEF123");
}

TEST_F(FileSessionStoreTest, ReadsAFileLargerThanOtherDataFiles) {
  // A million revocations take about 150 MB: more than
  // files::kMaxDataFileBytes. Long reasons make the file large with few
  // entries.
  SessionList big;
  big.version = 7;
  for (int i = 0; i < 17000; ++i) {
    core::RevocationEntry e = Entry(absl::StrCat("big", i), 1000, 9000);
    e.reason = std::string(1000, 'r');
    big.entries.push_back(std::move(e));
  }
  std::string text = "{\"version\":7,\"entries\":[";
  for (size_t i = 0; i < big.entries.size(); ++i) {
    absl::StrAppend(&text, i == 0 ? "\n" : ",\n", core::RevocationEntryToJson(big.entries[i]));
  }
  text += "\n]}\n";
  ASSERT_GT(text.size(), files::kMaxDataFileBytes);
  ASSERT_TRUE(files::WriteFileAtomically(path_, text).ok());
  absl::StatusOr<SessionList> list = FileSessionStore(path_).List();
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_EQ(list->version, 7u);
  EXPECT_EQ(list->entries.size(), 17000u);
}

TEST_F(FileSessionStoreTest, CorruptFileIsReportedAndLeftIntact) {
  for (const std::string& bad :
       {std::string("{\"entries\": [ {\"session_id\": "), std::string(R"({"entries": [{"session_id": "bad id!", "type": "MANUAL", "added_at": 1}]})"),
        std::string(R"({"something": 1})"), std::string(R"([{"session_id": 5}])")}) {
    ASSERT_TRUE(files::WriteFileAtomically(path_, bad).ok());
    FileSessionStore store(path_);
    absl::StatusOr<uint64_t> put = store.Put(Entry("sessA1", 1000, 5000));
    EXPECT_EQ(put.status().code(), absl::StatusCode::kFailedPrecondition) << bad;
    EXPECT_NE(put.status().message().find(path_), std::string::npos) << put.status();
    EXPECT_EQ(store.List().status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_EQ(store.Remove("sessA1").status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_EQ(*files::ReadFileToString(path_), bad);
  }
}

TEST_F(FileSessionStoreTest, CorruptEntryNamesTheEntryAndField) {
  ASSERT_TRUE(
      files::WriteFileAtomically(
          path_,
          R"({"version": 3, "entries": [{"session_id": "bad id!", "type": "MANUAL", "added_at": 1}]})")
          .ok());
  absl::Status s = FileSessionStore(path_).List().status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("entries[0]"), std::string::npos) << s;
  EXPECT_NE(s.message().find("session_id"), std::string::npos) << s;
}

TEST_F(FileSessionStoreTest, PruneDropsExpiredEntries) {
  FileSessionStore store(path_);
  ASSERT_TRUE(store.Put(Entry("early1", 1000, 2000)).ok());
  ASSERT_TRUE(store.Put(Entry("late22", 1000, 9000)).ok());
  EXPECT_EQ(*store.Prune(absl::FromUnixSeconds(5000)), 1u);
  EXPECT_EQ(*store.Prune(absl::FromUnixSeconds(5000)), 0u);
  absl::StatusOr<SessionList> list = store.List();
  ASSERT_EQ(list->entries.size(), 1u);
  EXPECT_EQ(list->entries[0].session_id, "late22");
  EXPECT_EQ(list->version, 3u);
}

TEST_F(FileSessionStoreTest, ConcurrentPrunesDropAndLogEachEntryOnce) {
  FileSessionStore store(path_);
  for (int i = 0; i < 300; ++i) {
    ASSERT_TRUE(store.Put(Entry(absl::StrCat("sess", i), 1000, i % 3 == 0 ? 2000 : 9000)).ok());
  }
  const uint64_t before = store.List()->version;
  std::atomic<size_t> dropped{0};
  std::vector<std::thread> pruners;
  for (int t = 0; t < 4; ++t) {
    pruners.emplace_back([&] {
      for (int round = 0; round < 5; ++round) {
        absl::StatusOr<size_t> n = store.Prune(absl::FromUnixSeconds(5000));
        ASSERT_TRUE(n.ok()) << n.status();
        dropped += *n;
      }
    });
  }
  for (std::thread& t : pruners) t.join();
  EXPECT_EQ(dropped.load(), 100u);
  // One removal record per dropped entry, none for an entry already gone.
  absl::StatusOr<SessionChanges> changes = store.ChangesSince(before);
  ASSERT_TRUE(changes.ok()) << changes.status();
  std::set<std::string> removed;
  for (const SessionChange& c : changes->changes) {
    EXPECT_FALSE(c.entry.has_value()) << c.session_id;
    EXPECT_TRUE(removed.insert(c.session_id).second) << c.session_id << " removed twice";
  }
  EXPECT_EQ(removed.size(), 100u);
  EXPECT_EQ(changes->version, before + 1);  // one prune removed them all, the others found nothing
  absl::StatusOr<SessionList> reread = FileSessionStore(path_).List();
  ASSERT_TRUE(reread.ok()) << reread.status();
  EXPECT_EQ(reread->entries.size(), 200u);
  EXPECT_EQ(reread->version, before + 1);
}

TEST_F(FileSessionStoreTest, ListPageReadsPagesInIdOrderFromBaseAndLog) {
  FileSessionStore store(path_, nullptr, {.compact_after_bytes = 2048});  // compacts along the way
  for (int i = 59; i >= 0; --i) ASSERT_TRUE(store.Put(Entry(absl::StrCat("sess", 100 + i), 1000 + i, 9000)).ok());
  ASSERT_TRUE(store.Remove("sess120").ok());
  core::RevocationEntry replaced = Entry("sess130", 1000, 9500);
  replaced.reason = "replaced";
  ASSERT_TRUE(store.Put(replaced).ok());
  absl::StatusOr<SessionList> list = store.List();
  ASSERT_TRUE(list.ok()) << list.status();
  std::vector<core::RevocationEntry> expected = list->entries;
  std::sort(expected.begin(), expected.end(), [](const auto& a, const auto& b) { return a.session_id < b.session_id; });
  ASSERT_EQ(expected.size(), 59u);

  FileSessionStore reopened(path_);  // as after a restart: the index is built on the first call
  for (FileSessionStore* reader : {&store, &reopened}) {
    std::vector<core::RevocationEntry> got;
    std::string after;
    while (true) {
      absl::StatusOr<SessionPage> page = reader->ListPage(after, 7);
      ASSERT_TRUE(page.ok()) << page.status();
      EXPECT_EQ(page->version, list->version);
      EXPECT_LE(page->entries.size(), 7u);
      got.insert(got.end(), page->entries.begin(), page->entries.end());
      if (!page->more) break;
      after = page->entries.back().session_id;
    }
    ASSERT_EQ(got.size(), expected.size());
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i].session_id, expected[i].session_id);
      EXPECT_EQ(got[i].reason, expected[i].reason);
      EXPECT_EQ(got[i].expires_at, expected[i].expires_at);
    }
  }
}

TEST_F(FileSessionStoreTest, ChangesAreAnnouncedOnTheFeed) {
  LocalChangeFeed feed;
  absl::Notification told;
  feed.Subscribe([&](ChangeKind kind) {
    if (kind == ChangeKind::kSessions && !told.HasBeenNotified()) told.Notify();
  });
  FileSessionStore store(path_, &feed);
  ASSERT_TRUE(store.Put(Entry("sessA1", 1000, 5000)).ok());
  EXPECT_TRUE(told.WaitForNotificationWithTimeout(absl::Seconds(10)));
}

core::RevocationEntry Auto(const std::string& id, double score, int64_t added = 1000, int64_t expires = 9000) {
  core::RevocationEntry e = Entry(id, added, expires);
  e.type = core::RevocationType::kAuto;
  e.score = score;
  e.score_components = {{"rate", score - 1}, {"multiple_ips", 1}};
  return e;
}

TEST_F(FileSessionStoreTest, ReportNeverReplacesManualNorDuplicatesAuto) {
  FileSessionStore store(path_);
  ASSERT_EQ(*store.Put(Entry("manual1", 1000, 9000)), 1u);
  std::vector<core::RevocationEntry> batch = {Auto("manual1", 5), Auto("auto001", 4), Auto("auto002", 3),
                                              Auto("auto001", 9)};
  absl::StatusOr<ReportResult> r = store.Report(batch);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->version, 2u);  // one bump for the batch
  EXPECT_EQ(r->outcomes, (std::vector<ReportOutcome>{ReportOutcome::kAlreadyManual, ReportOutcome::kStored,
                                                     ReportOutcome::kStored, ReportOutcome::kAlreadyAuto}));
  EXPECT_EQ(r->entries[0].type, core::RevocationType::kManual);
  EXPECT_EQ(r->entries[3].score, 4);  // the first report of it is what is stored

  r = store.Report(batch);  // again: nothing changes, no version bump
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->version, 2u);
  EXPECT_EQ(r->outcomes[1], ReportOutcome::kAlreadyAuto);

  FileSessionStore reopened(path_);
  absl::StatusOr<SessionList> list = reopened.List();
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_EQ(list->version, 2u);
  ASSERT_EQ(list->entries.size(), 3u);
  EXPECT_EQ(FindEntry(*list, "manual1")->type, core::RevocationType::kManual);
  EXPECT_EQ(FindEntry(*list, "auto001")->score, 4);

  std::vector<core::RevocationEntry> too_many(kMaxReportBatch + 1, Auto("x", 3));
  EXPECT_EQ(store.Report(too_many).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(FileSessionStoreTest, ConcurrentReportsAndRevokesKeepManualAndStoreEachOnce) {
  FileSessionStore store(path_);
  constexpr int kIds = 200;
  std::vector<std::thread> threads;
  std::atomic<int> stored{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kIds; ++i) {
        if (t == 0 && i % 2 == 0) {
          ASSERT_TRUE(store.Put(Entry(absl::StrCat("s", i), 1000, 9000)).ok());
        } else {
          std::vector<core::RevocationEntry> one = {Auto(absl::StrCat("s", i), 3 + t)};
          absl::StatusOr<ReportResult> r = store.Report(one);
          ASSERT_TRUE(r.ok()) << r.status();
          stored += r->outcomes[0] == ReportOutcome::kStored;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  absl::StatusOr<SessionList> list = FileSessionStore(path_).List();
  ASSERT_TRUE(list.ok()) << list.status();
  ASSERT_EQ(list->entries.size(), static_cast<size_t>(kIds));
  for (int i = 0; i < kIds; ++i) {
    const core::RevocationEntry* e = FindEntry(*list, absl::StrCat("s", i));
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->type, i % 2 == 0 ? core::RevocationType::kManual : core::RevocationType::kAuto) << i;
  }
  // Odd ids: reported by three threads, stored once. Even ids: stored by a
  // report at most once, unless the MANUAL revoke came first.
  EXPECT_GE(stored.load(), kIds / 2);
  EXPECT_LE(stored.load(), kIds);
}

TEST_F(FileSessionStoreTest, ChangesSinceReturnsWhatAReplicaHasNotSeen) {
  FileSessionStore store(path_, nullptr, {.recent_changes = 4});
  ASSERT_TRUE(store.Put(Entry("a1", 1000, 9000)).ok());  // 1
  std::vector<core::RevocationEntry> batch = {Auto("b1", 3), Auto("b2", 4)};
  ASSERT_TRUE(store.Report(batch).ok());  // 2
  ASSERT_TRUE(store.Remove("a1").ok());   // 3
  absl::StatusOr<SessionChanges> c = store.ChangesSince(1);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_FALSE(c->too_old);
  EXPECT_EQ(c->version, 3u);
  ASSERT_EQ(c->changes.size(), 3u);
  EXPECT_EQ(c->changes[0].session_id, "b1");
  EXPECT_EQ(c->changes[0].version, 2u);
  EXPECT_EQ(c->changes[1].entry->score, 4);
  EXPECT_EQ(c->changes[2].session_id, "a1");
  EXPECT_FALSE(c->changes[2].entry.has_value());
  EXPECT_TRUE(store.ChangesSince(3)->changes.empty());
  EXPECT_FALSE(store.ChangesSince(3)->too_old);
  EXPECT_TRUE(store.ChangesSince(7)->too_old);  // not a version of this store

  ASSERT_TRUE(store.Put(Entry("c1", 1000, 9000)).ok());  // 4: a1 (version 1) leaves the memory
  EXPECT_FALSE(store.ChangesSince(1)->too_old);
  ASSERT_TRUE(store.Put(Entry("d1", 1000, 9000)).ok());  // 5: b1 (version 2) leaves: 2 is incomplete
  EXPECT_TRUE(store.ChangesSince(1)->too_old);
  EXPECT_FALSE(store.ChangesSince(2)->too_old);
  EXPECT_EQ(store.ChangesSince(2)->changes.size(), 3u);
  // A restarted store knows no changes from before it opened.
  FileSessionStore reopened(path_);
  EXPECT_TRUE(reopened.ChangesSince(4)->too_old);
  EXPECT_FALSE(reopened.ChangesSince(5)->too_old);
}

TEST_F(FileSessionStoreTest, AppendsToALogAndCompactsIt) {
  FileSessionStore store(path_, nullptr, {.compact_after_bytes = 2000});
  ASSERT_TRUE(store.Put(Entry("first1", 1000, 9000)).ok());  // writes the base
  const std::string base = *files::ReadFileToString(path_);
  ASSERT_TRUE(store.Put(Entry("second", 1000, 9000)).ok());
  EXPECT_EQ(*files::ReadFileToString(path_), base);  // appended, not rewritten
  std::string log = *files::ReadFileToString(store.log_path());
  EXPECT_NE(log.find("\"second\""), std::string::npos);
  EXPECT_EQ(log.back(), '\n');

  for (int i = 0; i < 20; ++i) ASSERT_TRUE(store.Put(Entry(absl::StrCat("more", i), 1000, 9000)).ok());
  ASSERT_TRUE(store.Remove("first1").ok());
  EXPECT_LT(files::ReadFileToString(store.log_path())->size(), 2000u + 400u);  // compacted on the way
  EXPECT_NE(*files::ReadFileToString(path_), base);

  absl::StatusOr<SessionList> list = FileSessionStore(path_).List();
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_EQ(list->version, 23u);
  EXPECT_EQ(list->entries.size(), 21u);
  EXPECT_EQ(FindEntry(*list, "first1"), nullptr);
  EXPECT_NE(FindEntry(*list, "more19"), nullptr);
}

TEST_F(FileSessionStoreTest, TornLastRecordIsCutAndEarlierDamageIsReported) {
  {
    FileSessionStore store(path_);
    ASSERT_TRUE(store.Put(Entry("keep01", 1000, 9000)).ok());
    ASSERT_TRUE(store.Put(Entry("keep02", 1000, 9000)).ok());
  }
  const std::string log_path = path_ + ".log";
  const std::string good = *files::ReadFileToString(log_path);
  {
    std::ofstream out(log_path, std::ios::app);
    out << "0123456789abcdef {\"v\":3,\"put\":[{\"session_id\":\"torn";  // a crash mid-append
  }
  {
    FileSessionStore store(path_);
    absl::StatusOr<SessionList> list = store.List();
    ASSERT_TRUE(list.ok()) << list.status();
    EXPECT_EQ(list->version, 2u);
    EXPECT_EQ(*store.Put(Entry("after3", 1000, 9000)), 3u);  // the torn tail was cut first
  }
  absl::StatusOr<SessionList> list = FileSessionStore(path_).List();
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_EQ(list->version, 3u);
  EXPECT_EQ(list->entries.size(), 3u);

  // A damaged record that is not the last one is never skipped silently.
  std::string text = *files::ReadFileToString(log_path);
  text[good.size() - 5] ^= 1;
  ASSERT_TRUE(files::WriteFileAtomically(log_path, text, {.mode = 0600, .replace_existing = true}).ok());
  absl::Status s = FileSessionStore(path_).Put(Entry("nope01", 1000, 9000)).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find(log_path), std::string::npos) << s;
}

// The embedded store at a million entries: what it holds in memory (the
// index), measured by the store and by the process's resident size.
TEST_F(FileSessionStoreTest, AMillionEntriesTakeLittleMemory) {
  auto resident = [] {
    std::ifstream statm("/proc/self/statm");
    size_t pages = 0, rss = 0;
    statm >> pages >> rss;
    return rss * static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  };
  constexpr int kEntries = 1000000;
  const size_t before = resident();
  FileSessionStore store(path_);
  std::vector<core::RevocationEntry> batch;
  for (int i = 0; i < kEntries; ++i) {
    batch.push_back(Auto(absl::StrCat("sess", i, "x7Kq2"), 3 + (i % 100) / 10.0, 1000, 9000));
    batch.back().reason = "auto: score 3.100 (rate term 2.100, several IPs)";
    if (batch.size() == kMaxReportBatch) {
      ASSERT_TRUE(store.Report(batch).ok());
      batch.clear();
    }
  }
  EXPECT_EQ(store.size(), static_cast<size_t>(kEntries));
  const size_t held = store.memory_bytes();
  const size_t grown = resident() - before;
  std::cout << "file session store, " << kEntries << " entries: index " << held / (1 << 20)
            << " MiB, resident growth " << grown / (1 << 20) << " MiB" << std::endl;
  // 24-byte index slots (CompactId, packed expiry and type) and the newest
  // changes: about 61 MiB; std::string keys took about twice that.
  EXPECT_LT(held, size_t{80} << 20);
  // One revoke more costs one appended line, whatever the size.
  const absl::Time start = absl::Now();
  ASSERT_TRUE(store.Put(Entry("oneMore", 1000, 9000)).ok());
  std::cout << "one more revoke: " << absl::ToDoubleMilliseconds(absl::Now() - start) << " ms" << std::endl;
  absl::StatusOr<SessionChanges> c = store.ChangesSince(kEntries / kMaxReportBatch);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->changes.size(), 1u);
}

}  // namespace
}  // namespace edgepass::server
