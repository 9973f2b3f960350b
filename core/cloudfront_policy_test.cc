#include "core/cloudfront_policy.h"

#include <string>

#include "gtest/gtest.h"

namespace edgepass::core {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);

CloudFrontPolicy Policy(std::string resource) {
  return {std::move(resource), {.expires = kNow + absl::Hours(1)}};
}

void ExpectFieldError(const absl::Status& s, absl::string_view field) {
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_EQ(s.message().substr(0, field.size() + 1), std::string(field) + ":") << s;
}

TEST(CloudFrontPolicyJson, CannedShapeMatchesAws) {
  EXPECT_EQ(CloudFrontPolicyJson(Policy("https://d1.cloudfront.net/a.mp4")),
            R"({"Statement":[{"Resource":"https://d1.cloudfront.net/a.mp4",)"
            R"("Condition":{"DateLessThan":{"AWS:EpochTime":1800003600}}}]})");
}

TEST(CloudFrontPolicyJson, CustomConditionsInSdkOrderWithDefaultMask) {
  CloudFrontPolicy p = Policy("https://d1.cloudfront.net/v/*");
  p.conditions.not_before = kNow - absl::Minutes(1);
  p.conditions.ip_range = "192.0.2.7";
  EXPECT_EQ(CloudFrontPolicyJson(p),
            R"({"Statement":[{"Resource":"https://d1.cloudfront.net/v/*","Condition":{)"
            R"("DateLessThan":{"AWS:EpochTime":1800003600},)"
            R"("DateGreaterThan":{"AWS:EpochTime":1799999940},)"
            R"("IpAddress":{"AWS:SourceIp":"192.0.2.7/32"}}}]})");
}

TEST(CloudFrontPolicyJson, EscapesStringsAsJsonStringify) {
  const std::string json = CloudFrontPolicyJson(Policy("https://h/a\"b\\c/é"));
  EXPECT_NE(json.find(R"("Resource":"https://h/a\"b\\c/é",)"), std::string::npos) << json;
}

TEST(CloudFrontEpochSeconds, RoundsMillisecondsHalfUpLikeMathRound) {
  EXPECT_EQ(CloudFrontEpochSeconds(absl::FromUnixMillis(1'700'000'000'499)), 1'700'000'000);
  EXPECT_EQ(CloudFrontEpochSeconds(absl::FromUnixMillis(1'700'000'000'500)), 1'700'000'001);
  EXPECT_EQ(CloudFrontEpochSeconds(absl::FromUnixMillis(1'700'000'000'999)), 1'700'000'001);
  // Sub-millisecond parts are dropped first, as a JavaScript Date does.
  EXPECT_EQ(CloudFrontEpochSeconds(absl::FromUnixMicros(1'700'000'000'499'999)), 1'700'000'000);
}

TEST(ValidateCloudFrontPolicy, AcceptsSchemesAndWildcardSchemes) {
  for (const char* r : {"https://h/a", "http://h/*", "*://h/a", "http*://h/?", "wss://h/"}) {
    EXPECT_TRUE(ValidateCloudFrontPolicy(Policy(r), kNow).ok()) << r;
  }
}

TEST(ValidateCloudFrontPolicy, ResourceWithoutSchemeNamesTheField) {
  for (const char* r : {"", "d1.cloudfront.net/a", "/a/b", "*", "ftp://h/a", "1http://h/",
                        "https://h/a\tb", "https://h/\xc3"}) {
    ExpectFieldError(ValidateCloudFrontPolicy(Policy(r), kNow), "policy.resource");
  }
  ExpectFieldError(ValidateCloudFrontPolicy(Policy("https://h/" + std::string(5000, 'a')), kNow),
                   "policy.resource");
}

TEST(ValidateCloudFrontPolicy, ExpiryInThePastNamesTheField) {
  CloudFrontPolicy p = Policy("https://h/a");
  p.conditions.expires = kNow - absl::Seconds(1);
  ExpectFieldError(ValidateCloudFrontPolicy(p, kNow), "policy.expires");
  p.conditions.expires = kNow;  // DateLessThan == now can never be used
  ExpectFieldError(ValidateCloudFrontPolicy(p, kNow), "policy.expires");
  p.conditions.expires = kNow + absl::Milliseconds(400);  // rounds down to now
  ExpectFieldError(ValidateCloudFrontPolicy(p, kNow), "policy.expires");
  p.conditions.expires = absl::InfiniteFuture();
  ExpectFieldError(ValidateCloudFrontPolicy(p, kNow), "policy.expires");
  p.conditions = {};  // never set
  ExpectFieldError(ValidateCloudFrontPolicy(p, kNow), "policy.expires");
}

TEST(ValidateCloudFrontPolicy, StartMustBeAfterEpochAndBeforeExpiry) {
  CloudFrontPolicy p = Policy("https://h/a");
  p.conditions.not_before = p.conditions.expires;
  ExpectFieldError(ValidateCloudFrontPolicy(p, kNow), "policy.not_before");
  p.conditions.not_before = absl::UnixEpoch();  // the SDK would drop it silently
  ExpectFieldError(ValidateCloudFrontPolicy(p, kNow), "policy.not_before");
  p.conditions.not_before = kNow + absl::Minutes(5);  // a future start is fine
  EXPECT_TRUE(ValidateCloudFrontPolicy(p, kNow).ok());
}

TEST(ValidateCloudFrontPolicy, IpRangeMustBeIpv4Cidr) {
  CloudFrontPolicy p = Policy("https://h/a");
  for (const char* ip : {"192.0.2.0/24", "10.1.2.3", "0.0.0.0/0", "255.255.255.255/32"}) {
    p.conditions.ip_range = ip;
    EXPECT_TRUE(ValidateCloudFrontPolicy(p, kNow).ok()) << ip;
  }
  for (const char* ip : {"2001:db8::/32", "10.1.2", "10.1.2.3/33", "10.1.2.3/", "010.1.2.3",
                         "10.1.2.256", "10.1.2.3/08", "/24", "10.1.2.3/24/1", "a.b.c.d"}) {
    p.conditions.ip_range = ip;
    ExpectFieldError(ValidateCloudFrontPolicy(p, kNow), "policy.ip_range");
  }
}

TEST(CloudFrontIpRange, ContainsComparesPrefixBits) {
  auto r = ParseCloudFrontIpRange("192.0.2.77/26", "f");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->Contains(*ParseIpv4("192.0.2.64")));
  EXPECT_TRUE(r->Contains(*ParseIpv4("192.0.2.127")));
  EXPECT_FALSE(r->Contains(*ParseIpv4("192.0.2.128")));
  EXPECT_TRUE(ParseCloudFrontIpRange("0.0.0.0/0", "f")->Contains(*ParseIpv4("8.8.8.8")));
  EXPECT_FALSE(ParseCloudFrontIpRange("8.8.8.8", "f")->Contains(*ParseIpv4("8.8.8.9")));
}

TEST(ParseCloudFrontPolicyJson, RoundTripsWhatWeWrite) {
  CloudFrontPolicy p = Policy("https://d1.cloudfront.net/v/*");
  p.conditions.not_before = kNow;
  p.conditions.ip_range = "192.0.2.0/24";
  auto parsed = ParseCloudFrontPolicyJson(CloudFrontPolicyJson(p));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->resource, p.resource);
  EXPECT_EQ(parsed->expires, 1'800'003'600);
  EXPECT_EQ(parsed->not_before, 1'800'000'000);
  ASSERT_TRUE(parsed->ip_range.has_value());
  EXPECT_EQ(parsed->ip_range->prefix, 24);
}

TEST(ParseCloudFrontPolicyJson, RefusesEverythingElse) {
  const char* bad[] = {
      "",
      "[]",
      R"({"Statement":[]})",
      R"({"Statement":{}})",
      R"({"Statement":[{"Resource":"https://h/a"}]})",                          // no Condition
      R"({"Statement":[{"Condition":{"DateLessThan":{"AWS:EpochTime":1}}}]})",  // no Resource
      R"({"Statement":[{"Resource":"r","Condition":{}}]})",
      R"({"Statement":[{"Resource":"r","Condition":{"DateLessThan":{"AWS:EpochTime":"1"}}}]})",
      R"({"Statement":[{"Resource":"r","Condition":{"DateLessThan":{"AWS:EpochTime":-1}}}]})",
      R"({"Statement":[{"Resource":"r","Condition":{"DateLessThan":{"AWS:EpochTime":1.5}}}]})",
      R"({"Statement":[{"Resource":"r","Condition":{"DateLessThan":{"AWS:EpochTime":1},"Other":{}}}]})",
      R"({"Statement":[{"Resource":"r","Condition":{"DateLessThan":{"AWS:EpochTime":1},)"
      R"("IpAddress":{"AWS:SourceIp":"::1/128"}}}]})",
      R"({"Statement":[{"Resource":1,"Condition":{"DateLessThan":{"AWS:EpochTime":1}}}]})",
      R"({"Statement":[{"Resource":"r","Effect":"Allow","Condition":{"DateLessThan":{"AWS:EpochTime":1}}}]})",
      R"({"Statement":[{"Resource":"r","Condition":{"DateLessThan":{"AWS:EpochTime":1}}}],"x":1})",
  };
  for (const char* json : bad) {
    auto p = ParseCloudFrontPolicyJson(json);
    EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument) << json;
    EXPECT_EQ(p.status().message().substr(0, 6), "policy") << p.status();
  }
  EXPECT_FALSE(ParseCloudFrontPolicyJson(std::string(7000, ' ')).ok());
}

TEST(CloudFrontWildcardMatch, StarAndQuestionMarkAsCloudFront) {
  EXPECT_TRUE(CloudFrontWildcardMatch("https://h/v/*", "https://h/v/"));
  EXPECT_TRUE(CloudFrontWildcardMatch("https://h/v/*", "https://h/v/a/b.ts?x=1"));
  EXPECT_FALSE(CloudFrontWildcardMatch("https://h/v/*", "https://h/w/a"));
  EXPECT_TRUE(CloudFrontWildcardMatch("https://h/v/?.ts", "https://h/v/1.ts"));
  EXPECT_FALSE(CloudFrontWildcardMatch("https://h/v/?.ts", "https://h/v/.ts"));
  EXPECT_FALSE(CloudFrontWildcardMatch("https://h/v/?.ts", "https://h/v/12.ts"));
  EXPECT_TRUE(CloudFrontWildcardMatch("*://h/*/seg-*.ts", "https://h/a/b/seg-9.ts"));
  EXPECT_FALSE(CloudFrontWildcardMatch("https://h/a", "https://h/a/"));
  EXPECT_FALSE(CloudFrontWildcardMatch("https://h/A", "https://h/a"));  // case-sensitive
  EXPECT_TRUE(CloudFrontWildcardMatch("*", ""));
  EXPECT_TRUE(CloudFrontWildcardMatch("a*", "a*"));
  EXPECT_FALSE(CloudFrontWildcardMatch("", "a"));
  EXPECT_TRUE(CloudFrontWildcardMatch("*a*a*a*b", "aaaaaaaaaaaaaab"));
  EXPECT_FALSE(CloudFrontWildcardMatch("*a*a*a*b", std::string(8000, 'a')));
}

}  // namespace
}  // namespace edgepass::core
