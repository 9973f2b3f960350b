#include "client/validator/module_state.h"

#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/random.h"
#include "gtest/gtest.h"

namespace edgepass::client {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);

class CountingRandom : public core::RandomSource {
 public:
  void Fill(absl::Span<uint8_t> out) override {
    for (auto& b : out) b = static_cast<uint8_t>(next_++);
  }

 private:
  int next_ = 7;
};

// Bytes in 8-aligned storage, as a mapping gives them.
struct Aligned {
  explicit Aligned(const std::string& s) : words((s.size() + 7) / 8), size(s.size()) {
    std::memcpy(words.data(), s.data(), s.size());
  }
  absl::Span<const char> span() const { return {reinterpret_cast<const char*>(words.data()), size}; }
  char* data() { return reinterpret_cast<char*>(words.data()); }
  std::vector<uint64_t> words;
  size_t size;
};

std::string Sample(size_t revoked_count) {
  CountingRandom random;
  core::Keyring keys = *core::Keyring::Create(
      {core::GenerateSigningKey(kNow, core::KeyState::kPrimary, random),
       core::GenerateSigningKey(kNow, core::KeyState::kSecondary, random)});
  core::RevocationSet revoked;
  for (size_t i = 0; i < revoked_count; ++i) revoked.Add(absl::StrCat("sess", i));
  return SerializeModuleState(42, keys, revoked);
}

TEST(ModuleState, RoundTripsKeysAndRevocations) {
  const Aligned bytes(Sample(1000));
  absl::StatusOr<ModuleState> state = ParseModuleState(bytes.span());
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->version, 42u);
  EXPECT_EQ(state->keyring.keys().size(), 2u);
  EXPECT_NE(state->keyring.Primary(), nullptr);
  EXPECT_EQ(state->revoked.size(), 1000u);
  EXPECT_TRUE(state->revoked.Contains("sess999", kNow));
  EXPECT_FALSE(state->revoked.Contains("sess1000", kNow));
  // The set is viewed in place, not copied.
  EXPECT_GE(state->revoked.arena().data(), bytes.span().data());
  EXPECT_LT(state->revoked.arena().data(), bytes.span().data() + bytes.size);
}

TEST(ModuleState, EmptySetRoundTrips) {
  const Aligned bytes(Sample(0));
  absl::StatusOr<ModuleState> state = ParseModuleState(bytes.span());
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->revoked.size(), 0u);
  EXPECT_FALSE(state->revoked.Contains("sess1", kNow));
}

TEST(ModuleState, EveryTruncationIsDataLoss) {
  const std::string whole = Sample(20);
  for (size_t n = 0; n < whole.size(); n += 7) {
    const Aligned bytes(whole.substr(0, n));
    absl::StatusOr<ModuleState> state = ParseModuleState(bytes.span());
    ASSERT_FALSE(state.ok()) << n;
    EXPECT_EQ(state.status().code(), absl::StatusCode::kDataLoss) << n;
  }
}

TEST(ModuleState, DamagedHeaderFieldsAreRefusedByName) {
  const std::string whole = Sample(20);
  struct Case {
    size_t offset;
    uint64_t value;
    const char* expect;
  };
  const Case cases[] = {
      {0, 0x5858585858585858ULL, "not a module state file"},
      {8, 2, "format version 2"},
      {24, 0, "keyring section"},
      {32, uint64_t{1} << 40, "keyring section"},
      {40, 3, "arena section"},
      {48, ~uint64_t{0}, "arena section"},
      {56, 91, "slots section"},
      {64, uint64_t{1} << 61, "slots section"},
      {72, 21, "slots used"},
      {80, 1, "file_length"},
  };
  for (const Case& c : cases) {
    Aligned bytes(whole);
    if (c.offset == 8) {
      const uint32_t v = static_cast<uint32_t>(c.value);
      std::memcpy(bytes.data() + c.offset, &v, sizeof(v));
    } else {
      std::memcpy(bytes.data() + c.offset, &c.value, sizeof(c.value));
    }
    absl::StatusOr<ModuleState> state = ParseModuleState(bytes.span());
    ASSERT_FALSE(state.ok()) << c.offset;
    EXPECT_EQ(state.status().code(), absl::StatusCode::kDataLoss) << state.status();
    EXPECT_NE(state.status().message().find(c.expect), absl::string_view::npos)
        << c.offset << ": " << state.status();
  }
}

TEST(ModuleState, UnalignedBytesAreInvalidArgument) {
  const std::string whole = Sample(1);
  std::vector<uint64_t> words(whole.size() / 8 + 2);
  char* p = reinterpret_cast<char*>(words.data()) + 1;
  std::memcpy(p, whole.data(), whole.size());
  EXPECT_EQ(ParseModuleState({p, whole.size()}).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ModuleState, OverlayAmendsTheBase) {
  const Aligned base_bytes(Sample(100));
  absl::StatusOr<ModuleState> base = ParseModuleState(base_bytes.span());
  ASSERT_TRUE(base.ok()) << base.status();
  core::RevocationSet overlay;
  overlay.Put("sess5", absl::InfinitePast());  // removed
  overlay.Put("added1", kNow + absl::Minutes(1));
  const Aligned bytes(SerializeModuleOverlay(43, 42, 100, overlay));
  absl::StatusOr<ModuleOverlay> parsed = ParseModuleOverlay(bytes.span());
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->version, 43u);
  EXPECT_EQ(parsed->base_version, 42u);
  EXPECT_EQ(parsed->revoked_total, 100u);
  const core::RevocationView both = base->revoked.WithOverlay(parsed->entries);
  EXPECT_FALSE(both.Contains("sess5", kNow));
  EXPECT_TRUE(both.Contains("sess6", kNow));
  EXPECT_TRUE(both.Contains("added1", kNow));
  EXPECT_FALSE(both.Contains("added1", kNow + absl::Minutes(2)));
  EXPECT_TRUE(base->revoked.Contains("sess5", kNow));  // the base alone is unchanged
  EXPECT_EQ(ModuleOverlayPath("/run/x.state"), "/run/x.state.overlay");
}

TEST(ModuleState, DamagedOverlayIsDataLoss) {
  core::RevocationSet overlay;
  overlay.Put("added1", kNow);
  const std::string good = SerializeModuleOverlay(2, 1, 1, overlay);
  // A base file is not an overlay, and every truncation is refused.
  EXPECT_EQ(ParseModuleOverlay(Aligned(Sample(1)).span()).status().code(), absl::StatusCode::kDataLoss);
  for (size_t n = 0; n < good.size(); n += 7) {
    const Aligned cut(good.substr(0, n));
    absl::StatusOr<ModuleOverlay> parsed = ParseModuleOverlay(cut.span());
    ASSERT_FALSE(parsed.ok()) << n;
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kDataLoss) << n;
  }
  // A slot pointing outside the arena.
  Aligned bad(good);
  for (size_t i = 88 / 8; i < bad.words.size(); ++i) {
    if (bad.words[i] != 0 && i * 8 >= 88 + 8) bad.words[i] |= 0xffffu;
  }
  EXPECT_FALSE(ParseModuleOverlay(bad.span()).ok());
}

}  // namespace
}  // namespace edgepass::client
