#include "server/adapters/file_catalog_store.h"

#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "files/atomic_file.h"
#include "gtest/gtest.h"
#include "server/app/catalog_editor.h"
#include "tests/fakes/test_catalog.h"
#include "tests/support/temp_dir.h"

namespace edgepass::server {
namespace {

using ::edgepass::testing::WithTestAsset;

class FileCatalogStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = temp_.path();
    path_ = dir_ + "/catalog.json";
  }
  ::edgepass::testing::TempDir temp_;
  std::string dir_;
  std::string path_;
};

TEST_F(FileCatalogStoreTest, AbsentFileIsAnEmptyCatalogAtVersionZero) {
  FileCatalogStore store(path_);
  absl::StatusOr<VersionedCatalog> c = store.Load();
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->version, 0u);
  EXPECT_TRUE(c->catalog->assets().empty());
}

// The start-up seeding (the service layer's SeedSampleCatalog) over this
// store: a fresh data dir gets the sample, a catalog emptied on purpose stays
// empty.
TEST_F(FileCatalogStoreTest, OnlyAStoreNeverWrittenGetsTheSample) {
  FileCatalogStore store(path_);
  ASSERT_TRUE(SeedSampleCatalog(store).ok());
  EXPECT_NE(store.Load()->catalog->Find("1"), nullptr);
  ASSERT_TRUE(store.Update([](const Catalog&) -> absl::StatusOr<Catalog> { return Catalog(); }).ok());
  FileCatalogStore restarted(path_);
  ASSERT_TRUE(SeedSampleCatalog(restarted).ok());
  EXPECT_TRUE(restarted.Load()->catalog->assets().empty());
  EXPECT_TRUE(FileCatalogStore(path_).LoadFile()->assets().empty());
}

TEST_F(FileCatalogStoreTest, UpdateWritesTheFileAndBumpsTheVersion) {
  FileCatalogStore store(path_);
  ASSERT_TRUE(SeedSampleCatalog(store).ok());
  EXPECT_EQ(store.Load()->version, 1u);
  absl::StatusOr<uint64_t> v = store.Update([](const Catalog& c) { return WithTestAsset(c, 7); });
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(*v, 2u);
  EXPECT_NE(store.Load()->catalog->Find("a7"), nullptr);
  absl::StatusOr<Catalog> on_disk = FileCatalogStore(path_).LoadFile();
  ASSERT_TRUE(on_disk.ok());
  EXPECT_NE(on_disk->Find("a7"), nullptr);
  EXPECT_NE(on_disk->Find("1"), nullptr);  // the sample is kept
}

TEST_F(FileCatalogStoreTest, MutationErrorStoresNothing) {
  FileCatalogStore store(path_);
  ASSERT_TRUE(SeedSampleCatalog(store).ok());
  const std::string before = *files::ReadFileToString(path_);
  absl::StatusOr<uint64_t> v = store.Update(
      [](const Catalog&) -> absl::StatusOr<Catalog> { return absl::InvalidArgumentError("asset: no"); });
  EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(*files::ReadFileToString(path_), before);
  EXPECT_EQ(store.Load()->version, 1u);
}

TEST_F(FileCatalogStoreTest, CorruptFileIsReportedAndLeftIntact) {
  ASSERT_TRUE(
      files::WriteFileAtomically(path_, R"({"assets":[{"id":"x"}]})").ok());
  FileCatalogStore store(path_);
  EXPECT_EQ(store.Load().status().code(), absl::StatusCode::kFailedPrecondition);
  absl::StatusOr<uint64_t> v = store.Update([](const Catalog& c) { return WithTestAsset(c, 1); });
  EXPECT_EQ(v.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(v.status().message().find(path_), std::string::npos) << v.status();
  EXPECT_EQ(*files::ReadFileToString(path_), R"({"assets":[{"id":"x"}]})");
}

TEST_F(FileCatalogStoreTest, ConcurrentUpdatesLoseNothing) {
  FileCatalogStore store(path_);
  std::vector<std::thread> writers;
  for (int w = 0; w < 2; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < 10; ++i) {
        ASSERT_TRUE(store.Update([&](const Catalog& c) { return WithTestAsset(c, w * 100 + i); }).ok());
      }
    });
  }
  for (std::thread& t : writers) t.join();
  absl::StatusOr<Catalog> on_disk = store.LoadFile();
  ASSERT_TRUE(on_disk.ok()) << on_disk.status();
  EXPECT_EQ(on_disk->assets().size(), 20u);
  EXPECT_EQ(store.Load()->version, 20u);
}

}  // namespace
}  // namespace edgepass::server
