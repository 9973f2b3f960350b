#include "core/cloudfront_url.h"

#include <string>

#include "gtest/gtest.h"

namespace edgepass::core {
namespace {

TEST(CloudFrontBase64, UsesCloudFrontAlphabetAndPadding) {
  // Standard base64 of "\xfb\xff\xbf" is "+/+/"; of "a" is "YQ==".
  EXPECT_EQ(CloudFrontBase64Encode("\xfb\xff\xbf"), "-~-~");
  EXPECT_EQ(CloudFrontBase64Encode("a"), "YQ__");
  EXPECT_EQ(CloudFrontBase64Encode("ab"), "YWI_");
  EXPECT_EQ(CloudFrontBase64Encode(""), "");
}

TEST(CloudFrontBase64, RoundTripsEveryLength) {
  std::string bytes;
  for (int i = 0; i < 40; ++i) {
    bytes.push_back(static_cast<char>(i * 37 + 250));
    std::string back;
    ASSERT_TRUE(CloudFrontBase64Decode(CloudFrontBase64Encode(bytes), &back)) << i;
    EXPECT_EQ(back, bytes);
  }
}

TEST(CloudFrontBase64, DecodeAcceptsOnlyTheCanonicalPaddedForm) {
  std::string out;
  EXPECT_TRUE(CloudFrontBase64Decode("YQ__", &out));
  EXPECT_EQ(out, "a");
  EXPECT_FALSE(CloudFrontBase64Decode("YQ", &out));  // padding missing
  EXPECT_FALSE(CloudFrontBase64Decode("YQ_", &out));
  EXPECT_FALSE(CloudFrontBase64Decode("YQ==", &out));  // standard padding
  EXPECT_FALSE(CloudFrontBase64Decode("+/+/", &out));  // standard alphabet
  EXPECT_FALSE(CloudFrontBase64Decode("Y", &out));     // impossible length
  EXPECT_FALSE(CloudFrontBase64Decode("Y_Q_", &out));  // padding inside
  EXPECT_FALSE(CloudFrontBase64Decode("YR__", &out));  // non-zero trailing bits
  EXPECT_FALSE(CloudFrontBase64Decode(std::string("YQ\0_", 4), &out));
}

TEST(NormalizeCloudFrontUrl, EncodesNonAsciiPathLikeTheSdk) {
  auto url = NormalizeCloudFrontUrl("https://d1.cloudfront.net/vidéos/日本/a b.m3u8");
  ASSERT_TRUE(url.ok()) << url.status();
  EXPECT_EQ(*url, "https://d1.cloudfront.net/vid%C3%A9os/%E6%97%A5%E6%9C%AC/a%20b.m3u8");
}

TEST(NormalizeCloudFrontUrl, DecodesThenReencodesSegments) {
  auto url = NormalizeCloudFrontUrl("https://d1.cloudfront.net/a%2fb/%c3%a9/%zz/x%20y%C3");
  ASSERT_TRUE(url.ok()) << url.status();
  // A segment that does not decode is encoded whole, its valid escapes included.
  EXPECT_EQ(*url, "https://d1.cloudfront.net/a%2Fb/%C3%A9/%25zz/x%2520y%25C3");
}

TEST(NormalizeCloudFrontUrl, RefusesInvalidUtf8EscapesAsJavaScriptDoes) {
  // Encoded surrogate, overlong '/', code point above U+10FFFF, truncated sequence.
  auto url = NormalizeCloudFrontUrl("https://h/%ED%A0%80/%C0%AF/%F4%90%80%80/%E6%97%A5%E6");
  ASSERT_TRUE(url.ok()) << url.status();
  EXPECT_EQ(*url, "https://h/%25ED%25A0%2580/%25C0%25AF/%25F4%2590%2580%2580/%25E6%2597%25A5%25E6");
}

TEST(NormalizeCloudFrontUrl, KeepsSubDelimsInPathEncodesQueryQuote) {
  auto url = NormalizeCloudFrontUrl("https://h/p/it's(1)*!~.ts?b=x y&&a=%2f+%zz&'q'=1&flag&=v&é=ü");
  ASSERT_TRUE(url.ok()) << url.status();
  EXPECT_EQ(*url, "https://h/p/it's(1)*!~.ts?b=x%20y&a=%2F+%25zz&%27q%27=1&flag=&=v&%C3%A9=%C3%BC");
}

TEST(NormalizeCloudFrontUrl, DropsEmptyQueryAndEncodesHash) {
  EXPECT_EQ(*NormalizeCloudFrontUrl("https://h/p?"), "https://h/p");
  EXPECT_EQ(*NormalizeCloudFrontUrl("https://h/p?&&"), "https://h/p");
  EXPECT_EQ(*NormalizeCloudFrontUrl("https://h/a#frag?x"), "https://h/a%23frag?x=");
  EXPECT_EQ(*NormalizeCloudFrontUrl("https://h:8443/p?x=1#f"), "https://h:8443/p?x=1%23f");
}

TEST(ValidateCloudFrontUrl, NamesTheFieldForEachBadUrl) {
  const char* bad[] = {
      "",                      // empty
      "d1.cloudfront.net/a",   // no scheme
      "ftp://h/a",             // scheme
      "HTTPS://h/a",           // the SDK only knows lower-case schemes
      "https:///a",            // no host
      "https://user@h/a",      // user info
      "https://h",             // no path
      "https://h?x=1",         // no path
      "https://hé.example/a",  // non-ASCII host
      "https://h/a\nb",        // control character
      "https://h/\xff",        // not UTF-8
  };
  for (const char* url : bad) {
    absl::Status s = ValidateCloudFrontUrl(url);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << url;
    EXPECT_EQ(s.message().substr(0, 5), "url: ") << url << " -> " << s;
  }
  EXPECT_EQ(NormalizeCloudFrontUrl(std::string(9000, 'a')).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(ValidateCloudFrontUrl("wss://h:443/live").ok());
}

TEST(ValidateCloudFrontUrl, RefusesUrlThatGrowsPastLimitWhenEncoded) {
  const std::string url = "https://h/" + std::string(3000, ' ');
  ASSERT_TRUE(ValidateCloudFrontUrl(url).ok());
  absl::StatusOr<std::string> n = NormalizeCloudFrontUrl(url);
  EXPECT_EQ(n.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(n.status().message().find("once encoded"), absl::string_view::npos);
}

TEST(NormalizeCloudFrontUrl, AnyByteAnywhereGivesAnErrorOrPrintableAscii) {
  const std::string base = "https://h/a%C3%A9/b?c=%41&d";
  for (size_t i = 0; i <= base.size(); ++i) {
    for (int b = 0; b < 256; ++b) {
      std::string url = base;
      url.insert(i, 1, static_cast<char>(b));
      absl::StatusOr<std::string> n = NormalizeCloudFrontUrl(url);
      if (!n.ok()) continue;
      for (char c : *n) ASSERT_TRUE(c > 0x20 && c < 0x7F) << url << " -> " << *n;
    }
  }
}

TEST(SplitCloudFrontUrl, TakesOutSigningParametersKeepsTheRest) {
  auto p = SplitCloudFrontUrl(
      "https://h/v.m3u8?a=1&Expires=17&Key-Pair-Id=K1&b=%20&Signature=ab~-_&flag");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->unsigned_url, "https://h/v.m3u8?a=1&b=%20&flag");
  EXPECT_EQ(p->expires, "17");
  EXPECT_EQ(p->key_pair_id, "K1");
  EXPECT_EQ(p->signature, "ab~-_");
  EXPECT_FALSE(p->policy.has_value());
  EXPECT_FALSE(p->hash_algorithm.has_value());

  auto only = SplitCloudFrontUrl("https://h/v?Policy=x%7E&Signature=s&Key-Pair-Id=K");
  ASSERT_TRUE(only.ok());
  EXPECT_EQ(only->unsigned_url, "https://h/v");
  EXPECT_EQ(only->policy, "x~");  // values are percent-decoded
}

TEST(SplitCloudFrontUrl, RefusesRepeatedParameterAndFragment) {
  EXPECT_EQ(SplitCloudFrontUrl("https://h/v?Signature=a&Signature=b").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SplitCloudFrontUrl("https://h/v?Signature=a#x").status().code(),
            absl::StatusCode::kInvalidArgument);
  // Names are case-sensitive, as CloudFront reads them.
  auto p = SplitCloudFrontUrl("https://h/v?signature=a");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->unsigned_url, "https://h/v?signature=a");
}

}  // namespace
}  // namespace edgepass::core
