#include "core/cloudfront_cookie.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace edgepass::core {
namespace {

const std::vector<CloudFrontCookie> kCookies = {{"CloudFront-Key-Pair-Id", "K2JCJMDEHXQW5F"},
                                                {"CloudFront-Signature", "ab-~_"}};

TEST(FormatSetCookieHeaders, WritesEveryAttribute) {
  CloudFrontCookieAttributes a;
  a.domain = "media.example.com";
  a.path = "/video/1/";
  a.expires = absl::FromUnixSeconds(1445412480);  // Wed, 21 Oct 2015 07:28:00 GMT
  a.same_site = CookieSameSite::kNone;
  auto headers = FormatSetCookieHeaders(kCookies, a);
  ASSERT_TRUE(headers.ok()) << headers.status();
  ASSERT_EQ(headers->size(), 2u);
  EXPECT_EQ((*headers)[0],
            "CloudFront-Key-Pair-Id=K2JCJMDEHXQW5F; Domain=media.example.com; Path=/video/1/; "
            "Expires=Wed, 21 Oct 2015 07:28:00 GMT; Secure; HttpOnly; SameSite=None");
  EXPECT_EQ((*headers)[1].substr(0, 27), "CloudFront-Signature=ab-~_;");
}

TEST(FormatSetCookieHeaders, DefaultsAreHostOnlySessionSecureLax) {
  auto headers = FormatSetCookieHeaders(kCookies, {});
  ASSERT_TRUE(headers.ok());
  EXPECT_EQ((*headers)[0],
            "CloudFront-Key-Pair-Id=K2JCJMDEHXQW5F; Path=/; Secure; HttpOnly; SameSite=Lax");
  CloudFrontCookieAttributes plain;
  plain.secure = false;
  plain.http_only = false;
  plain.same_site = CookieSameSite::kStrict;
  plain.domain = ".example.com";
  EXPECT_EQ((*FormatSetCookieHeaders(kCookies, plain))[0],
            "CloudFront-Key-Pair-Id=K2JCJMDEHXQW5F; Domain=.example.com; Path=/; SameSite=Strict");
}

TEST(FormatSetCookieHeaders, BadAttributesNameTheField) {
  auto field_of = [](const CloudFrontCookieAttributes& a) {
    absl::Status s = FormatSetCookieHeaders(kCookies, a).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    return std::string(s.message().substr(0, s.message().find(':')));
  };
  CloudFrontCookieAttributes a;
  a.domain = "evil.com; Path=/";
  EXPECT_EQ(field_of(a), "cookie.domain");
  a = {};
  a.domain = "-bad-.com";
  EXPECT_EQ(field_of(a), "cookie.domain");
  a = {};
  a.path = "video";
  EXPECT_EQ(field_of(a), "cookie.path");
  a = {};
  a.path = "/a;b";
  EXPECT_EQ(field_of(a), "cookie.path");
  a = {};
  a.secure = false;
  a.same_site = CookieSameSite::kNone;
  EXPECT_EQ(field_of(a), "cookie.same_site");
  a = {};
  a.expires = absl::InfiniteFuture();
  EXPECT_EQ(field_of(a), "cookie.expires");
  EXPECT_EQ(FormatSetCookieHeaders({{"CloudFront-Policy", "a;b"}}, {}).status().message(),
            "cookies[0]: name or value not cookie-safe");
}

TEST(ParseCloudFrontCookies, FindsCloudFrontCookiesAmongOthers) {
  auto jar = ParseCloudFrontCookies(
      "session=1; CloudFront-Policy=eyJ_; CloudFront-Signature=\"s~-\";"
      "CloudFront-Key-Pair-Id=K1;other");
  ASSERT_TRUE(jar.ok()) << jar.status();
  EXPECT_EQ(jar->policy, "eyJ_");
  EXPECT_EQ(jar->signature, "s~-");
  EXPECT_EQ(jar->key_pair_id, "K1");
  EXPECT_FALSE(jar->expires.has_value());
}

TEST(ParseCloudFrontCookies, RefusesDuplicatesAndHugeHeaders) {
  EXPECT_FALSE(ParseCloudFrontCookies("CloudFront-Signature=a; CloudFront-Signature=b").ok());
  EXPECT_FALSE(ParseCloudFrontCookies(std::string(kMaxCookieHeaderBytes + 1, 'a')).ok());
  EXPECT_TRUE(ParseCloudFrontCookies("").ok());
}

}  // namespace
}  // namespace edgepass::core
