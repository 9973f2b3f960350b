#include "client/sidecar/initial_state.h"

#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "client/sidecar/file_snapshot_store.h"
#include "client/sidecar/sidecar_test_util.h"
#include "gtest/gtest.h"

namespace edgepass::sidecar {
namespace {

using testing::TempDir;
using testing::TestKeys;

void Write(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

struct Fixture {
  TempDir dir;
  TestKeys keys;
  std::vector<std::string> logged;
  LogSink log = [this](absl::string_view line) { logged.emplace_back(line); };
  std::string keyring_path = dir.path() + "/keyring.json";
  std::string snapshot_path = dir.path() + "/snapshot.json";
  Fixture() { Write(keyring_path, core::KeyringToJson(keys.keyring)); }
};

TEST(LoadInitialState, StaticFilesWin) {
  Fixture f;
  Write(f.dir.path() + "/revoked.json",
        R"(["sessAAAA1",{"session_id":"sessBBBB2","expires_at":1}])");
  Write(f.snapshot_path, "damaged");
  SidecarOptions options{.keyring_file = f.keyring_path,
                         .revoked_file = f.dir.path() + "/revoked.json",
                         .snapshot_file = f.snapshot_path};
  FileSnapshotStore store(f.snapshot_path);
  absl::StatusOr<std::optional<ValidatorState>> s =
      LoadInitialState(options, &store, f.log);
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_TRUE(s->has_value());
  EXPECT_EQ((*s)->version, 0u);
  EXPECT_NE((*s)->keyring.Find(f.keys.key.id), nullptr);
  EXPECT_EQ((*s)->revoked->size(), 2u);
}

TEST(LoadInitialState, StaticFileErrorsNameTheFlag) {
  Fixture f;
  Write(f.dir.path() + "/bad.json", R"({"keys":[{"id":"k","value":"short"}]})");
  SidecarOptions options{.keyring_file = f.dir.path() + "/bad.json"};
  absl::StatusOr<std::optional<ValidatorState>> s =
      LoadInitialState(options, nullptr, f.log);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(
      s.status().message(), "--keyring file '" + f.dir.path() + "/bad.json': "))
      << s.status();

  options.keyring_file = f.dir.path() + "/missing.json";
  s = LoadInitialState(options, nullptr, f.log);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(absl::StartsWith(s.status().message(), "--keyring: "))
      << s.status();

  Write(f.dir.path() + "/revoked.json", R"([42])");
  options = {.keyring_file = f.keyring_path,
             .revoked_file = f.dir.path() + "/revoked.json"};
  s = LoadInitialState(options, nullptr, f.log);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(s.status().message(), "--revoked file "))
      << s.status();
}

TEST(LoadInitialState, SnapshotAlone) {
  Fixture f;
  FileSnapshotStore store(f.snapshot_path);
  ValidatorState saved;
  saved.version = 9;
  saved.keyring = f.keys.keyring;
  ASSERT_TRUE(store.Save(saved).ok());
  SidecarOptions options{.snapshot_file = f.snapshot_path};
  absl::StatusOr<std::optional<ValidatorState>> s =
      LoadInitialState(options, &store, f.log);
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_TRUE(s->has_value());
  EXPECT_EQ((*s)->version, 9u);
}

TEST(LoadInitialState, MissingOrDamagedSnapshotNeedsAServer) {
  Fixture f;
  FileSnapshotStore store(f.snapshot_path);
  SidecarOptions options{.snapshot_file = f.snapshot_path};
  // Missing, no other source: refuse to start.
  absl::StatusOr<std::optional<ValidatorState>> s =
      LoadInitialState(options, &store, f.log);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kNotFound);
  // Missing, with a server: start empty.
  options.servers = {"127.0.0.1:50051"};
  s = LoadInitialState(options, &store, f.log);
  ASSERT_TRUE(s.ok());
  EXPECT_FALSE(s->has_value());

  Write(f.snapshot_path, "{\"format\":");
  s = LoadInitialState(options, &store, f.log);
  ASSERT_TRUE(s.ok());
  EXPECT_FALSE(s->has_value());
  ASSERT_EQ(f.logged.size(), 1u);
  EXPECT_NE(f.logged[0].find("snapshot_unusable"), std::string::npos);

  options.servers.clear();
  s = LoadInitialState(options, &store, f.log);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_TRUE(
      absl::StartsWith(s.status().message(), "--snapshot: " + f.snapshot_path))
      << s.status();
}

}  // namespace
}  // namespace edgepass::sidecar
