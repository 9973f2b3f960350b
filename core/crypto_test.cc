#include "core/crypto.h"

#include <string>
#include <utility>

#include "gtest/gtest.h"

namespace edgepass::core {
namespace {

TEST(Base64Url, RoundTripsAllLengths) {
  std::string bytes;
  for (int n = 0; n < 40; ++n) {
    std::string decoded;
    ASSERT_TRUE(Base64UrlDecode(Base64UrlEncode(bytes), &decoded)) << n;
    EXPECT_EQ(decoded, bytes);
    bytes.push_back(static_cast<char>(n * 37 + 250));
  }
}

TEST(Base64Url, EncodesRfc4648VectorsWithUrlAlphabetUnpadded) {
  const std::pair<const char*, const char*> cases[] = {
      {"", ""},
      {"f", "Zg"},
      {"fo", "Zm8"},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg"},
      {"fooba", "Zm9vYmE"},
      {"foobar", "Zm9vYmFy"},
      {"\xfb\xff\xbf", "-_-_"}};
  for (const auto& [bytes, text] : cases)
    EXPECT_EQ(Base64UrlEncode(bytes), text) << text;
}

TEST(Base64Url, AppendsAfterWhatIsThere) {
  std::string out = "head.";
  Base64UrlAppend("foobar", &out);
  Base64UrlAppend("f", &out);
  EXPECT_EQ(out, "head.Zm9vYmFyZg");
}

TEST(Base64Url, RejectsPaddingStandardAlphabetAndNonCanonicalTails) {
  std::string out;
  EXPECT_FALSE(Base64UrlDecode("YQ==", &out));
  EXPECT_FALSE(Base64UrlDecode("a+b/", &out));
  EXPECT_FALSE(Base64UrlDecode("YR", &out));  // leftover bits set
  EXPECT_FALSE(Base64UrlDecode("Y", &out));
  EXPECT_TRUE(Base64UrlDecode("YQ", &out));
  EXPECT_EQ(out, "a");
}

TEST(Base64Url, DecodesIntoFixedBufferExactlyLikeTheStringForm) {
  std::string bytes;
  char buf[32];
  for (int n = 0; n < 40; ++n) {
    size_t size = 99;
    const bool fits = n <= 32;
    EXPECT_EQ(Base64UrlDecode(Base64UrlEncode(bytes), absl::MakeSpan(buf), &size), fits) << n;
    if (fits) EXPECT_EQ(absl::string_view(buf, size), bytes);
    bytes.push_back(static_cast<char>(n * 37 + 250));
  }
  size_t size = 0;
  for (const char* bad : {"YQ==", "a+b/", "YR", "Y"}) {
    EXPECT_FALSE(Base64UrlDecode(bad, absl::MakeSpan(buf), &size)) << bad;
  }
  EXPECT_FALSE(Base64UrlDecode("YWJj", absl::MakeSpan(buf, 2), &size));  // "abc" needs 3
}

TEST(HmacSha256, MatchesRfc4231Case2) {
  EXPECT_EQ(HexEncode(absl::string_view(
                reinterpret_cast<const char*>(HmacSha256("Jefe", "what do ya want for nothing?").data()), 32)),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(ConstantTimeEquals, ComparesContentAndLength) {
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abcd"));
}

}  // namespace
}  // namespace edgepass::core
