#include "core/token_claims.h"

#include <random>
#include <string>
#include <vector>

#include "core/token_claims_snapshot_internal.h"
#include "gtest/gtest.h"

namespace edgepass::core::internal {
namespace {

using Snapshot = ClaimsSnapshot;

constexpr absl::string_view kIssued =
    R"({"exp":1767240000,"ip":true,"co":false,"ssn":true,"headers":["user-agent","referer"],)"
    R"("intsig":"mB7pX0W7l3hYy3hA0b1G8o3m5cQmQ7n8p9q0r1s2t3u","paths":["/video/1/","/video/2/"],)"
    R"("exc":[],"ip_ver":4,"iat":1767225600})";

TEST(TokenClaims, ScansAnIssuedPayloadWithoutTheFullParser) {
  TokenClaims claims;
  EXPECT_EQ(claims.Scan(kIssued), ScanResult::kParsed);
  EXPECT_EQ(claims.type(Claim::kExp), ClaimType::kInteger);
  EXPECT_EQ(claims.integer(Claim::kExp), 1767240000);
  EXPECT_TRUE(claims.boolean(Claim::kIp));
  EXPECT_EQ(claims.type(Claim::kCo), ClaimType::kBool);
  EXPECT_FALSE(claims.boolean(Claim::kCo));
  EXPECT_EQ(claims.type(Claim::kNbf), ClaimType::kAbsent);
  ASSERT_EQ(claims.list(Claim::kPaths).size(), 2u);
  EXPECT_EQ(claims.list(Claim::kPaths)[1], "/video/2/");
  EXPECT_EQ(claims.type(Claim::kExc), ClaimType::kStringList);
  EXPECT_TRUE(claims.list(Claim::kExc).empty());
  EXPECT_EQ(claims.list(Claim::kHeaders)[0], "user-agent");
  EXPECT_EQ(claims.string(Claim::kIntsig), "mB7pX0W7l3hYy3hA0b1G8o3m5cQmQ7n8p9q0r1s2t3u");
  EXPECT_EQ(ReadFast(kIssued), ReadFull(kIssued));

  EXPECT_TRUE(claims.Parse(kIssued));
  EXPECT_FALSE(claims.used_full_parser());
}

TEST(TokenClaims, DuplicateKeysAreMalformedOnBothPaths) {
  for (absl::string_view json :
       {R"({"exp":1,"exp":2})", R"({"iat":1,"paths":[],"iat":1})", R"({"exp":1,"e\u0078p":2})",
        R"({"exp":1,"x":{"a":1,"a":2}})", R"({"paths":["/a/"],"exp":1,"paths":["/b/"]})"}) {
    TokenClaims claims;
    EXPECT_FALSE(claims.Parse(json)) << json;
    EXPECT_FALSE(claims.ParseWithFullParser(json)) << json;
  }
  ScanResult r;
  ReadFast(R"({"exp":1,"exp":2})", &r);
  EXPECT_EQ(r, ScanResult::kDuplicateKey);
  ReadFast(R"({"a":1,"b":2,"a":3})", &r);
  EXPECT_EQ(r, ScanResult::kDuplicateKey);
}

TEST(TokenClaims, WrongTypesAreReportedAsTheirType) {
  const Snapshot s = ReadFast(
      R"({"exp":"1767240000","nbf":null,"paths":"/video/","ip":1,"ssn":"true","intsig":7})");
  ASSERT_TRUE(s.parsed);
  EXPECT_EQ(s.types[static_cast<size_t>(Claim::kExp)], ClaimType::kString);
  EXPECT_EQ(s.types[static_cast<size_t>(Claim::kNbf)], ClaimType::kNull);
  EXPECT_EQ(s.types[static_cast<size_t>(Claim::kPaths)], ClaimType::kString);
  EXPECT_EQ(s.types[static_cast<size_t>(Claim::kIp)], ClaimType::kInteger);
  EXPECT_EQ(s.types[static_cast<size_t>(Claim::kSsn)], ClaimType::kString);
  EXPECT_EQ(s.types[static_cast<size_t>(Claim::kIntsig)], ClaimType::kInteger);

  // Mixed arrays, fractions and objects are kOther, via the full parser.
  for (absl::string_view json : {R"({"paths":["/a/",1]})", R"({"exp":1.5})", R"({"exp":1e9})",
                                 R"({"paths":{"a":"/a/"}})", R"({"paths":[["/a/"]]})"}) {
    ScanResult r;
    ReadFast(json, &r);
    EXPECT_EQ(r, ScanResult::kUnsupported) << json;
    TokenClaims claims;
    ASSERT_TRUE(claims.Parse(json)) << json;
    EXPECT_TRUE(claims.used_full_parser());
    EXPECT_TRUE(claims.type(Claim::kExp) == ClaimType::kOther ||
                claims.type(Claim::kPaths) == ClaimType::kOther)
        << json;
  }
}

TEST(TokenClaims, EscapesAndUnicodeFallBackToTheFullParser) {
  for (absl::string_view json :
       {R"({"exp":1,"paths":["/v\/1/"]})", R"({"exp":1,"paths":["/v\u00e9/"]})",
        "{\"exp\":1,\"paths\":[\"/v\xc3\xa9/\"]}", "{\"exp\":1,\"sub\":\"\xf0\x9f\x8e\xac\"}",
        "\xef\xbb\xbf{\"exp\":1}"}) {
    ScanResult r;
    ReadFast(json, &r);
    EXPECT_EQ(r, ScanResult::kUnsupported) << json;
    TokenClaims claims;
    ASSERT_TRUE(claims.Parse(json)) << json;
    EXPECT_TRUE(claims.used_full_parser());
    EXPECT_EQ(claims.integer(Claim::kExp), 1);
  }
  TokenClaims claims;
  ASSERT_TRUE(claims.Parse(R"({"exp":1,"paths":["/v\/1/","/\u00e9/"]})"));
  ASSERT_EQ(claims.list(Claim::kPaths).size(), 2u);
  EXPECT_EQ(claims.list(Claim::kPaths)[0], "/v/1/");
  EXPECT_EQ(claims.list(Claim::kPaths)[1], "/\xc3\xa9/");
  // Invalid UTF-8 is refused by the full parser.
  EXPECT_FALSE(claims.Parse("{\"exp\":1,\"paths\":[\"/\xc3/\"]}"));
  EXPECT_FALSE(claims.Parse("{\"exp\":1,\"paths\":[\"/\xff/\"]}"));
}

TEST(TokenClaims, HugeNumbersMatchTheFullParser) {
  for (absl::string_view json :
       {R"({"exp":999999999999999999})", R"({"exp":-999999999999999999})",
        R"({"exp":9223372036854775807})", R"({"exp":-9223372036854775808})",
        R"({"exp":18446744073709551615})", R"({"exp":18446744073709551616})",
        R"({"exp":123456789012345678901234567890})", R"({"exp":-0})", R"({"exp":0})"}) {
    EXPECT_EQ(ReadParse(json), ReadFull(json)) << json;
    EXPECT_TRUE(ReadParse(json).parsed) << json;
  }
  EXPECT_EQ(ReadFast(R"({"exp":999999999999999999})").integers[0], 999999999999999999);
  EXPECT_EQ(ReadFull(R"({"exp":123456789012345678901234567890})").types[0], ClaimType::kOther);
  // Past INT64_MAX an integer used to wrap negative (an nbf of 2^63 made a
  // token valid at once); it is no int64 at all.
  for (absl::string_view json : {R"({"exp":9223372036854775808})", R"({"exp":18446744073709551615})"}) {
    EXPECT_EQ(ReadParse(json).types[0], ClaimType::kOther) << json;
  }
  EXPECT_EQ(ReadParse(R"({"exp":9223372036854775807})").types[0], ClaimType::kInteger);
}

TEST(TokenClaims, RefusesWhatIsNotOneJsonObject) {
  for (absl::string_view json : std::initializer_list<absl::string_view>{
           "", " ", "[]", "\"exp\"", "1", "null", "{", "}", R"({"exp":1}x)", R"({"exp":1}{})",
        R"({"exp":1,})", R"({,"exp":1})", R"({"exp" 1})", R"({"exp":})", R"({"exp":01})",
        R"({"exp":-})", R"({"exp":tru})", R"({"exp":truex})", R"({"exp":nul})", R"({exp:1})",
        R"({'exp':1})", R"({"paths":["/a/",]})", R"({"paths":["/a/" "/b/"]})", R"({"paths":[)",
        "{\"exp\":1,\"sub\":\"a\tb\"}", absl::string_view("{\"exp\":1}\0", 10),
        R"({"exp":1 /* c */})", R"({"a":"x)"}) {
    EXPECT_FALSE(ReadParse(json).parsed) << json;
    EXPECT_FALSE(ReadFull(json).parsed) << json;
  }
  for (absl::string_view json : {" \t\r\n{ \"exp\" : 1 , \"paths\" : [ \"/a/\" , \"/b/\" ] } \n",
                                 "{}", R"({"exp":null,"ip":false,"x":[],"y":"\u0000"})"}) {
    EXPECT_TRUE(ReadParse(json).parsed) << json;
    EXPECT_EQ(ReadParse(json), ReadFull(json)) << json;
  }
}

TEST(TokenClaims, ManyUnknownKeysStillDetectDuplicates) {
  std::string json = "{";
  for (int i = 0; i < 40; ++i) json += "\"k" + std::to_string(i) + "\":" + std::to_string(i) + ",";
  EXPECT_TRUE(ReadParse(json + R"("exp":1})").parsed);
  EXPECT_FALSE(ReadParse(json + R"("k3":1})").parsed);
}

// The scanner and the full parser must agree on every input: random edits of
// real payloads (deterministic seed) exercise the boundaries between them.
TEST(TokenClaims, ScannerAgreesWithFullParserOnMutatedPayloads) {
  const std::vector<std::string> seeds = {
      std::string(kIssued),
      R"({"exp":1800000000,"nbf":1700000000,"paths":["/live/ch1"],"co":true,"co_fallback":true,)"
      R"("reg":true,"reg_fallback":false,"cty":true,"qs":["a","b"]})",
      R"({ "exp" : -12 , "ip" : null , "paths" : [ ] , "sub" : "x y" })"};
  const std::string alphabet =
      std::string("{}[]\",:-0123456789.eE+ \t\ntruefalsn\\/u\x01\x7f\xc3\xa9xyz") +
      std::string(1, '\0');
  std::mt19937 rng(20260101);
  int fast = 0;
  for (int iteration = 0; iteration < 6000; ++iteration) {
    std::string json = seeds[iteration % seeds.size()];
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits && !json.empty(); ++e) {
      const size_t at = rng() % json.size();
      const char c = alphabet[rng() % alphabet.size()];
      switch (rng() % 3) {
        case 0: json[at] = c; break;
        case 1: json.insert(json.begin() + static_cast<std::ptrdiff_t>(at), c); break;
        default: json.erase(at, 1); break;
      }
    }
    ScanResult r;
    const Snapshot scanned = ReadFast(json, &r);
    if (r == ScanResult::kParsed) ++fast;
    ASSERT_EQ(ReadParse(json), ReadFull(json)) << json;
    if (r != ScanResult::kUnsupported) {
      ASSERT_EQ(scanned.parsed, ReadFull(json).parsed) << json;
    }
  }
  EXPECT_GT(fast, 300) << "the mutations should leave many payloads on the fast path";
}

}  // namespace
}  // namespace edgepass::core::internal
