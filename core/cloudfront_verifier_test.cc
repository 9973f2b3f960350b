#include "core/cloudfront_verifier.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "core/cloudfront_signer.h"
#include "core/cloudfront_test_keys_internal.h"
#include "core/cloudfront_url.h"
#include "gtest/gtest.h"

namespace edgepass::core {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);
const absl::Time kExpires = kNow + absl::Hours(1);
constexpr char kKeyPairId[] = "K2JCJMDEHXQW5F";
constexpr char kBase[] = "https://d111111abcdef8.cloudfront.net";
constexpr char kClientIp[] = "192.0.2.10";

using R = CloudFrontReason;

// Replaces one character in the middle of the Signature value: a flipped byte
// of the signature itself (base64 of the key's own alphabet).
std::string FlipSignatureChar(std::string s, absl::string_view marker) {
  size_t at = s.find(std::string(marker));
  if (at == std::string::npos) return s;
  at += marker.size() + 20;
  s[at] = s[at] == 'A' ? 'B' : 'A';
  return s;
}

class CloudFrontVerifierTest : public ::testing::Test {
 protected:
  CloudFrontVerifierTest()
      : signer_(*CloudFrontSigner::Create(kKeyPairId, testing::RsaPrivateKeyPem())) {
    EXPECT_TRUE(keys_.Add(kKeyPairId, signer_.PublicKeyPem()).ok());
  }

  CloudFrontReason Url(absl::string_view url, absl::Time now = kNow,
                       absl::string_view ip = kClientIp) {
    const CloudFrontDecision d =
        VerifyCloudFrontSignedUrl({.url = url, .client_ip = ip}, keys_, now);
    EXPECT_EQ(d.allow, d.reason == R::kOk);
    return d.reason;
  }

  CloudFrontReason Cookies(const std::vector<CloudFrontCookie>& cookies, absl::string_view url,
                           absl::Time now = kNow, absl::string_view ip = kClientIp) {
    std::vector<std::string> parts = {"theme=dark"};
    for (const auto& c : cookies) parts.push_back(absl::StrCat(c.name, "=", c.value));
    const std::string header = absl::StrJoin(parts, "; ");
    return VerifyCloudFrontSignedCookies({.url = url, .cookie_header = header, .client_ip = ip},
                                         keys_, now)
        .reason;
  }

  std::string Path(absl::string_view p) const { return absl::StrCat(kBase, p); }

  CloudFrontSigner signer_;
  CloudFrontPublicKeys keys_;
};

TEST_F(CloudFrontVerifierTest, CannedUrlAllowedUntilExpiry) {
  const std::string url = *signer_.SignUrl(Path("/v/1.ts?q=1"), {.expires = kExpires}, kNow);
  EXPECT_EQ(Url(url), R::kOk);
  EXPECT_EQ(Url(url, kExpires - absl::Seconds(1)), R::kOk);
  EXPECT_EQ(Url(url, kExpires), R::kExpired);
  EXPECT_EQ(Url(url, kExpires + absl::Hours(1)), R::kExpired);
}

TEST_F(CloudFrontVerifierTest, CannedUrlTamperingBreaksTheSignature) {
  const std::string url = *signer_.SignUrl(Path("/v/1.ts?q=1"), {.expires = kExpires}, kNow);
  EXPECT_EQ(Url(absl::StrReplaceAll(url, {{"/v/1.ts", "/v/2.ts"}})), R::kBadSignature);
  EXPECT_EQ(Url(absl::StrReplaceAll(url, {{"q=1", "q=2"}})), R::kBadSignature);
  EXPECT_EQ(Url(absl::StrReplaceAll(url, {{"Expires=1800003600", "Expires=1900003600"}})),
            R::kBadSignature);
  EXPECT_EQ(Url(FlipSignatureChar(url, "Signature=")), R::kBadSignature);
  EXPECT_EQ(Url(absl::StrReplaceAll(url, {{"https://", "http://"}})), R::kBadSignature);
}

TEST_F(CloudFrontVerifierTest, UnknownOrWrongKey) {
  const std::string url = *signer_.SignUrl(Path("/v/1.ts"), {.expires = kExpires}, kNow);
  EXPECT_EQ(Url(absl::StrReplaceAll(url, {{kKeyPairId, "KOTHER"}})), R::kUnknownKeyPairId);
  auto other = CloudFrontSigner::Create(kKeyPairId, testing::OtherRsaPrivateKeyPem());
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(Url(*other->SignUrl(Path("/v/1.ts"), {.expires = kExpires}, kNow)), R::kBadSignature);
}

TEST_F(CloudFrontVerifierTest, CustomWildcardPolicyMatchesResource) {
  CloudFrontPolicy p{Path("/v/*/seg-?.ts*"), {.expires = kExpires}};
  const std::string url = *signer_.SignUrlWithPolicy(Path("/v/a/seg-1.ts?x=1"), p, kNow);
  EXPECT_EQ(Url(url), R::kOk);
  // The same signature opens any URL the resource matches...
  EXPECT_EQ(Url(absl::StrReplaceAll(url, {{"/v/a/seg-1.ts?x=1", "/v/b/c/seg-9.ts?y"}})), R::kOk);
  // ...and none other.
  EXPECT_EQ(Url(absl::StrReplaceAll(url, {{"/v/a/seg-1.ts", "/w/a/seg-1.ts"}})),
            R::kResourceMismatch);
  EXPECT_EQ(Url(absl::StrReplaceAll(url, {{"seg-1.ts", "seg-10.ts"}})), R::kResourceMismatch);
  EXPECT_EQ(Url(FlipSignatureChar(url, "Signature=")), R::kBadSignature);
  EXPECT_EQ(Url(FlipSignatureChar(url, "Policy=")), R::kBadSignature);
  EXPECT_EQ(Url(url, kExpires), R::kExpired);
}

TEST_F(CloudFrontVerifierTest, StartTimeAndIpRange) {
  CloudFrontConditions c{
      .expires = kExpires, .not_before = kNow + absl::Minutes(10), .ip_range = "192.0.2.0/24"};
  const std::string url = *signer_.SignUrl(Path("/v/1.ts"), c, kNow);
  EXPECT_EQ(Url(url, kNow), R::kNotYetValid);
  const absl::Time later = kNow + absl::Minutes(10);
  EXPECT_EQ(Url(url, later), R::kOk);
  EXPECT_EQ(Url(url, later, "192.0.2.255"), R::kOk);
  EXPECT_EQ(Url(url, later, "192.0.3.1"), R::kIpOutsideRange);
  EXPECT_EQ(Url(url, later, "2001:db8::1"), R::kIpOutsideRange);
  EXPECT_EQ(Url(url, later, ""), R::kIpOutsideRange);
  EXPECT_EQ(Url(url, later, "not-an-ip"), R::kIpOutsideRange);
}

TEST_F(CloudFrontVerifierTest, MalformedRequests) {
  const std::string url = *signer_.SignUrl(Path("/v/1.ts"), {.expires = kExpires}, kNow);
  EXPECT_EQ(Url(Path("/v/1.ts")), R::kMalformed);
  EXPECT_EQ(Url(absl::StrReplaceAll(url, {{"&Signature=", "&Sig="}})), R::kMalformed);
  EXPECT_EQ(Url(absl::StrReplaceAll(url, {{"&Key-Pair-Id=", "&Key="}})), R::kMalformed);
  EXPECT_EQ(Url(absl::StrCat(url, "&Policy=eyJ9")), R::kMalformed);  // both kinds
  EXPECT_EQ(Url(absl::StrCat(url, "&Expires=1")), R::kMalformed);    // repeated
  EXPECT_EQ(Url(absl::StrCat(url, "&Hash-Algorithm=SHA256")), R::kMalformed);
  EXPECT_EQ(Url(absl::StrCat(url, "&Hash-Algorithm=SHA1")), R::kOk);
  EXPECT_EQ(Url(absl::StrReplaceAll(url, {{"Expires=1800003600", "Expires=18x"}})), R::kMalformed);
  EXPECT_EQ(Url(absl::StrReplaceAll(url, {{"Signature=", "Signature=%%"}})), R::kMalformed);
  EXPECT_EQ(Url(absl::StrCat(url, std::string(kMaxCloudFrontUrlBytes, 'a'))), R::kMalformed);
  EXPECT_EQ(Url(absl::StrCat(url, "#frag")), R::kMalformed);
  EXPECT_EQ(Url(""), R::kMalformed);
  EXPECT_EQ(Url(absl::StrCat(Path("/v/1.ts"), "?Policy=", std::string(9000, 'A'),
                             "&Signature=AA&Key-Pair-Id=", kKeyPairId)),
            R::kMalformed);
}

TEST_F(CloudFrontVerifierTest, SignedButMalformedPolicyIsRefused) {
  auto key = CloudFrontRsaKey::FromPrivateKeyPem(testing::RsaPrivateKeyPem());
  ASSERT_TRUE(key.ok());
  for (const std::string json :
       {std::string(
            R"({"Statement":[{"Condition":{"DateLessThan":{"AWS:EpochTime":1900000000}}}]})"),
        std::string("not json"), std::string(R"({"Statement":[{"Resource":"*"}]})")}) {
    const std::string url = absl::StrCat(
        Path("/v/1.ts"), "?Policy=", CloudFrontBase64Encode(json),
        "&Signature=", CloudFrontBase64Encode(*key->SignSha1(json)), "&Key-Pair-Id=", kKeyPairId);
    EXPECT_EQ(Url(url), R::kMalformed) << json;
  }
}

TEST_F(CloudFrontVerifierTest, CannedCookiesOpenOnlyTheirUrl) {
  const std::string url = Path("/v/1.ts");
  auto cookies = signer_.SignCookies(url, {.expires = kExpires}, kNow);
  ASSERT_TRUE(cookies.ok()) << cookies.status();
  EXPECT_EQ(Cookies(*cookies, url), R::kOk);
  EXPECT_EQ(Cookies(*cookies, Path("/v/2.ts")), R::kBadSignature);
  EXPECT_EQ(Cookies(*cookies, url, kExpires), R::kExpired);
  auto flipped = *cookies;
  flipped[1].value = FlipSignatureChar(flipped[1].value, "");
  EXPECT_EQ(Cookies(flipped, url), R::kBadSignature);
}

TEST_F(CloudFrontVerifierTest, CustomCookiesWithWildcardIpAndStart) {
  CloudFrontPolicy p{Path("/v/*"),
                     {.expires = kExpires, .not_before = kNow, .ip_range = "192.0.2.0/28"}};
  auto cookies = signer_.SignCookiesWithPolicy(p, kNow);
  ASSERT_TRUE(cookies.ok()) << cookies.status();
  EXPECT_EQ(Cookies(*cookies, Path("/v/1/index.m3u8")), R::kOk);
  EXPECT_EQ(Cookies(*cookies, Path("/v/1/seg.ts?token=x")), R::kOk);
  EXPECT_EQ(Cookies(*cookies, Path("/x/1.ts")), R::kResourceMismatch);
  EXPECT_EQ(Cookies(*cookies, Path("/v/1.ts"), kNow - absl::Seconds(1)), R::kNotYetValid);
  EXPECT_EQ(Cookies(*cookies, Path("/v/1.ts"), kNow, "192.0.2.16"), R::kIpOutsideRange);
  EXPECT_EQ(Cookies({}, Path("/v/1.ts")), R::kMalformed);
  auto twice = *cookies;
  twice.push_back(twice[1]);
  EXPECT_EQ(Cookies(twice, Path("/v/1.ts")), R::kMalformed);
}

TEST_F(CloudFrontVerifierTest, RequestPrefersSignedUrlOverCookies) {
  auto cookies = *signer_.SignCookiesWithPolicy({Path("/v/*"), {.expires = kExpires}}, kNow);
  std::string header;
  for (const auto& c : cookies) absl::StrAppend(&header, c.name, "=", c.value, "; ");
  const std::string url = Path("/v/1.ts");
  EXPECT_TRUE(VerifyCloudFrontRequest({.url = url, .cookie_header = header}, keys_, kNow).allow);
  // A (bad) signed URL wins over good cookies, as on CloudFront.
  const std::string bad_url =
      absl::StrCat(url, "?Expires=1900000000&Signature=AAAA&Key-Pair-Id=", kKeyPairId);
  EXPECT_EQ(VerifyCloudFrontRequest({.url = bad_url, .cookie_header = header}, keys_, kNow).reason,
            R::kBadSignature);
}

TEST_F(CloudFrontVerifierTest, TruncatedOrCorruptedInputNeverAllows) {
  const std::string url = *signer_.SignUrlWithPolicy(
      Path("/v/1.ts"), {Path("/v/*"), {.expires = kExpires, .ip_range = "192.0.2.0/24"}}, kNow);
  for (size_t n = 0; n < url.size(); ++n) {
    EXPECT_FALSE(
        VerifyCloudFrontSignedUrl(
            {.url = absl::string_view(url).substr(0, n), .client_ip = kClientIp}, keys_, kNow)
            .allow)
        << n;
  }
  for (size_t i = url.find('?'); i < url.size(); i += 7) {
    for (char c : {'\0', '%', '&', '=', '_', '\xff', '"'}) {
      std::string bad = url;
      bad[i] = c;
      if (bad == url) continue;
      const CloudFrontDecision d = VerifyCloudFrontRequest(
          {.url = bad, .cookie_header = bad, .client_ip = kClientIp}, keys_, kNow);
      EXPECT_FALSE(d.allow) << i << " " << static_cast<int>(c);
    }
  }
}

// A wildcard Resource covers "/v/1/..;/2/x.ts" as text; the origin may read
// it as "/v/2/x.ts". Checked before the signature, for URLs and cookies.
TEST_F(CloudFrontVerifierTest, UnsafePathsAreRefusedUnderWildcardResources) {
  CloudFrontPolicy p{Path("/v/1/*"), {.expires = kExpires}};
  const std::string url = *signer_.SignUrlWithPolicy(Path("/v/1/a.ts"), p, kNow);
  auto cookies = *signer_.SignCookiesWithPolicy(p, kNow);
  EXPECT_EQ(Url(url), R::kOk);
  EXPECT_EQ(Cookies(cookies, Path("/v/1/a.ts")), R::kOk);
  for (const char* path : {"/v/1/..;/2/a.ts", "/v/1/.;/a.ts", "/v/1/..;jsessionid=x/2/a.ts",
                           "/v/1/%252e%252e/2/a.ts", "/v/1/%u002e%u002e/2/a.ts",
                           "/v/1/%c0%ae%c0%ae/2/a.ts", "/v/1/../2/a.ts"}) {
    EXPECT_EQ(Url(absl::StrReplaceAll(url, {{"/v/1/a.ts", path}})), R::kUnsafePath) << path;
    EXPECT_EQ(Cookies(cookies, Path(path)), R::kUnsafePath) << path;
  }
}

// IpAddress ranges are IPv4: no IPv6 viewer is inside one, whatever its bits.
TEST_F(CloudFrontVerifierTest, Ipv6ViewerIsOutsideIpv4RangeForCookies) {
  CloudFrontPolicy p{Path("/v/*"), {.expires = kExpires, .ip_range = "192.0.2.0/24"}};
  auto cookies = *signer_.SignCookiesWithPolicy(p, kNow);
  EXPECT_EQ(Cookies(cookies, Path("/v/1.ts"), kNow, "192.0.2.5"), R::kOk);
  for (const char* ip : {"2001:db8::c000:205", "::ffff:c000:205", "::", "fe80::1"}) {
    EXPECT_EQ(Cookies(cookies, Path("/v/1.ts"), kNow, ip), R::kIpOutsideRange) << ip;
  }
}

TEST(CloudFrontPublicKeys, RefusesBadIdsKeysAndDuplicates) {
  auto signer = CloudFrontSigner::Create(kKeyPairId, testing::RsaPrivateKeyPem());
  ASSERT_TRUE(signer.ok());
  CloudFrontPublicKeys keys;
  EXPECT_TRUE(keys.Add(kKeyPairId, signer->PublicKeyPem()).ok());
  EXPECT_EQ(keys.Add(kKeyPairId, signer->PublicKeyPem()).message().substr(0, 12), "key_pair_id:");
  EXPECT_EQ(keys.Add("bad id", signer->PublicKeyPem()).message().substr(0, 12), "key_pair_id:");
  EXPECT_EQ(keys.Add("K2", "garbage").message().substr(0, 11), "public_key:");
  EXPECT_EQ(keys.Add("K3", testing::RsaPrivateKeyPem()).message().substr(0, 11), "public_key:");
  EXPECT_EQ(keys.size(), 1u);
}

TEST(CloudFrontReasonName, StableNames) {
  EXPECT_EQ(CloudFrontReasonName(R::kOk), "ok");
  EXPECT_EQ(CloudFrontReasonName(R::kMalformed), "malformed");
  EXPECT_EQ(CloudFrontReasonName(R::kUnknownKeyPairId), "unknown_key_pair_id");
  EXPECT_EQ(CloudFrontReasonName(R::kBadSignature), "bad_signature");
  EXPECT_EQ(CloudFrontReasonName(R::kExpired), "expired");
  EXPECT_EQ(CloudFrontReasonName(R::kNotYetValid), "not_yet_valid");
  EXPECT_EQ(CloudFrontReasonName(R::kIpOutsideRange), "ip_outside_range");
  EXPECT_EQ(CloudFrontReasonName(R::kResourceMismatch), "resource_mismatch");
  EXPECT_EQ(CloudFrontReasonName(R::kUnsafePath), "unsafe_path");
}

}  // namespace
}  // namespace edgepass::core
