#include "core/cloudfront_signer.h"

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/cloudfront_test_keys_internal.h"
#include "core/cloudfront_url.h"
#include "gtest/gtest.h"

namespace edgepass::core {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);
constexpr char kKeyPairId[] = "K2JCJMDEHXQW5F";
constexpr char kUrl[] = "https://d111111abcdef8.cloudfront.net/video/1/index.m3u8";

void ExpectFieldError(const absl::Status& s, absl::string_view field) {
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_TRUE(absl::StartsWith(s.message(), absl::StrCat(field, ": "))) << s;
}

class CloudFrontSignerTest : public ::testing::Test {
 protected:
  CloudFrontSignerTest()
      : signer_(*CloudFrontSigner::Create(kKeyPairId, testing::RsaPrivateKeyPem())),
        public_key_(*CloudFrontRsaKey::FromPublicKeyPem(signer_.PublicKeyPem())) {}

  // The signature parameter/cookie verifies over `json` with the public key.
  bool Verifies(absl::string_view json, absl::string_view signature_b64) {
    std::string sig;
    return CloudFrontBase64Decode(signature_b64, &sig) && public_key_.VerifySha1(json, sig);
  }

  CloudFrontSigner signer_;
  CloudFrontRsaKey public_key_;
};

TEST(CloudFrontSignerCreate, MalformedPemNamesPrivateKey) {
  for (const char* pem :
       {"", "not a key", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"}) {
    ExpectFieldError(CloudFrontSigner::Create(kKeyPairId, pem).status(), "private_key");
  }
  ExpectFieldError(CloudFrontSigner::Create(kKeyPairId, std::string(20000, 'A')).status(),
                   "private_key");
}

TEST(CloudFrontSignerCreate, EcKeyIsRefusedAsNotRsa) {
  absl::Status s =
      CloudFrontSigner::Create(kKeyPairId, testing::GenerateEcPrivateKeyPem()).status();
  ExpectFieldError(s, "private_key");
  EXPECT_TRUE(absl::StrContains(s.message(), "RSA")) << s;
}

TEST(CloudFrontSignerCreate, SmallKeyPublicKeyAndEncryptedKeyAreRefused) {
  ExpectFieldError(
      CloudFrontSigner::Create(kKeyPairId, testing::GenerateRsaPrivateKeyPem(1024)).status(),
      "private_key");
  auto signer = CloudFrontSigner::Create(kKeyPairId, testing::RsaPrivateKeyPem());
  ASSERT_TRUE(signer.ok());
  ExpectFieldError(CloudFrontSigner::Create(kKeyPairId, signer->PublicKeyPem()).status(),
                   "private_key");
  ExpectFieldError(CloudFrontSigner::Create(kKeyPairId,
                                            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n"
                                            "-----END ENCRYPTED PRIVATE KEY-----\n")
                       .status(),
                   "private_key");
}

TEST(CloudFrontSignerCreate, KeyPairIdMustBeAlphanumeric) {
  for (const char* id : {"", "K2 JC", "K2&x=1", "Kü"}) {
    ExpectFieldError(CloudFrontSigner::Create(id, testing::RsaPrivateKeyPem()).status(),
                     "key_pair_id");
  }
}

TEST_F(CloudFrontSignerTest, CannedUrlCarriesExpiresKeyPairIdSignature) {
  auto url = signer_.SignUrl(kUrl, {.expires = kNow + absl::Hours(1)}, kNow);
  ASSERT_TRUE(url.ok()) << url.status();
  const std::string prefix =
      absl::StrCat(kUrl, "?Expires=1800003600&Key-Pair-Id=", kKeyPairId, "&Signature=");
  ASSERT_TRUE(absl::StartsWith(*url, prefix)) << *url;
  const std::string json =
      absl::StrCat(R"({"Statement":[{"Resource":")", kUrl,
                   R"(","Condition":{"DateLessThan":{"AWS:EpochTime":1800003600}}}]})");
  EXPECT_TRUE(Verifies(json, url->substr(prefix.size())));
  // PKCS#1 v1.5 is deterministic: the same input gives the same URL.
  EXPECT_EQ(*url, *signer_.SignUrl(kUrl, {.expires = kNow + absl::Hours(1)}, kNow));
}

TEST_F(CloudFrontSignerTest, ExistingQueryGetsAmpersandAndIsSigned) {
  auto url =
      signer_.SignUrl(absl::StrCat(kUrl, "?quality=hd"), {.expires = kNow + absl::Hours(1)}, kNow);
  ASSERT_TRUE(url.ok()) << url.status();
  EXPECT_TRUE(absl::StartsWith(*url, absl::StrCat(kUrl, "?quality=hd&Expires=1800003600&")));
}

TEST_F(CloudFrontSignerTest, StartOrIpMakesCustomPolicy) {
  CloudFrontConditions c{.expires = kNow + absl::Hours(1), .ip_range = "192.0.2.0/24"};
  auto url = signer_.SignUrl(kUrl, c, kNow);
  ASSERT_TRUE(url.ok()) << url.status();
  auto params = SplitCloudFrontUrl(*url);
  ASSERT_TRUE(params.ok());
  EXPECT_EQ(params->unsigned_url, kUrl);
  ASSERT_TRUE(params->policy.has_value());
  EXPECT_FALSE(params->expires.has_value());
  std::string json;
  ASSERT_TRUE(CloudFrontBase64Decode(*params->policy, &json));
  EXPECT_EQ(json, CloudFrontPolicyJson({kUrl, c}));
  EXPECT_TRUE(Verifies(json, *params->signature));
  EXPECT_TRUE(absl::StrContains(*url, "?Policy="));
}

TEST_F(CloudFrontSignerTest, WildcardPolicyMustCoverTheUrl) {
  CloudFrontPolicy p{"https://d111111abcdef8.cloudfront.net/video/1/*",
                     {.expires = kNow + absl::Hours(1)}};
  EXPECT_TRUE(signer_.SignUrlWithPolicy(kUrl, p, kNow).ok());
  ExpectFieldError(
      signer_.SignUrlWithPolicy("https://d111111abcdef8.cloudfront.net/video/2/a.ts", p, kNow)
          .status(),
      "url");
}

TEST_F(CloudFrontSignerTest, BadInputsNameTheField) {
  ExpectFieldError(
      signer_.SignUrl("video/1/a.ts", {.expires = kNow + absl::Hours(1)}, kNow).status(), "url");
  ExpectFieldError(signer_.SignUrl(kUrl, {.expires = kNow - absl::Seconds(1)}, kNow).status(),
                   "policy.expires");
  ExpectFieldError(
      signer_.SignUrl(kUrl, {.expires = kNow + absl::Hours(1), .ip_range = "::1"}, kNow).status(),
      "policy.ip_range");
  ExpectFieldError(
      signer_
          .SignCookiesWithPolicy(
              {"d111111abcdef8.cloudfront.net/*", {.expires = kNow + absl::Hours(1)}}, kNow)
          .status(),
      "policy.resource");
  ExpectFieldError(signer_.SignCookies(kUrl, {.expires = kNow - absl::Hours(1)}, kNow).status(),
                   "policy.expires");
  ExpectFieldError(signer_
                       .SignUrl("https://h/" + std::string(5000, 'a'),
                                {.expires = kNow + absl::Hours(1), .ip_range = "10.0.0.1"}, kNow)
                       .status(),
                   "url");
}

TEST_F(CloudFrontSignerTest, CookiesInSdkOrder) {
  auto canned = signer_.SignCookies(kUrl, {.expires = kNow + absl::Hours(1)}, kNow);
  ASSERT_TRUE(canned.ok()) << canned.status();
  ASSERT_EQ(canned->size(), 3u);
  EXPECT_EQ((*canned)[0].name, "CloudFront-Key-Pair-Id");
  EXPECT_EQ((*canned)[0].value, kKeyPairId);
  EXPECT_EQ((*canned)[1].name, "CloudFront-Signature");
  EXPECT_EQ((*canned)[2].name, "CloudFront-Expires");
  EXPECT_EQ((*canned)[2].value, "1800003600");

  CloudFrontPolicy p{"https://d111111abcdef8.cloudfront.net/video/*",
                     {.expires = kNow + absl::Hours(1)}};
  auto custom = signer_.SignCookiesWithPolicy(p, kNow);
  ASSERT_TRUE(custom.ok()) << custom.status();
  ASSERT_EQ(custom->size(), 3u);
  EXPECT_EQ((*custom)[2].name, "CloudFront-Policy");
  EXPECT_EQ((*custom)[2].value, CloudFrontBase64Encode(CloudFrontPolicyJson(p)));
  EXPECT_TRUE(Verifies(CloudFrontPolicyJson(p), (*custom)[1].value));
  // Every value can go into a Set-Cookie header as it is.
  EXPECT_TRUE(FormatSetCookieHeaders(*custom, {}).ok());
}

TEST_F(CloudFrontSignerTest, CookieResourceIsTheUrlAsGiven) {
  // The SDK does not normalize the URL of signed cookies; neither do we.
  const std::string raw = "https://d111111abcdef8.cloudfront.net/vidé o.mp4";
  CloudFrontConditions c{.expires = kNow + absl::Hours(1), .not_before = kNow};
  auto cookies = signer_.SignCookies(raw, c, kNow);
  ASSERT_TRUE(cookies.ok()) << cookies.status();
  std::string json;
  ASSERT_TRUE(CloudFrontBase64Decode((*cookies)[2].value, &json));
  EXPECT_EQ(json, CloudFrontPolicyJson({raw, c}));
}

}  // namespace
}  // namespace edgepass::core
