// StateSink publishing the nginx module's state file (--module-state).
#include "client/sidecar/state_sink.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "client/sidecar/file_snapshot_store.h"
#include "client/sidecar/sidecar_test_util.h"
#include "client/validator/module_state.h"
#include "files/atomic_file.h"
#include "gtest/gtest.h"

namespace edgepass::sidecar {
namespace {

using testing::kNow;
using testing::TempDir;
using testing::TestKeys;

ValidatorState State(const TestKeys& keys, uint64_t version, std::vector<std::string> revoked_ids) {
  ValidatorState state;
  state.version = version;
  state.keyring = keys.keyring;
  core::RevocationSet revoked;
  for (const std::string& id : revoked_ids) revoked.Add(id);
  state.revoked = client::RevokedSessions::Share(std::move(revoked));
  return state;
}

// The file as 8-byte words (the parser reads it aligned, as mmap gives it).
absl::StatusOr<std::string> ReadAligned(const std::string& path, std::vector<uint64_t>* words) {
  absl::StatusOr<std::string> bytes = files::ReadFileToString(path);
  if (!bytes.ok()) return bytes;
  words->assign(bytes->size() / 8 + 1, 0);
  std::memcpy(words->data(), bytes->data(), bytes->size());
  return bytes;
}

TEST(StateSinkModuleState, EveryAppliedStateIsPublishedMode0600) {
  TempDir dir;
  TestKeys keys;
  client::EdgeValidator validator(core::Keyring{});
  StateSink sink(&validator, nullptr);
  const std::string path = dir.path() + "/module.state";
  sink.set_module_state_file(path);
  for (uint64_t version : {1u, 2u}) {
    ASSERT_TRUE(sink.ApplyState(State(keys, version, {"sessREVOKED" + std::to_string(version)})).ok());
    std::vector<uint64_t> aligned;
    absl::StatusOr<std::string> bytes = ReadAligned(path, &aligned);
    ASSERT_TRUE(bytes.ok()) << bytes.status();
    absl::StatusOr<client::ModuleState> state = client::ParseModuleState(
        absl::MakeConstSpan(reinterpret_cast<const char*>(aligned.data()), bytes->size()));
    ASSERT_TRUE(state.ok()) << state.status();
    EXPECT_EQ(state->version, version);
    EXPECT_TRUE(state->revoked.Contains("sessREVOKED" + std::to_string(version), kNow));
    EXPECT_EQ(state->revoked.size(), 1u);
  }
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST(StateSinkModuleState, AFailedPublishIsReturnedAndTheStateAppliedAnyway) {
  TempDir dir;
  TestKeys keys;
  client::EdgeValidator validator(core::Keyring{});
  StateSink sink(&validator, nullptr);
  sink.set_module_state_file(dir.path() + "/missing/module.state");
  const absl::Status status = sink.ApplyState(State(keys, 5, {}));
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("module state: "), absl::string_view::npos) << status;
  EXPECT_EQ(sink.version(), 5u);
  // Not ready while nginx has no file to check against. A retry writes the
  // pending state once it can; then it is ready, and stays so when a later
  // write fails (nginx keeps the last file).
  EXPECT_FALSE(sink.ready());
  EXPECT_FALSE(sink.RetryModuleState().ok());
  EXPECT_FALSE(sink.ready());
  ASSERT_TRUE(std::filesystem::create_directory(dir.path() + "/missing"));
  uint64_t written_version = 0;
  EXPECT_EQ(sink.RetryModuleState(&written_version).value_or(false), true);
  EXPECT_EQ(written_version, 5u);
  EXPECT_TRUE(sink.ready());
  EXPECT_EQ(sink.RetryModuleState().value_or(true), false);  // nothing pending
  std::vector<uint64_t> aligned;
  absl::StatusOr<std::string> bytes = ReadAligned(dir.path() + "/missing/module.state", &aligned);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  absl::StatusOr<client::ModuleState> written = client::ParseModuleState(
      absl::MakeConstSpan(reinterpret_cast<const char*>(aligned.data()), bytes->size()));
  ASSERT_TRUE(written.ok()) << written.status();
  EXPECT_EQ(written->version, 5u);

  std::filesystem::remove_all(dir.path() + "/missing");
  EXPECT_FALSE(sink.ApplyState(State(keys, 7, {})).ok());
  EXPECT_TRUE(sink.ready());
}

TEST(StateSinkModuleState, AFailedPublishAndAFailedSaveAreBothNamed) {
  TempDir dir;
  TestKeys keys;
  client::EdgeValidator validator(core::Keyring{});
  FileSnapshotStore store(dir.path() + "/gone/validator.snapshot");
  StateSink sink(&validator, &store);
  sink.set_module_state_file(dir.path() + "/missing/module.state");
  StateSink::Timing timing;
  const absl::Status status = sink.ApplyState(State(keys, 5, {}), &timing);
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("module state: "), absl::string_view::npos) << status;
  EXPECT_NE(status.message().find("validator.snapshot"), absl::string_view::npos) << status;
  // Each on its own, for a log line of its own.
  EXPECT_NE(timing.module_state.message().find("module state: "), absl::string_view::npos) << timing.module_state;
  EXPECT_EQ(timing.module_state.message().find("validator.snapshot"), absl::string_view::npos) << timing.module_state;
  EXPECT_NE(timing.snapshot.message().find("validator.snapshot"), absl::string_view::npos) << timing.snapshot;
  EXPECT_EQ(timing.snapshot.message().find("module state: "), absl::string_view::npos) << timing.snapshot;
  EXPECT_TRUE(sink.module_state_pending());
  EXPECT_EQ(sink.version(), 5u);
}

TEST(StateSinkModuleState, ADeltaRewritesOnlyTheOverlayAndAFoldTheBase) {
  TempDir dir;
  TestKeys keys;
  client::EdgeValidator validator(core::Keyring{});
  StateSink sink(&validator, nullptr);
  const std::string path = dir.path() + "/module.state";
  const std::string overlay_path = client::ModuleOverlayPath(path);
  sink.set_module_state_file(path);
  ValidatorState state = State(keys, 1, {"sessBASE1", "sessBASE2"});
  state.keyring_fingerprint = "fp";
  ASSERT_TRUE(sink.ApplyState(state).ok());
  struct stat base_before {};
  ASSERT_EQ(::stat(path.c_str(), &base_before), 0);
  EXPECT_NE(::access(overlay_path.c_str(), F_OK), 0);

  // A delta: the base file stays as it is, the overlay says what changed.
  ValidatorState delta = state;
  delta.version = 2;
  delta.changes = {{.session_id = "sessNEW1"}, {.session_id = "sessBASE1", .remove = true}};
  delta.delta_from = 1;
  delta.revoked = state.revoked->Apply(delta.changes);
  ASSERT_TRUE(sink.ApplyState(delta).ok());
  struct stat base_after {};
  ASSERT_EQ(::stat(path.c_str(), &base_after), 0);
  EXPECT_EQ(base_after.st_ino, base_before.st_ino);
  std::vector<uint64_t> base_words, overlay_words;
  absl::StatusOr<std::string> base_bytes = ReadAligned(path, &base_words);
  absl::StatusOr<std::string> overlay_bytes = ReadAligned(overlay_path, &overlay_words);
  ASSERT_TRUE(base_bytes.ok() && overlay_bytes.ok());
  absl::StatusOr<client::ModuleState> base = client::ParseModuleState(
      {reinterpret_cast<const char*>(base_words.data()), base_bytes->size()});
  absl::StatusOr<client::ModuleOverlay> overlay = client::ParseModuleOverlay(
      {reinterpret_cast<const char*>(overlay_words.data()), overlay_bytes->size()});
  ASSERT_TRUE(base.ok()) << base.status();
  ASSERT_TRUE(overlay.ok()) << overlay.status();
  EXPECT_EQ(base->version, 1u);
  EXPECT_EQ(overlay->base_version, 1u);
  EXPECT_EQ(overlay->version, 2u);
  EXPECT_EQ(overlay->revoked_total, 2u);
  const core::RevocationView both = base->revoked.WithOverlay(overlay->entries);
  EXPECT_TRUE(both.Contains("sessNEW1", kNow));
  EXPECT_FALSE(both.Contains("sessBASE1", kNow));
  EXPECT_TRUE(both.Contains("sessBASE2", kNow));
  // The validator checks against the same.
  EXPECT_EQ(validator.version(), 2u);

  // A new base (here a snapshot) replaces the file and removes the overlay.
  ValidatorState next = State(keys, 3, {"sessNEW1", "sessBASE2", "sessNEW2"});
  next.keyring_fingerprint = "fp";
  ASSERT_TRUE(sink.ApplyState(next).ok());
  EXPECT_NE(::access(overlay_path.c_str(), F_OK), 0);
  base_bytes = ReadAligned(path, &base_words);
  ASSERT_TRUE(base_bytes.ok());
  base = client::ParseModuleState({reinterpret_cast<const char*>(base_words.data()), base_bytes->size()});
  ASSERT_TRUE(base.ok()) << base.status();
  EXPECT_EQ(base->version, 3u);
  EXPECT_EQ(base->revoked.size(), 3u);
}

TEST(StateSinkModuleState, AStateWithAnOverlayPublishedWholeFoldsIt) {
  // E.g. the first state after a restart, loaded from a snapshot with deltas.
  TempDir dir;
  TestKeys keys;
  client::EdgeValidator validator(core::Keyring{});
  StateSink sink(&validator, nullptr);
  const std::string path = dir.path() + "/module.state";
  sink.set_module_state_file(path);
  ValidatorState state = State(keys, 4, {"sessBASE1"});
  state.revoked = state.revoked->Apply({{.session_id = "sessBASE1", .remove = true},
                                        {.session_id = "sessNEW1"}});
  ASSERT_TRUE(sink.ApplyState(state).ok());
  std::vector<uint64_t> words;
  absl::StatusOr<std::string> bytes = ReadAligned(path, &words);
  ASSERT_TRUE(bytes.ok());
  absl::StatusOr<client::ModuleState> base =
      client::ParseModuleState({reinterpret_cast<const char*>(words.data()), bytes->size()});
  ASSERT_TRUE(base.ok()) << base.status();
  EXPECT_EQ(base->revoked.size(), 1u);
  EXPECT_TRUE(base->revoked.Contains("sessNEW1", kNow));
  EXPECT_FALSE(base->revoked.Contains("sessBASE1", kNow));
}

}  // namespace
}  // namespace edgepass::sidecar
