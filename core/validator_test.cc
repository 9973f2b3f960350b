#include "core/validator.h"

#include <string>
#include <tuple>
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
                 std::vector<NameValue> headers = {}, absl::Time now = kNow,
                 std::vector<NameValue> query = {}) {
    headers_ = std::move(headers);
    query_ = std::move(query);
    return Validate({.uri = uri, .client_ip = ip, .headers = headers_, .query = query_}, keys_,
                    revoked_, now);
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
  std::vector<NameValue> query_;
};

TEST_F(ValidatorTest, AllowsAndStripsTokenSegment) {
  const std::string uri = "/" + Issue() + "/video/1/index.m3u8";  // d.path views into it
  const Decision d = Check(uri);
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

// Servlet-style origins drop ";params" from a segment before resolving dot
// segments, and some servers decode twice or accept "%u" and overlong UTF-8.
TEST_F(ValidatorTest, RefusesSegmentsThatBecomeDotSegmentsDownstream) {
  const std::string t = "/" + Issue();
  for (const char* path :
       {"/video/1/..;/2/a.ts", "/video/1/.;/a.ts", "/video/1/..;jsessionid=x/2/a.ts",
        "/video/1/..;a=b;c=d/2/a.ts", "/video/1/..%3b/2/a.ts", "/video/1/;x/a.ts",
        "/video/1/x/..;", "/video/1/%252e%252e/2/a.ts", "/video/1/%252E./a.ts",
        "/video/1/..%252f2/a.ts", "/video/1/%255c../a.ts", "/video/1/%25%32%65%25%32%65/a.ts",
        "/video/1/%25u002e/a.ts", "/video/1/%u002e%u002e/2/a.ts", "/video/1/%U002E/a.ts",
        "/video/1/%c0%ae%c0%ae/2/a.ts", "/video/1/%c0%af../a.ts", "/video/1/%e0%80%ae/a.ts",
        "/video/1/%ed%a0%80.ts", "/video/1/%f4%90%80%80.ts", "/video/1/%c3.ts", "/video/1/%80.ts",
        "/video/1/\xc0\xae\xc0\xae/2/a.ts", "/video/1/a.ts%", "/video/1/a.ts%2",
        "/video/1/a%zz.ts", "/video/1/a%7f.ts", "/video/1/a%0a.ts"}) {
    EXPECT_EQ(Check(t + path).reason, Reason::kUnsafePath) << path;
    EXPECT_FALSE(IsSafePath(path)) << path;
  }
  // What stays allowed: params on a real segment, UTF-8, an encoded '%' that
  // starts no escape, a trailing '/'.
  for (const char* path : {"/video/1/a.ts;v=1", "/video/1/..a/b.ts", "/video/1/.hidden.ts",
                           "/video/1/caf%C3%A9.ts", "/video/1/caf\xc3\xa9.ts",
                           "/video/1/100%25.ts", "/video/1/%25zz.ts", "/video/1/"}) {
    EXPECT_EQ(Check(t + path).reason, Reason::kOk) << path;
  }
}

TEST_F(ValidatorTest, ExclusionsRefuseSemicolonDotSegments) {
  policy_.exc = {"/video/1/ads/"};
  const std::string t = "/" + Issue();
  EXPECT_TRUE(Check(t + "/video/1/ads/a.ts").allow);
  for (const char* path : {"/video/1/ads/..;/..;/2/a.ts", "/video/1/ads/%252e%252e/x.ts",
                           "/video/1/ads/%c0%ae%c0%ae/x.ts"}) {
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

// Time claims past int64 used to wrap negative: an nbf of 2^63 made the token
// valid at once. Anything outside [1970, 9999] is malformed, on both parser
// paths (a "\/" escape sends the payload to the full parser).
TEST_F(ValidatorTest, TimeClaimsOutsideSaneRangeAreMalformed) {
  const auto check = [&](absl::string_view claims, bool full_parser) {
    const std::string path = full_parser ? R"(["\/video\/1\/"])" : R"(["/video/1/"])";
    return Check("/" + Forge(Header(), absl::StrCat(R"({"paths":)", path, ",", claims, "}")) +
                 "/video/1/a.ts")
        .reason;
  };
  for (bool full : {false, true}) {
    SCOPED_TRACE(full ? "full parser" : "scanner");
    EXPECT_EQ(check(R"("exp":1900000000,"nbf":1700000000,"iat":1700000000)", full), Reason::kOk);
    EXPECT_EQ(check(R"("exp":253402300799)", full), Reason::kOk);  // 9999-12-31T23:59:59Z
    for (absl::string_view claims : {
             R"("exp":1900000000,"nbf":9223372036854775808)",
             R"("exp":1900000000,"nbf":18446744073709551615)",
             R"("exp":1900000000,"nbf":9223372036854775807)",
             R"("exp":1900000000,"nbf":-9223372036854775808)",
             R"("exp":18446744073709551615)", R"("exp":9223372036854775807)",
             R"("exp":253402300800)", R"("exp":-1)", R"("exp":1900000000,"iat":-1)",
             R"("exp":1900000000,"iat":253402300800)", R"("exp":1900000000,"iat":"now")",
             R"("exp":1900000000,"iat":1.5)", R"("exp":1900000000,"nbf":-1)"}) {
      EXPECT_EQ(check(claims, full), Reason::kMalformedToken) << claims;
    }
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

// DESIGN.md and SMD: an exclusion allows before any binding is checked, so a
// session-bound token opens the exclusions without its session id; the
// revocation of a session id it does carry is checked first.
TEST_F(ValidatorTest, ExclusionsAllowBeforeBindingsButAfterRevocation) {
  policy_.ssn = true;
  policy_.exc = {"/video/1/ads/"};
  ViewerAttributes viewer;
  viewer.session_id = "Revoked12345";
  const std::string token = Issue(viewer);
  const std::string stripped = token.substr(token.find('.') + 1);
  EXPECT_EQ(Check("/" + stripped + "/video/1/ads/a.ts").reason, Reason::kOk);
  EXPECT_EQ(Check("/" + stripped + "/video/1/a.ts").reason, Reason::kMissingSession);
  revoked_.Add("Revoked12345");
  EXPECT_EQ(Check("/" + token + "/video/1/ads/a.ts").reason, Reason::kRevoked);
  EXPECT_EQ(Check("/" + token + "/video/1/a.ts").reason, Reason::kRevoked);
  EXPECT_EQ(Check("/Other1234567." + stripped + "/video/1/ads/a.ts").reason, Reason::kOk)
      << "a swapped id is bound by intsig only on non-excluded paths, as in SMD";
  EXPECT_EQ(Check("/Other1234567." + stripped + "/video/1/a.ts").reason,
            Reason::kBindingMismatch);
}

// Revocation comes before the exclusions and the path checks.
TEST_F(ValidatorTest, RevokedSessionOpensNoExclusion) {
  policy_.exc = {"/video/1/ads/"};
  policy_.ssn = true;
  ViewerAttributes viewer;
  viewer.session_id = "Revoked99999";
  const std::string token = Issue(viewer);
  revoked_.Add("Revoked99999");
  for (const char* path : {"/video/1/ads/a.ts", "/video/1/ads/", "/video/1/a.ts"}) {
    EXPECT_EQ(Check("/" + token + path).reason, Reason::kRevoked) << path;
  }
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

// The fallback covers geo-only bindings: country present, region missing.
TEST_F(ValidatorTest, RegionFallbackCoversGeoOnlyBindings) {
  policy_.co = true;
  policy_.reg = true;
  policy_.reg_fallback = true;
  ViewerAttributes viewer;
  viewer.co = "US";
  viewer.reg = "CA";
  const std::string uri = "/" + Issue(viewer) + "/video/1/a.ts";
  EXPECT_TRUE(Check(uri, "", {{"CloudFront-Viewer-Country", "US"},
                              {"CloudFront-Viewer-Country-Region", "CA"}}).allow);
  EXPECT_EQ(Check(uri, "", {{"CloudFront-Viewer-Country", "US"}}).reason, Reason::kOk);
  EXPECT_EQ(Check(uri, "", {{"CloudFront-Viewer-Country", "US"},
                            {"CloudFront-Viewer-Country-Region", "NY"}}).reason,
            Reason::kBindingMismatch);
  EXPECT_EQ(Check(uri, "", {{"CloudFront-Viewer-Country-Region", "CA"}}).reason,
            Reason::kMissingGeo);  // no co_fallback
}

// A token binding IP with co + co_fallback: without the country header the
// intsig cannot be checked, so another IP must not get through.
TEST_F(ValidatorTest, CountryFallbackWithIpBindingIsGeoUnavailable) {
  policy_.ip = true;
  policy_.co = true;
  policy_.co_fallback = true;
  ViewerAttributes viewer;
  viewer.ip = "203.0.113.9";
  viewer.co = "DE";
  const std::string uri = "/" + Issue(viewer) + "/video/1/a.ts";
  EXPECT_TRUE(Check(uri, "203.0.113.9", {{"CloudFront-Viewer-Country", "DE"}}).allow);
  EXPECT_EQ(Check(uri, "198.51.100.7").reason, Reason::kGeoUnavailable);
  EXPECT_EQ(Check(uri, "203.0.113.9").reason, Reason::kGeoUnavailable);
  EXPECT_EQ(Check(uri, "198.51.100.7", {{"CloudFront-Viewer-Country", "DE"}}).reason,
            Reason::kBindingMismatch);
}

// A bound value sent twice: the validator would read one, the origin maybe
// the other.
TEST_F(ValidatorTest, DuplicateBoundParametersAreRefused) {
  policy_.querystrings = {"uid"};
  policy_.headers = {"x-device"};
  policy_.co = true;
  ViewerAttributes viewer;
  viewer.qs = {{"uid", "123"}};
  viewer.headers = {{"x-device", "tv"}};
  viewer.co = "US";
  const std::string uri = "/" + Issue(viewer) + "/video/1/a.ts";
  const std::vector<NameValue> headers = {{"X-Device", "tv"}, {"CloudFront-Viewer-Country", "US"}};
  EXPECT_TRUE(Check(uri, "", headers, kNow, {{"uid", "123"}, {"other", "1"}, {"other", "2"}}).allow);
  EXPECT_EQ(Check(uri, "", headers, kNow, {{"uid", "123"}, {"uid", "456"}}).reason,
            Reason::kDuplicateBinding);
  EXPECT_EQ(Check(uri, "", headers, kNow, {{"uid", "123"}, {"uid", "123"}}).reason,
            Reason::kDuplicateBinding);
  EXPECT_EQ(Check(uri, "", headers, kNow, {{"uid", ""}, {"uid", "123"}}).reason,
            Reason::kDuplicateBinding);
  EXPECT_EQ(Check(uri, "", {{"X-Device", "tv"}, {"x-device", "phone"},
                            {"CloudFront-Viewer-Country", "US"}},
                  kNow, {{"uid", "123"}}).reason,
            Reason::kDuplicateBinding);
  EXPECT_EQ(Check(uri, "", {{"X-Device", "tv"}, {"CloudFront-Viewer-Country", "US"},
                            {"cloudfront-viewer-country", "FR"}},
                  kNow, {{"uid", "123"}}).reason,
            Reason::kDuplicateBinding);
  EXPECT_EQ(ReasonName(Reason::kDuplicateBinding), "duplicate_binding");
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

// SMD's SDK signs an IPv6 address in the case it was given ("2001:0DB8:...").
TEST_F(ValidatorTest, AcceptsIpv6SignedInUpperCaseBySmdSdk) {
  const auto token_for = [&](absl::string_view signed_ip) {
    const std::string intsig = Base64UrlEncode(HmacSha256(key_.value, signed_ip));
    return "/" +
           Forge(Header(), absl::StrCat(R"({"ip":true,"ip_ver":6,"exp":1900000000,"intsig":")",
                                        intsig, R"(","paths":["/video/1/"]})")) +
           "/video/1/a.ts";
  };
  const std::string upper = token_for("2001:0DB8:0000:0000:0000:0000:0000:00AB");
  EXPECT_TRUE(Check(upper, "2001:db8::ab").allow);
  EXPECT_TRUE(Check(upper, "2001:DB8::AB").allow);
  EXPECT_EQ(Check(upper, "2001:db8::ac").reason, Reason::kBindingMismatch);
  EXPECT_EQ(Check(token_for("2001:0Db8:0000:0000:0000:0000:0000:00aB"), "2001:db8::ab").reason,
            Reason::kBindingMismatch);  // mixed case is no canonical form
  EXPECT_TRUE(Check(token_for("2001:0db8:0000:0000:0000:0000:0000:00ab"), "2001:db8::ab").allow);
}

// A correctly signed token that binds viewer attributes but carries no intsig.
TEST_F(ValidatorTest, BindingsWithoutIntsigAreMismatch) {
  for (absl::string_view claims : {R"("ip":true,"ip_ver":4)", R"("ssn":true)",
                                   R"("headers":["user-agent"])", R"("co":true)"}) {
    const std::string uri =
        "/Sess12345678." +
        Forge(Header(), absl::StrCat(R"({"exp":1900000000,"paths":["/video/1/"],)", claims, "}")) +
        "/video/1/a.ts";
    EXPECT_EQ(Check(uri, "203.0.113.9", {{"user-agent", "p"}, {"cloudfront-viewer-country", "US"}})
                  .reason,
              Reason::kBindingMismatch)
        << claims;
  }
}

// The JWT header is read as strictly as the payload.
TEST_F(ValidatorTest, JwtHeaderDuplicateKeysAndTrailingBytesAreMalformed) {
  const std::string payload = R"({"exp":1900000000,"paths":["/video/1/"]})";
  const std::string kid = absl::StrCat(R"("kid":")", key_.id, R"(")");
  for (const std::string& header : {
           absl::StrCat(R"({"alg":"HS256","alg":"none",)", kid, "}"),
           absl::StrCat(R"({"alg":"none","alg":"HS256",)", kid, "}"),
           absl::StrCat(R"({"alg":"HS256","kid":"other",)", kid, "}"),
           absl::StrCat(R"({"alg":"HS256",)", kid, "}x"),
           absl::StrCat(R"({"alg":"HS256",)", kid, "}{}"),
           absl::StrCat(R"({"alg":"HS256",)", kid, "}", std::string(1, '\0'), "junk"),
           absl::StrCat(R"({"alg":"HS256",)", kid, R"(,"x":{"a":1,"a":2}})")}) {
    EXPECT_EQ(Check("/" + Forge(header, payload) + "/video/1/a.ts").reason,
              Reason::kMalformedToken)
        << header;
  }
  EXPECT_EQ(Check("/" + Forge(absl::StrCat(R"( {"typ":"JWT", "alg":"HS256",)", kid, "} "),
                              payload) + "/video/1/a.ts").reason,
            Reason::kOk);
}

// The alg check, apart from DistinctReasonsForHostileHeadersAndClaims.
TEST_F(ValidatorTest, OnlyExactHs256IsAccepted) {
  const std::string payload = R"({"exp":1900000000,"paths":["/video/1/"]})";
  for (absl::string_view alg : {R"("hs256")", R"("HS256 ")", R"("RS256")", R"(null)", R"(256)",
                                R"(["HS256"])"}) {
    const std::string header = absl::StrCat(R"({"alg":)", alg, R"(,"kid":")", key_.id, R"("})");
    EXPECT_EQ(Check("/" + Forge(header, payload) + "/video/1/a.ts").reason,
              Reason::kUnsupportedAlg)
        << alg;
  }
  EXPECT_EQ(Check("/" + Forge(absl::StrCat(R"({"kid":")", key_.id, R"("})"), payload) +
                  "/video/1/a.ts").reason,
            Reason::kUnsupportedAlg);
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

// A retired key next to the primary: tokens it signed validate up to
// not_after (inclusive), whatever the token's own exp says.
TEST_F(ValidatorTest, RetiredKeyBesidePrimaryStopsAtNotAfter) {
  const std::string old_uri = "/" + Issue() + "/video/1/a.ts";
  SigningKey retired = key_;
  retired.state = KeyState::kRetired;
  retired.not_after = kNow + absl::Minutes(30);
  const SigningKey primary{.id = "20300101_0123456789abcdef0123",
                           .value = std::string(128, 'b'), .state = KeyState::kPrimary};
  keys_ = *Keyring::Create({primary, retired});
  EXPECT_TRUE(Check(old_uri, "", {}, kNow + absl::Minutes(30)).allow);
  EXPECT_EQ(Check(old_uri, "", {}, kNow + absl::Minutes(30) + absl::Seconds(1)).reason,
            Reason::kKeyExpired);
  key_ = primary;
  EXPECT_TRUE(Check("/" + Issue() + "/video/1/a.ts", "", {}, kNow + absl::Minutes(45)).allow);
}

// The trace shows the string the issuer signed (IssuedToken::intsig_input) and
// each bound attribute, and never changes the decision.
TEST_F(ValidatorTest, TraceGivesTheViewerAttributeStringAndTheSameDecision) {
  policy_.ip = true;
  policy_.ssn = true;
  policy_.headers = {"user-agent", "x-device"};
  auto t = IssueToken(policy_, {.ip = "203.0.113.9", .headers = {{"user-agent", "ua1"}}}, key_,
                      kNow, random_);
  ASSERT_TRUE(t.ok()) << t.status();
  const std::string uri = "/" + t->token + "/video/1/a.ts";
  for (const auto& [ip, ua, reason] :
       {std::tuple{"203.0.113.9", "ua1", Reason::kOk},
        std::tuple{"203.0.113.10", "ua1", Reason::kBindingMismatch},
        std::tuple{"", "ua1", Reason::kMissingViewerIp}}) {
    const std::vector<NameValue> headers = {{"User-Agent", ua}};
    const EdgeRequest request{.uri = uri, .client_ip = ip, .headers = headers};
    ValidateTrace trace;
    const Decision traced = ValidateTraced(request, keys_, revoked_.view(), kNow, {}, &trace);
    const Decision plain = Validate(request, keys_, revoked_, kNow);
    EXPECT_EQ(traced.reason, reason) << ip;
    EXPECT_EQ(plain.reason, reason) << ip;
    EXPECT_TRUE(trace.reached_bindings);
    if (reason == Reason::kMissingViewerIp) {
      ASSERT_EQ(trace.parts.size(), 1u);
      EXPECT_FALSE(trace.parts[0].present);
      continue;
    }
    EXPECT_EQ(trace.viewer_attributes,
              absl::StrCat(ip, ":", t->session_id, ":ua1"));
    if (reason == Reason::kOk) EXPECT_EQ(trace.viewer_attributes, t->intsig_input);
    EXPECT_TRUE(trace.intsig_checked);
    EXPECT_EQ(trace.intsig_matched, reason == Reason::kOk);
    ASSERT_EQ(trace.parts.size(), 4u);
    EXPECT_EQ(trace.parts[0].name, "ip");
    EXPECT_EQ(trace.parts[1].name, "ssn");
    EXPECT_EQ(trace.parts[2].name, "header:user-agent");
    EXPECT_EQ(trace.parts[3].name, "header:x-device");
    EXPECT_FALSE(trace.parts[3].present);
  }
  // Refused before the bindings: nothing traced.
  ValidateTrace trace;
  const EdgeRequest early{.uri = uri, .client_ip = "203.0.113.9"};
  EXPECT_EQ(ValidateTraced(early, keys_, revoked_.view(), kNow + absl::Hours(2), {}, &trace).reason,
            Reason::kExpired);
  EXPECT_FALSE(trace.reached_bindings);
  EXPECT_TRUE(trace.viewer_attributes.empty());
}

TEST(ReasonName, IsStableAndDistinct) {
  EXPECT_EQ(ReasonName(Reason::kBadSignature), "bad_signature");
  EXPECT_EQ(ReasonName(Reason::kGeoUnavailable), "geo_unavailable");
  EXPECT_NE(ReasonName(Reason::kMissingExp), ReasonName(Reason::kUnknownKid));
}

}  // namespace
}  // namespace edgepass::core
