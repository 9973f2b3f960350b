#include "client/channel/api_key.h"

#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/support/test_process.h"

namespace edgepass::client {
namespace {

using ::edgepass::testing::TempDir;
using ::edgepass::testing::WriteFileOrDie;

constexpr char kKey[] = "ep_k3yMaterialThatMustNeverBeLogged0123456789abc";

std::string WriteKey(const TempDir& dir, const std::string& name,
                     const std::string& text, mode_t mode) {
  const std::string path = dir.path() + "/" + name;
  WriteFileOrDie(path, text);
  EXPECT_EQ(::chmod(path.c_str(), mode), 0);
  return path;
}

TEST(ReadApiKeyFile, ReadsThePrivateFileWithoutTheNewline) {
  TempDir dir;
  for (mode_t mode : {0600, 0400}) {
    absl::StatusOr<std::string> key = ReadApiKeyFile(
        WriteKey(dir, "key", absl::StrCat("  ", kKey, "\n"), mode));
    ASSERT_TRUE(key.ok()) << key.status();
    EXPECT_EQ(*key, kKey);
  }
}

TEST(ReadApiKeyFile, RefusesAFileOthersMayReadAndSaysHowToFixIt) {
  TempDir dir;
  for (mode_t mode : {0644, 0640, 0604, 0620, 0602}) {
    const std::string path = WriteKey(dir, "key", kKey, mode);
    absl::Status s = ReadApiKeyFile(path).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied) << s;
    EXPECT_TRUE(absl::StrContains(
        s.message(), absl::StrCat("api key file '", path,
                                  "' is accessible by group or others")))
        << s;
    EXPECT_TRUE(absl::StrContains(s.message(), "chmod 600")) << s;
    EXPECT_FALSE(absl::StrContains(s.message(), kKey)) << s;
  }
}

TEST(ReadApiKeyFile, FollowsSymlinksAsSecretMountsUseThem) {
  TempDir dir;
  const std::string target = WriteKey(dir, "real", kKey, 0600);
  const std::string link = dir.path() + "/link";
  ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0);
  absl::StatusOr<std::string> key = ReadApiKeyFile(link);
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(*key, kKey);
  ASSERT_EQ(::chmod(target.c_str(), 0644), 0);
  EXPECT_EQ(ReadApiKeyFile(link).status().code(),
            absl::StatusCode::kPermissionDenied);
}

TEST(ReadApiKeyFile, BadFilesAreClearErrorsThatNeverQuoteTheContent) {
  TempDir dir;
  struct Case {
    std::string text;
    absl::string_view message;
  };
  for (const Case& c : {
           Case{"", "is empty"},
           Case{" \n\t\n", "is empty"},
           Case{std::string(600, 'k'), "holds a key longer than 512 bytes"},
           Case{std::string(5000, 'k'), "is larger than 2048 bytes"},
           Case{absl::StrCat(kKey, "\n", kKey, "\n"),
                "holds whitespace or a character that is not printable ASCII "
                "at byte 49"},
           Case{absl::StrCat("ep_", std::string(1, '\x01'), "secret"),
                "at byte 4"},
       }) {
    const std::string path = WriteKey(dir, "key", c.text, 0600);
    absl::Status s = ReadApiKeyFile(path).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
    EXPECT_TRUE(absl::StrContains(s.message(), c.message)) << s;
    EXPECT_FALSE(absl::StrContains(s.message(), "secret")) << s;
    EXPECT_FALSE(absl::StrContains(s.message(), kKey)) << s;
  }
  EXPECT_EQ(ReadApiKeyFile(dir.path() + "/absent").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(ReadApiKeyFile(dir.path()).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ReadApiKeyFile("").status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace edgepass::client
