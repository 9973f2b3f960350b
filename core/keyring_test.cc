#include "core/keyring.h"

#include "core/test_util_internal.h"
#include "gtest/gtest.h"

namespace edgepass::core {
namespace {

const std::string kValue(128, 'a');

TEST(Keyring, ParsesSmdKeysObject) {
  auto ring = ParseKeyringJson(R"({"primary":{"uuid":"20250101_aa","value":")" + kValue +
                               R"("},"secondary":{"uuid":"20241201_bb","value":")" +
                               std::string(128, 'b') + R"("}})");
  ASSERT_TRUE(ring.ok()) << ring.status();
  EXPECT_EQ(ring->Primary()->id, "20250101_aa");
  EXPECT_EQ(ring->Find("20241201_bb")->state, KeyState::kSecondary);
  EXPECT_EQ(ring->Find("nope"), nullptr);
}

TEST(Keyring, RoundTripsOwnFormat) {
  testing::CountingRandom random;
  const absl::Time now = absl::FromUnixSeconds(1'795'000'000);
  SigningKey a = GenerateSigningKey(now, KeyState::kPrimary, random);
  SigningKey b = GenerateSigningKey(now, KeyState::kRetired, random);
  b.not_after = now + absl::Hours(4);
  auto ring = ParseKeyringJson(KeyringToJson(*Keyring::Create({a, b})));
  ASSERT_TRUE(ring.ok()) << ring.status();
  ASSERT_EQ(ring->keys().size(), 2u);
  EXPECT_EQ(ring->keys()[0].value, a.value);
  EXPECT_EQ(ring->keys()[1].not_after, b.not_after);
  EXPECT_EQ(a.id.substr(0, 9), "20261118_");
  EXPECT_EQ(a.id.size(), 29u);
  EXPECT_EQ(a.value.size(), 128u);
}

TEST(Keyring, HoldsEachKeysHmacStateAndSurvivesCopies) {
  auto ring = ParseKeyringJson(R"({"primary":{"uuid":"20250101_aa","value":")" + kValue +
                               R"("},"secondary":{"uuid":"20241201_bb","value":")" +
                               std::string(128, 'b') + R"("}})");
  ASSERT_TRUE(ring.ok()) << ring.status();
  const Keyring copy = *ring;
  for (const Keyring* r : {static_cast<const Keyring*>(&*ring), &copy}) {
    for (const SigningKey& k : r->keys()) {
      const HmacSha256Key* mac = r->MacKeyOf(&k);
      ASSERT_NE(mac, nullptr) << k.id;
      EXPECT_EQ(mac->Mac("input"), HmacSha256(k.value, "input")) << k.id;
    }
  }
  const SigningKey outside = ring->keys()[0];
  EXPECT_EQ(ring->MacKeyOf(&outside), nullptr);
  EXPECT_EQ(copy.MacKeyOf(&ring->keys()[0]), nullptr);
  EXPECT_EQ(Keyring().MacKeyOf(&outside), nullptr);
}

TEST(Keyring, RefusesBadKeysNamingTheField) {
  auto bad_value = ParseKeyringJson(R"({"keys":[{"id":"k1","value":"xyz","state":"primary"}]})");
  EXPECT_EQ(bad_value.status().message().substr(0, 14), "keys[0].value:");
  auto two_primaries = ParseKeyringJson(R"({"keys":[{"id":"k1","value":")" + kValue +
                                        R"(","state":"primary"},{"id":"k2","value":")" + kValue +
                                        R"(","state":"primary"}]})");
  EXPECT_EQ(two_primaries.status().message().substr(0, 14), "keys[1].state:");
  auto dup = ParseKeyringJson(R"({"keys":[{"id":"k1","value":")" + kValue +
                              R"("},{"id":"k1","value":")" + kValue + R"(","state":"secondary"}]})");
  EXPECT_EQ(dup.status().message().substr(0, 11), "keys[1].id:");
  auto retired_forever = ParseKeyringJson(R"({"keys":[{"id":"k1","value":")" + kValue +
                                          R"(","state":"retired"}]})");
  EXPECT_EQ(retired_forever.status().message().substr(0, 18), "keys[0].not_after:");
  EXPECT_FALSE(ParseKeyringJson("not json").ok());
  EXPECT_FALSE(ParseKeyringJson(R"({"tertiary":{}})").ok());
}

TEST(Keyring, RoundTripsAForeignDistributedKeyAndReadsOldFilesAsOwnKeys) {
  SigningKey primary{.id = "k1", .value = kValue};
  SigningKey smd{.id = "k2", .value = std::string(128, 'b'), .state = KeyState::kDistributed, .foreign = true};
  const std::string json = KeyringToJson(*Keyring::Create({primary, smd}));
  EXPECT_NE(json.find("\"foreign\": true"), std::string::npos) << json;
  EXPECT_EQ(json.find("foreign"), json.rfind("foreign")) << "only the foreign key says so";
  auto ring = ParseKeyringJson(json);
  ASSERT_TRUE(ring.ok()) << ring.status();
  EXPECT_FALSE(ring->Find("k1")->foreign);
  EXPECT_TRUE(ring->Find("k2")->foreign);
  EXPECT_EQ(ring->Primary()->id, "k1");
  auto old = ParseKeyringJson(R"({"keys":[{"id":"k1","value":")" + kValue + R"(","state":"distributed"}]})");
  ASSERT_TRUE(old.ok()) << old.status();
  EXPECT_FALSE(old->Find("k1")->foreign);
  auto foreign_primary = ParseKeyringJson(R"({"keys":[{"id":"k1","value":")" + kValue +
                                          R"(","state":"primary","foreign":true}]})");
  EXPECT_EQ(foreign_primary.status().message().substr(0, 14), "keys[0].state:");
  auto not_bool = ParseKeyringJson(R"({"keys":[{"id":"k1","value":")" + kValue +
                                   R"(","state":"distributed","foreign":"yes"}]})");
  EXPECT_EQ(not_bool.status().message().substr(0, 16), "keys[0].foreign:");
}

}  // namespace
}  // namespace edgepass::core
