#include "files/atomic_file.h"

#include <sys/stat.h>

#include <filesystem>
#include <string>

#include "gtest/gtest.h"
#include "tests/support/temp_dir.h"

namespace edgepass::files {
namespace {

class AtomicFileTest : public ::testing::Test {
 protected:
  ::edgepass::testing::TempDir temp_;
  std::string dir_ = temp_.path();
};

TEST_F(AtomicFileTest, WritesWithModeAndReadsBack) {
  std::string path = dir_ + "/f.json";
  ASSERT_TRUE(WriteFileAtomically(path, "one").ok());
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_TRUE(WriteFileAtomically(path, "two").ok());
  EXPECT_EQ(*ReadFileToString(path), "two");
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir_), {}), 1);  // no temp left
}

TEST_F(AtomicFileTest, NeverReplacesWhenAskedNotTo) {
  std::string path = dir_ + "/k.json";
  ASSERT_TRUE(WriteFileAtomically(path, "keep").ok());
  absl::Status s = WriteFileAtomically(path, "new", {.mode = 0600, .replace_existing = false});
  EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(*ReadFileToString(path), "keep");
}

TEST_F(AtomicFileTest, MissingFileIsNotFound) {
  EXPECT_EQ(ReadFileToString(dir_ + "/none").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(WriteFileAtomically(dir_ + "/no/such/dir/f", "x").code(), absl::StatusCode::kNotFound);
}

TEST_F(AtomicFileTest, AWriterInPiecesReplacesOnlyWhenCommitted) {
  std::string path = dir_ + "/sessions.json";
  ASSERT_TRUE(WriteFileAtomically(path, "old").ok());
  {
    absl::StatusOr<AtomicFileWriter> out = AtomicFileWriter::Create(path);
    ASSERT_TRUE(out.ok()) << out.status();
    ASSERT_TRUE(out->Append("abandoned").ok());
    EXPECT_EQ(*ReadFileToString(path), "old");  // nothing in place before Commit
  }
  EXPECT_EQ(*ReadFileToString(path), "old");
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir_), {}), 1);  // its temp file removed

  absl::StatusOr<AtomicFileWriter> out = AtomicFileWriter::Create(path);
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_TRUE(out->Append("one, ").ok());
  ASSERT_TRUE(out->Append("two").ok());
  ASSERT_TRUE(out->Commit().ok());
  EXPECT_EQ(*ReadFileToString(path), "one, two");
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir_), {}), 1);
  EXPECT_EQ(out->Append("late").code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(out->Commit().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(AtomicFileWriter::Create(dir_ + "/no/such/dir/f").status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace edgepass::files
