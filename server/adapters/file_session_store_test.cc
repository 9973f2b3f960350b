#include "server/adapters/file_session_store.h"

#include <sys/stat.h>

#include <string>

#include "absl/synchronization/notification.h"
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

}  // namespace
}  // namespace edgepass::server
