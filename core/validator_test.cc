#include "core/validator.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/test_util_internal.h"
#include "core/token_issuer.h"
#include "gtest/gtest.h"

namespace edgepass::core {
namespace {

using testing::CountingRandom;
using testing::SignJwt;

const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);

class ValidatorTest : public ::testing::Test {
 protected:
  ValidatorTest() {
    key_ = GenerateSigningKey(kNow, KeyState::kPrimary, random_);
    keys_ = *Keyring::Create({key_});
    policy_.paths = {"/video/1/"};
    policy_.exp = *ParseExpiry("+1h");
  }

  std::string Issue(const ViewerAttributes& viewer = {}) {
    auto t = IssueToken(policy_, viewer, key_, kNow, random_);
    EXPECT_TRUE(t.ok()) << t.status();
    return t.ok() ? t->token : "";
  }

  Decision Check(const std::string& uri, absl::string_view ip = "",
                 std::vector<NameValue> headers = {}, absl::Time now = kNow) {
    headers_ = std::move(headers);
    return Validate({.uri = uri, .client_ip = ip, .headers = headers_}, keys_, revoked_, now);
  }

  std::string Forge(absl::string_view header, absl::string_view payload) {
    return SignJwt(header, payload, key_.value);
  }
  std::string Header() const {
    return absl::StrCat(R"({"alg":"HS256","typ":"JWT","kid":")", key_.id, R"("})");
  }

  CountingRandom random_;
  SigningKey key_;
  Keyring keys_;
  RevocationSet revoked_;
  TokenPolicy policy_;
  std::vector<NameValue> headers_;
};

TEST_F(ValidatorTest, AllowsAndStripsTokenSegment) {
  const Decision d = Check("/" + Issue() + "/video/1/index.m3u8");
  EXPECT_TRUE(d.allow);
  EXPECT_EQ(d.reason, Reason::kOk);
  EXPECT_EQ(d.path, "/video/1/index.m3u8");
}

TEST_F(ValidatorTest, RefusesTraversalAndEncodedSeparatorsBeforePrefixMatching) {
  const std::string t = "/" + Issue();
  for (const char* path : {"/video/1/../2/x.ts", "/video/1/%2e%2e/2/x.ts", "/video/1/%2E%2E/2/x.ts",
                           "/video/1/..%2f2/x.ts", "/video/1/%2F../2/x.ts", "/video/1//x.ts",
                           "/video/1/\\..\\2/x.ts", "/video/1/%5c../x.ts", "/video/1/./x.ts",
                           "/video/1/..", "/video/1/x%00.ts"}) {
    EXPECT_EQ(Check(t + path).reason, Reason::kUnsafePath) << path;
  }
}

TEST_F(ValidatorTest, PrefixWithoutSlashMatchesOnlyAtSegmentBoundary) {
  policy_.paths = {"/live/ch1"};
  const std::string t = "/" + Issue();
  EXPECT_TRUE(Check(t + "/live/ch1/seg.ts").allow);
  EXPECT_TRUE(Check(t + "/live/ch1").allow);
  EXPECT_EQ(Check(t + "/live/ch10/seg.ts").reason, Reason::kPathNotAllowed);
}

TEST_F(ValidatorTest, ExclusionsAreSafetyCheckedToo) {
  policy_.exc = {"/video/1/ads/"};
  policy_.ip = true;
  ViewerAttributes viewer;
  viewer.ip = "203.0.113.9";
  const std::string t = "/" + Issue(viewer);
  EXPECT_TRUE(Check(t + "/video/1/ads/a.ts", "198.51.100.1").allow);
  EXPECT_EQ(Check(t + "/video/1/ads/../../2/a.ts", "198.51.100.1").reason, Reason::kUnsafePath);
}

TEST_F(ValidatorTest, DistinctReasonsForHostileHeadersAndClaims) {
  const std::string good_payload = R"({"exp":1900000000,"paths":["/video/1/"]})";
  EXPECT_EQ(Check("/" + Forge(Header(), R"({"paths":["/video/1/"]})") + "/video/1/a.ts").reason,
            Reason::kMissingExp);
  EXPECT_EQ(Check("/" + Forge(absl::StrCat(R"({"alg":"HS512","kid":")", key_.id, R"("})"),
                              good_payload) + "/video/1/a.ts").reason,
            Reason::kUnsupportedAlg);
  EXPECT_EQ(Check("/" + Forge(absl::StrCat(R"({"alg":"none","kid":")", key_.id, R"("})"),
                              good_payload) + "/video/1/a.ts").reason,
            Reason::kUnsupportedAlg);
  EXPECT_EQ(Check("/" + Forge(R"({"alg":"HS256","kid":"20990101_00000000000000000000"})",
                              good_payload) + "/video/1/a.ts").reason,
            Reason::kUnknownKid);
  EXPECT_EQ(Check("/" + Forge(Header(), good_payload) + "/video/1/a.ts").reason, Reason::kOk);
  EXPECT_EQ(Check("/" + Forge(Header(), R"({"exp":"1900000000","paths":["/video/1/"]})") +
                  "/video/1/a.ts").reason,
            Reason::kMalformedToken);
  const std::string huge = absl::StrCat(R"({"exp":1900000000,"paths":["/video/1/"],"x":")",
                                        std::string(5000, 'a'), R"("})");
  EXPECT_EQ(Check("/" + Forge(Header(), huge) + "/video/1/a.ts").reason, Reason::kTokenTooLarge);
}

TEST_F(ValidatorTest, PayloadJsonKeepsItsMeaningOnBothParserPaths) {
  const auto check = [&](absl::string_view payload) {
    return Check("/" + Forge(Header(), payload) + "/video/1/a.ts").reason;
  };
  EXPECT_EQ(check(R"({"exp":1900000000,"paths":["/video/1/"]})"), Reason::kOk);
  EXPECT_EQ(check(" {\"exp\" : 1900000000 ,\n\"paths\" : [ \"/video/1/\" ] } "), Reason::kOk);
  // Escapes and non-ASCII text take the full parser, with the same meaning.
  EXPECT_EQ(check(R"({"exp":1900000000,"paths":["\/video\/1\/"]})"), Reason::kOk);
  EXPECT_EQ(check(R"({"exp":1900000000,"paths":["/vid\u00e9o/"]})"), Reason::kPathNotAllowed);
  EXPECT_EQ(check(R"({"exp":1900000000,"paths":["/video/1/"],"sub":"caf\u00e9 \u2603"})"),
            Reason::kOk);
  EXPECT_EQ(check("{\"exp\":1900000000,\"paths\":[\"/video/1/\"],\"sub\":\"caf\xc3\xa9\"}"),
            Reason::kOk);
  EXPECT_EQ(check("{\"exp\":1900000000,\"paths\":[\"/video/1/\"],\"sub\":\"caf\xc3\"}"),
            Reason::kMalformedToken);  // invalid UTF-8
  // Claims the validator does not read may hold any JSON.
  EXPECT_EQ(check(R"({"exp":1900000000,"paths":["/video/1/"],"x":{"y":[1,{"z":null}],"f":0.5}})"),
            Reason::kOk);
  EXPECT_EQ(check(R"({"exp":1900000000,"nbf":null,"exc":null,"ip":null,"paths":["/video/1/"]})"),
            Reason::kOk);
  // A key given twice (at any depth), trailing bytes, wrong shapes and types.
  for (absl::string_view payload : {
           R"({"exp":1900000000,"paths":["/video/1/"],"exp":1900000001})",
           R"({"exp":1900000000,"paths":["/"],"paths":["/video/1/"]})",
           R"({"exp":1900000000,"paths":["/video/1/"],"p\u0061ths":["/"]})",
           R"({"exp":1900000000,"paths":["/video/1/"],"x":{"a":1,"a":1}})",
           R"({"exp":1900000000,"paths":["/video/1/"]}x)",
           R"({"exp":1900000000,"paths":["/video/1/"]}{})",
           R"({"exp":1900000000,"paths":[["/video/1/"]]})",
           R"({"exp":1900000000,"paths":["/video/1/",7]})",
           R"({"exp":1.9e9,"paths":["/video/1/"]})",
           R"({"exp":19000000000000000000000,"paths":["/video/1/"]})",
           R"({"exp":1900000000,"paths":["/video/1/"],"ssn":"yes"})",
           R"({"exp":1900000000,"paths":"/video/1/"})", R"({"exp":1900000000,"paths":[]})",
           R"(["exp",1900000000])", R"({"exp":01900000000,"paths":["/video/1/"]})"}) {
    EXPECT_EQ(check(payload), Reason::kMalformedToken) << payload;
  }
}

TEST_F(ValidatorTest, TamperedExpiredAndNotYetValid) {
  std::string token = Issue();
  const std::string uri = "/" + token + "/video/1/a.ts";
  token[token.find('.') + 5] ^= 1;
  EXPECT_EQ(Check("/" + token + "/video/1/a.ts").reason, Reason::kBadSignature);
  EXPECT_EQ(Check(uri, "", {}, kNow + absl::Hours(1) + absl::Seconds(1)).reason, Reason::kExpired);
  EXPECT_TRUE(Check(uri, "", {}, kNow + absl::Hours(1)).allow);
  policy_.nbf = kNow + absl::Minutes(10);
  EXPECT_EQ(Check("/" + Issue() + "/video/1/a.ts").reason, Reason::kNotYetValid);
}

TEST_F(ValidatorTest, MalformedTokensNeverCrash) {
  for (const std::string t : {"", "/", "//video", "/abc", "/a.b/video/1/", "/a.b.c.d.e/video/1/x",
                              "/!!.??.**/video/1/x", "/e30.e30.e30/video/1/x",
                              "/bad$id.e30.e30.e30/video/1/x"}) {
    const Decision d = Check(t);
    EXPECT_FALSE(d.allow) << t;
  }
}

TEST_F(ValidatorTest, RevokedSessionIsDeniedByExactIdOnly) {
  policy_.ssn = true;
  ViewerAttributes viewer;
  viewer.session_id = "Sess1234567";
  const std::string uri = "/" + Issue(viewer) + "/video/1/a.ts";
  revoked_.Add("Sess123456");  // a prefix of the id: must not match
  EXPECT_TRUE(Check(uri).allow);
  revoked_.Add("Sess1234567", kNow + absl::Minutes(5));
  EXPECT_EQ(Check(uri).reason, Reason::kRevoked);
}

TEST_F(ValidatorTest, StrippedSessionIdDoesNotOpenExclusions) {
  policy_.ssn = true;
  policy_.exc = {"/video/1/ads/"};
  ViewerAttributes viewer;
  viewer.session_id = "Revoked12345";
  const std::string token = Issue(viewer);
  revoked_.Add("Revoked12345");
  EXPECT_EQ(Check("/" + token + "/video/1/ads/a.ts").reason, Reason::kRevoked);
  const std::string stripped = token.substr(token.find('.') + 1);
  EXPECT_EQ(Check("/" + stripped + "/video/1/ads/a.ts").reason, Reason::kMissingSession);
  EXPECT_EQ(Check("/Other1234567." + stripped + "/video/1/ads/a.ts").reason, Reason::kOk)
      << "a swapped id is bound by intsig only on non-excluded paths, as in SMD";
}

TEST_F(ValidatorTest, GeoFallbackSkipsOnlyGeoCheck) {
  policy_.co = true;
  policy_.co_fallback = true;
  ViewerAttributes viewer;
  viewer.co = "DE";
  const std::string geo_only = "/" + Issue(viewer) + "/video/1/a.ts";
  EXPECT_TRUE(Check(geo_only).allow);
  EXPECT_EQ(Check(geo_only, "", {{"CloudFront-Viewer-Country", "FR"}}).reason,
            Reason::kBindingMismatch);
  policy_.ssn = true;
  viewer.session_id = "abcdefgh";
  const std::string with_session = "/" + Issue(viewer) + "/video/1/a.ts";
  EXPECT_EQ(Check(with_session).reason, Reason::kGeoUnavailable);
  EXPECT_TRUE(Check(with_session, "", {{"cloudfront-viewer-country", "DE"}}).allow);
  const Decision compat = Validate({.uri = with_session}, keys_, revoked_, kNow,
                                   {.smd_geo_fallback_compat = true});
  EXPECT_TRUE(compat.allow);
}

TEST_F(ValidatorTest, CityIsVerified) {
  policy_.cty = true;
  ViewerAttributes viewer;
  viewer.cty = "Berlin";
  const std::string uri = "/" + Issue(viewer) + "/video/1/a.ts";
  EXPECT_TRUE(Check(uri, "", {{"cloudfront-viewer-city", "Berlin"}}).allow);
  EXPECT_EQ(Check(uri, "", {{"cloudfront-viewer-city", "Paris"}}).reason, Reason::kBindingMismatch);
  EXPECT_EQ(Check(uri).reason, Reason::kMissingGeo);
}

TEST_F(ValidatorTest, IntsigCheckedEvenWhenEveryBoundHeaderIsMissing) {
  policy_.headers = {"user-agent"};
  ViewerAttributes viewer;
  viewer.headers = {{"User-Agent", "player/1.0"}};
  const std::string uri = "/" + Issue(viewer) + "/video/1/a.ts";
  EXPECT_TRUE(Check(uri, "", {{"USER-AGENT", "player/1.0"}}).allow);
  EXPECT_EQ(Check(uri).reason, Reason::kBindingMismatch);
}

TEST_F(ValidatorTest, IpBindingChecksVersionAndCanonicalForm) {
  policy_.ip = true;
  ViewerAttributes viewer;
  viewer.ip = "2001:db8::1";
  const std::string uri = "/" + Issue(viewer) + "/video/1/a.ts";
  EXPECT_TRUE(Check(uri, "2001:DB8:0:0:0:0:0:1").allow);
  EXPECT_EQ(Check(uri, "2001:db8::2").reason, Reason::kBindingMismatch);
  EXPECT_EQ(Check(uri, "192.0.2.1").reason, Reason::kIpVersionMismatch);
  EXPECT_EQ(Check(uri, "").reason, Reason::kMissingViewerIp);
}

TEST_F(ValidatorTest, RetiredKeyValidatesUntilNotAfter) {
  const std::string uri = "/" + Issue() + "/video/1/a.ts";
  SigningKey retired = key_;
  retired.state = KeyState::kRetired;
  retired.not_after = kNow + absl::Minutes(1);
  keys_ = *Keyring::Create({retired});
  EXPECT_TRUE(Check(uri).allow);
  EXPECT_EQ(Check(uri, "", {}, kNow + absl::Minutes(2)).reason, Reason::kKeyExpired);
}

TEST(ReasonName, IsStableAndDistinct) {
  EXPECT_EQ(ReasonName(Reason::kBadSignature), "bad_signature");
  EXPECT_EQ(ReasonName(Reason::kGeoUnavailable), "geo_unavailable");
  EXPECT_NE(ReasonName(Reason::kMissingExp), ReasonName(Reason::kUnknownKid));
}

}  // namespace
}  // namespace edgepass::core
