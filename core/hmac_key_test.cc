#include "core/hmac_key.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace edgepass::core {
namespace {

std::string Bytes(size_t n, int seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 131 + seed * 17 + 7) & 0xff);
  return s;
}

TEST(HmacSha256Key, MatchesOneShotHmacForAllBlockBoundaries) {
  for (size_t key_len : {0, 1, 31, 32, 63, 64, 65, 128, 200}) {
    const std::string key = Bytes(key_len, 1);
    const HmacSha256Key mac(key);
    for (size_t data_len : {0, 1, 55, 56, 63, 64, 65, 119, 120, 128, 200, 1000}) {
      const std::string data = Bytes(data_len, 2);
      EXPECT_EQ(mac.Mac(data), HmacSha256(key, data)) << key_len << "/" << data_len;
    }
  }
}

TEST(HmacSha256Key, Rfc4231TestCase2) {
  const Sha256Digest mac = HmacSha256Key("Jefe").Mac("what do ya want for nothing?");
  EXPECT_EQ(HexEncode(absl::string_view(reinterpret_cast<const char*>(mac.data()), mac.size())),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(HmacSha256Key, PartsEqualTheirConcatenation) {
  const std::string key(128, 'a');
  const HmacSha256Key mac(key);
  const std::string data = Bytes(300, 3);
  const absl::string_view v(data);
  const std::vector<absl::string_view> parts = {v.substr(0, 1), v.substr(1, 0), v.substr(1, 70),
                                                v.substr(71, 100), v.substr(171)};
  EXPECT_EQ(mac.MacOfParts(parts), HmacSha256(key, data));
  EXPECT_EQ(mac.MacOfParts({}), HmacSha256(key, ""));
}

TEST(HmacSha256Key, CopiesAreIndependentAndDefaultIsEmptyKey) {
  HmacSha256Key a("one");
  const HmacSha256Key b = a;
  a = HmacSha256Key("two");
  EXPECT_EQ(b.Mac("x"), HmacSha256("one", "x"));
  EXPECT_EQ(a.Mac("x"), HmacSha256("two", "x"));
  EXPECT_EQ(HmacSha256Key().Mac("x"), HmacSha256("", "x"));
}

}  // namespace
}  // namespace edgepass::core
