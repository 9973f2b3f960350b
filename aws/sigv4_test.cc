// Signer behaviour the emulator cannot check: the signing time and the
// credential scope (date and region) are part of what is signed.
#include "aws/sigv4.h"

#include "absl/strings/match.h"
#include "absl/time/time.h"
#include "aws/json_request.h"
#include "gtest/gtest.h"

namespace edgepass::aws {
namespace {

const Credentials kKeys{.access_key_id = "AKIDEXAMPLE",
                        .secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"};

SigV4Result Sign(const std::string& region, absl::Time time, HttpRequest* out = nullptr) {
  HttpRequest request = JsonProtocolRequest("secretsmanager.us-east-1.amazonaws.com",
                                            "secretsmanager.GetSecretValue", "{}");
  SigV4Result r = SignRequest(kKeys, {.region = region, .service = "secretsmanager", .time = time},
                              &request);
  if (out != nullptr) *out = request;
  return r;
}

TEST(SigV4, DateHeaderAndScopeComeFromTheSigningTime) {
  HttpRequest request;
  SigV4Result r = Sign("us-east-1", absl::FromUnixSeconds(1704153599), &request);  // 23:59:59Z
  EXPECT_EQ(*request.FindHeader("X-Amz-Date"), "20240101T235959Z");
  EXPECT_TRUE(absl::StrContains(r.authorization, "/20240101/us-east-1/secretsmanager/aws4_request"));
}

TEST(SigV4, ScopeDateFollowsTheUtcDayNotTheLocalOne) {
  SigV4Result before = Sign("us-east-1", absl::FromUnixSeconds(1704153599));
  SigV4Result after = Sign("us-east-1", absl::FromUnixSeconds(1704153600));  // 2024-01-02T00:00Z
  EXPECT_TRUE(absl::StrContains(after.authorization, "/20240102/"));
  EXPECT_NE(before.signature, after.signature);
}

TEST(SigV4, SkewedClockSignsADifferentRequest) {
  // A server that is 5 minutes ahead recomputes with its own X-Amz-Date only
  // if we send it; the signature depends on the time, so a skewed client
  // clock can never pass by accident.
  absl::Time t = absl::FromUnixSeconds(1704067200);
  EXPECT_NE(Sign("us-east-1", t).signature, Sign("us-east-1", t + absl::Minutes(5)).signature);
  EXPECT_EQ(Sign("us-east-1", t).signature, Sign("us-east-1", t).signature);
}

TEST(SigV4, RegionIsPartOfTheScopeAndTheKey) {
  absl::Time t = absl::FromUnixSeconds(1704067200);
  SigV4Result east = Sign("us-east-1", t);
  SigV4Result west = Sign("eu-west-1", t);
  EXPECT_TRUE(absl::StrContains(west.string_to_sign, "\n20240101/eu-west-1/secretsmanager/"));
  // Same canonical request, different scope and derived key.
  EXPECT_EQ(east.canonical_request, west.canonical_request);
  EXPECT_NE(east.signature, west.signature);
}

TEST(SigV4, SessionTokenIsSignedAndSent) {
  Credentials temp = kKeys;
  temp.session_token = "TOKEN";
  HttpRequest request = JsonProtocolRequest("h", "t", "{}");
  SigV4Result r = SignRequest(
      temp, {.region = "us-east-1", .service = "sts", .time = absl::UnixEpoch()}, &request);
  EXPECT_TRUE(absl::StrContains(r.canonical_request, "x-amz-security-token:TOKEN\n"));
  EXPECT_TRUE(absl::StrContains(r.authorization, "x-amz-security-token"));
}

TEST(SigV4, DebugStringNeverShowsTheSecret) {
  Credentials temp = kKeys;
  temp.session_token = "TOKEN";
  EXPECT_FALSE(absl::StrContains(temp.DebugString(), temp.secret_access_key));
  EXPECT_FALSE(absl::StrContains(temp.DebugString(), "TOKEN"));
}

TEST(SigV4, UriEncodeKeepsOnlyUnreserved) {
  EXPECT_EQ(UriEncode("a b/c~-._+=", false), "a%20b%2Fc~-._%2B%3D");
  EXPECT_EQ(UriEncode("/a b/", true), "/a%20b/");
}

}  // namespace
}  // namespace edgepass::aws
