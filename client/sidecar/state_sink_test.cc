// StateSink publishing the nginx module's state file (--module-state).
#include "client/sidecar/state_sink.h"

#include <sys/stat.h>

#include <cstring>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "client/sidecar/sidecar_test_util.h"
#include "client/validator/module_state.h"
#include "files/atomic_file.h"
#include "gtest/gtest.h"

namespace edgepass::sidecar {
namespace {

using testing::kNow;
using testing::ScratchDir;
using testing::TestKeys;

ValidatorState State(const TestKeys& keys, uint64_t version, std::vector<std::string> revoked_ids) {
  ValidatorState state;
  state.version = version;
  state.keyring = keys.keyring;
  core::RevocationSet revoked;
  for (const std::string& id : revoked_ids) revoked.Add(id);
  state.revoked = std::make_shared<const core::RevocationSet>(std::move(revoked));
  return state;
}

TEST(StateSinkModuleState, EveryAppliedStateIsPublishedMode0600) {
  ScratchDir dir;
  TestKeys keys;
  client::EdgeValidator validator(core::Keyring{});
  StateSink sink(&validator, nullptr);
  const std::string path = dir.path() + "/module.state";
  sink.set_module_state_file(path);
  for (uint64_t version : {1u, 2u}) {
    ASSERT_TRUE(sink.ApplyState(State(keys, version, {"sessREVOKED" + std::to_string(version)})).ok());
    absl::StatusOr<std::string> bytes = files::ReadFileToString(path);
    ASSERT_TRUE(bytes.ok()) << bytes.status();
    std::vector<uint64_t> aligned(bytes->size() / 8 + 1);
    std::memcpy(aligned.data(), bytes->data(), bytes->size());
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
  ScratchDir dir;
  TestKeys keys;
  client::EdgeValidator validator(core::Keyring{});
  StateSink sink(&validator, nullptr);
  sink.set_module_state_file(dir.path() + "/missing/module.state");
  const absl::Status status = sink.ApplyState(State(keys, 5, {}));
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("module state: "), absl::string_view::npos) << status;
  EXPECT_EQ(sink.version(), 5u);
  EXPECT_TRUE(sink.ready());
}

}  // namespace
}  // namespace edgepass::sidecar
