#include "client/sidecar/file_snapshot_store.h"

#include <sys/stat.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/sidecar/sidecar_test_util.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace edgepass::sidecar {
namespace {

using testing::TempDir;
using testing::TestKeys;

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

ValidatorState SampleState(TestKeys& keys) {
  ValidatorState state;
  state.version = 42;
  state.keyring_fingerprint = "fp-1";
  state.keyring = keys.keyring;
  core::RevocationSet revoked;
  revoked.Add("sessAAAA1", absl::FromUnixSeconds(1'900'000'000));
  revoked.Add("sessBBBB2");  // until removed
  state.revoked =
      client::RevokedSessions::Share(std::move(revoked));
  return state;
}

TEST(FileSnapshotStore, MissingFileIsNoSnapshot) {
  TempDir dir;
  FileSnapshotStore store(dir.path() + "/none.json");
  absl::StatusOr<std::optional<ValidatorState>> loaded = store.Load();
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_FALSE(loaded->has_value());
}

TEST(FileSnapshotStore, RoundTripsStateWithMode0600) {
  TempDir dir;
  TestKeys keys;
  FileSnapshotStore store(dir.path() + "/snap.json");
  ASSERT_TRUE(store.Save(SampleState(keys)).ok());
  struct stat st;
  ASSERT_EQ(::stat(store.path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);

  absl::StatusOr<std::optional<ValidatorState>> loaded = store.Load();
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ASSERT_TRUE(loaded->has_value());
  const ValidatorState& s = **loaded;
  EXPECT_EQ(s.version, 42u);
  EXPECT_EQ(s.keyring_fingerprint, "fp-1");
  ASSERT_NE(s.keyring.Find(keys.key.id), nullptr);
  EXPECT_EQ(s.keyring.Find(keys.key.id)->value, keys.key.value);
  EXPECT_EQ(s.revoked->size(), 2u);
  EXPECT_TRUE(
      s.revoked->Contains("sessAAAA1", absl::FromUnixSeconds(1'899'999'999)));
  EXPECT_FALSE(
      s.revoked->Contains("sessAAAA1", absl::FromUnixSeconds(1'900'000'000)));
  EXPECT_TRUE(s.revoked->Contains("sessBBBB2",
                                  absl::InfiniteFuture() - absl::Hours(1)));
}

TEST(FileSnapshotStore, DamagedFileIsDataLossAndLeftUntouched) {
  TempDir dir;
  TestKeys keys;
  const std::string path = dir.path() + "/snap.json";
  const std::string good = SnapshotToJson(SampleState(keys));
  for (const std::string& bad :
       {good.substr(0, good.size() / 2), std::string("garbage"),
        std::string("{}"), std::string("[1,2]"),
        absl::StrCat(good.substr(0, good.find("\"version\":")),
                     "\"version\":-1", good.substr(good.find(",\"keyring_"))),
        std::string("{\"format\":\"edgepass-validator-snapshot\","
                    "\"format_version\":1,\"version\":1,\"keyring\":"
                    "{\"keys\":[]},\"revoked\":[[1,2]]}")}) {
    {
      std::ofstream out(path, std::ios::binary | std::ios::trunc);
      out << bad;
    }
    FileSnapshotStore store(path);
    absl::StatusOr<std::optional<ValidatorState>> loaded = store.Load();
    ASSERT_FALSE(loaded.ok()) << bad;
    EXPECT_EQ(loaded.status().code(), absl::StatusCode::kDataLoss)
        << loaded.status();
    EXPECT_TRUE(
        absl::StartsWith(loaded.status().message(), path + ": snapshot: "))
        << loaded.status();
    EXPECT_EQ(Slurp(path), bad);
  }
}

TEST(SnapshotJson, AcceptsAReformattedFileAndOddIds) {
  TestKeys keys;
  ValidatorState state = SampleState(keys);
  core::RevocationSet revoked = state.revoked->Compacted();
  revoked.Add("odd\"id\\x\x01", absl::FromUnixSeconds(5));
  state.revoked =
      client::RevokedSessions::Share(std::move(revoked));
  const std::string compact = SnapshotToJson(state);
  absl::StatusOr<ValidatorState> fast = ParseSnapshotJson(compact);
  ASSERT_TRUE(fast.ok()) << fast.status();
  EXPECT_TRUE(
      fast->revoked->Contains("odd\"id\\x\x01", absl::FromUnixSeconds(4)));
  // Pretty-printed by another tool: the slower general parser reads it.
  const std::string pretty = nlohmann::json::parse(compact).dump(2);
  absl::StatusOr<ValidatorState> slow = ParseSnapshotJson(pretty);
  ASSERT_TRUE(slow.ok()) << slow.status();
  EXPECT_EQ(slow->version, 42u);
  EXPECT_EQ(slow->revoked->size(), 3u);
  EXPECT_TRUE(
      slow->revoked->Contains("odd\"id\\x\x01", absl::FromUnixSeconds(4)));
  EXPECT_TRUE(slow->revoked->Contains("sessBBBB2", absl::FromUnixSeconds(4)));
  // Raw bytes that are not UTF-8 are damage, as the general parser says.
  std::string raw = compact;
  raw.replace(raw.find("sessBBBB2"), 9, "sess\xFA\xFA\xFA\xFA\xFA");
  EXPECT_EQ(ParseSnapshotJson(raw).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_TRUE(absl::StrContains(ParseSnapshotJson(raw).status().message(), "not valid UTF-8"))
      << ParseSnapshotJson(raw).status();
  // Trailing garbage after the compact layout is damage, not ignored.
  EXPECT_EQ(ParseSnapshotJson(compact + "x").status().code(),
            absl::StatusCode::kDataLoss);
}

TEST(SnapshotJson, NonAsciiIdsReadBackUnchangedUpToTheLengthLimit) {
  // UTF-8 is written as it stands: one \u00XX escape a byte would read back
  // as other characters, and a long id as one over the limit.
  TestKeys keys;
  ValidatorState state = SampleState(keys);
  core::RevocationSet revoked = state.revoked->Compacted();
  std::string longest;
  while (longest.size() + 2 <= core::kMaxRevokedSessionIdBytes) longest += "\xC3\xA9";
  for (const std::string& id : {std::string("caf\xC3\xA9"), longest}) {
    ASSERT_TRUE(revoked.Add(id, absl::FromUnixSeconds(5))) << id.size();
  }
  state.revoked = client::RevokedSessions::Share(std::move(revoked));
  const std::string file = SnapshotToJson(state);
  for (const std::string& text : {file, nlohmann::json::parse(file).dump(2)}) {  // fast and general parsers
    absl::StatusOr<ValidatorState> back = ParseSnapshotJson(text);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(back->revoked->size(), 4u);
    EXPECT_TRUE(back->revoked->Contains("caf\xC3\xA9", absl::FromUnixSeconds(4)));
    EXPECT_TRUE(back->revoked->Contains(longest, absl::FromUnixSeconds(4)));
  }
}

TEST(FileSnapshotStore, SaveIntoMissingDirectoryFailsCleanly) {
  TempDir dir;
  TestKeys keys;
  FileSnapshotStore store(dir.path() + "/no/such/dir/snap.json");
  EXPECT_EQ(store.Save(SampleState(keys)).code(), absl::StatusCode::kNotFound);
}

// The size the sidecar must handle; the load time is printed, not asserted
// (tests/bench holds timings), but must stay well under 2 s.
TEST(FileSnapshotStore, LoadsAMillionRevokedSessions) {
  TempDir dir;
  TestKeys keys;
  ValidatorState state;
  state.version = 7;
  state.keyring = keys.keyring;
  constexpr int kEntries = 1'000'000;
  core::RevocationSet revoked;
  revoked.Reserve(kEntries);
  for (int i = 0; i < kEntries; ++i) {
    revoked.Add(absl::StrCat("s", 100000000 + i, "xyz"),
                absl::FromUnixSeconds(1'900'000'000 + i));
  }
  state.revoked =
      client::RevokedSessions::Share(std::move(revoked));
  FileSnapshotStore store(dir.path() + "/big.json");
  absl::Time t0 = absl::Now();
  ASSERT_TRUE(store.Save(state).ok());
  absl::Time t1 = absl::Now();
  absl::StatusOr<std::optional<ValidatorState>> loaded = store.Load();
  absl::Time t2 = absl::Now();
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ASSERT_TRUE(loaded->has_value());
  EXPECT_EQ((*loaded)->revoked->size(), static_cast<size_t>(kEntries));
  EXPECT_TRUE((*loaded)->revoked->Contains(
      "s100999999xyz", absl::FromUnixSeconds(1'900'000'000)));
  std::cout << "1M revoked: save " << absl::FormatDuration(t1 - t0) << ", load "
            << absl::FormatDuration(t2 - t1) << "\n";
}

// `state` with `changes` applied, as the edge-sync subscriber hands it out.
ValidatorState Delta(const ValidatorState& state, uint64_t version,
                     std::vector<client::RevocationChange> changes) {
  ValidatorState next = state;
  next.version = version;
  next.delta_from = state.version;
  next.revoked = state.revoked->Apply(changes);
  next.changes = std::move(changes);
  return next;
}

TEST(FileSnapshotStore, DeltasAreAppendedAndLoadedBack) {
  TempDir dir;
  TestKeys keys;
  FileSnapshotStore store(dir.path() + "/snap.json");
  ValidatorState state = SampleState(keys);
  ASSERT_TRUE(store.Save(state).ok());
  const size_t snapshot_size = Slurp(store.path()).size();
  ValidatorState v43 = Delta(state, 43, {{.session_id = "sessNEW1", .expires_at = absl::FromUnixSeconds(1'900'000'100)},
                                        {.session_id = "sessAAAA1", .remove = true}});
  ValidatorState v44 = Delta(v43, 44, {{.session_id = "sess\"odd"}});
  ASSERT_TRUE(store.Save(v43).ok());
  ASSERT_TRUE(store.Save(v44).ok());
  EXPECT_EQ(store.rewrites(), 1u);
  EXPECT_EQ(store.appends(), 2u);
  const std::string text = Slurp(store.path());
  EXPECT_EQ(text.substr(0, snapshot_size), SnapshotToJson(state));  // the snapshot untouched
  EXPECT_TRUE(absl::StartsWith(text.substr(snapshot_size), "@delta ")) << text.substr(snapshot_size);

  FileSnapshotStore reader(store.path());
  absl::StatusOr<std::optional<ValidatorState>> loaded = reader.Load();
  ASSERT_TRUE(loaded.ok() && loaded->has_value()) << loaded.status();
  const ValidatorState& s = **loaded;
  EXPECT_EQ(s.version, 44u);
  EXPECT_EQ(s.keyring_fingerprint, "fp-1");
  EXPECT_EQ(s.revoked->size(), 3u);
  EXPECT_FALSE(s.revoked->Contains("sessAAAA1", absl::FromUnixSeconds(1'800'000'000)));
  EXPECT_TRUE(s.revoked->Contains("sessBBBB2", absl::FromUnixSeconds(1'800'000'000)));
  EXPECT_TRUE(s.revoked->Contains("sessNEW1", absl::FromUnixSeconds(1'900'000'099)));
  EXPECT_FALSE(s.revoked->Contains("sessNEW1", absl::FromUnixSeconds(1'900'000'100)));
  EXPECT_TRUE(s.revoked->Contains("sess\"odd", absl::FromUnixSeconds(1'800'000'000)));
  EXPECT_EQ(reader.dropped_delta_bytes(), 0u);

  // The store that loaded the file appends to it too; a state that is not a
  // delta of what the file holds rewrites it.
  ASSERT_TRUE(reader.Save(Delta(s, 45, {{.session_id = "sessNEW2"}})).ok());
  EXPECT_EQ(reader.appends(), 1u);
  ValidatorState unrelated = SampleState(keys);
  unrelated.version = 50;
  ASSERT_TRUE(reader.Save(unrelated).ok());
  EXPECT_EQ(reader.rewrites(), 1u);
  EXPECT_EQ(Slurp(store.path()), SnapshotToJson(unrelated));
}

TEST(FileSnapshotStore, ATornOrDamagedTailIsDroppedAndOverwritten) {
  TempDir dir;
  TestKeys keys;
  const std::string path = dir.path() + "/snap.json";
  ValidatorState state = SampleState(keys);
  ValidatorState v43 = Delta(state, 43, {{.session_id = "sessNEW1"}});
  ValidatorState v44 = Delta(v43, 44, {{.session_id = "sessNEW2"}});
  {
    FileSnapshotStore store(path);
    ASSERT_TRUE(store.Save(state).ok());
    ASSERT_TRUE(store.Save(v43).ok());
    ASSERT_TRUE(store.Save(v44).ok());
  }
  const std::string whole = Slurp(path);
  const size_t last_line = whole.rfind("@delta ");
  for (size_t cut : {whole.size() - 1, last_line + 10, last_line + 1}) {
    // A crash while the last line was being written.
    std::ofstream(path, std::ios::binary | std::ios::trunc) << whole.substr(0, cut);
    FileSnapshotStore store(path);
    absl::StatusOr<std::optional<ValidatorState>> loaded = store.Load();
    ASSERT_TRUE(loaded.ok() && loaded->has_value()) << loaded.status();
    EXPECT_EQ((*loaded)->version, 43u) << cut;
    EXPECT_TRUE((*loaded)->revoked->Contains("sessNEW1", absl::FromUnixSeconds(1'800'000'000)));
    EXPECT_FALSE((*loaded)->revoked->Contains("sessNEW2", absl::FromUnixSeconds(1'800'000'000)));
    EXPECT_EQ(store.dropped_delta_bytes(), cut - last_line);
    // The next delta replaces the torn line.
    ASSERT_TRUE(store.Save(v44).ok());
    EXPECT_EQ(store.appends(), 1u);
    EXPECT_EQ(Slurp(path), whole);
  }
  // A line whose checksum does not match (a bit flipped) ends the deltas.
  std::string flipped = whole;
  flipped[last_line + 40] ^= 0x01;
  std::ofstream(path, std::ios::binary | std::ios::trunc) << flipped;
  FileSnapshotStore store(path);
  absl::StatusOr<std::optional<ValidatorState>> loaded = store.Load();
  ASSERT_TRUE(loaded.ok() && loaded->has_value()) << loaded.status();
  EXPECT_EQ((*loaded)->version, 43u);
  EXPECT_GT(store.dropped_delta_bytes(), 0u);
  // A damaged snapshot itself is still DATA_LOSS.
  std::ofstream(path, std::ios::binary | std::ios::trunc) << whole.substr(0, 20);
  EXPECT_EQ(FileSnapshotStore(path).Load().status().code(), absl::StatusCode::kDataLoss);
}

TEST(FileSnapshotStore, RewritesOnceTheDeltasOutgrowTheSnapshot) {
  TempDir dir;
  TestKeys keys;
  FileSnapshotStore store(dir.path() + "/snap.json");
  ValidatorState state = SampleState(keys);
  ASSERT_TRUE(store.Save(state).ok());
  // Each line about 100 bytes: the 64 KiB floor is passed after ~700.
  for (int i = 0; i < 1000; ++i) {
    state = Delta(state, state.version + 1, {{.session_id = absl::StrCat("sessMANY", i)}});
    ASSERT_TRUE(store.Save(state).ok());
  }
  EXPECT_EQ(store.rewrites(), 2u);
  EXPECT_LT(Slurp(store.path()).size(), 140'000u);
  FileSnapshotStore reader(store.path());
  absl::StatusOr<std::optional<ValidatorState>> loaded = reader.Load();
  ASSERT_TRUE(loaded.ok() && loaded->has_value()) << loaded.status();
  EXPECT_EQ((*loaded)->version, state.version);
  EXPECT_EQ((*loaded)->revoked->size(), 1002u);
}

}  // namespace
}  // namespace edgepass::sidecar
