#include "client/sidecar/auth_mapping.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace edgepass::sidecar {
namespace {

constexpr char kToken[] = "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjF9.c2ln";

http::Request Subrequest(std::string uri) {
  http::Request r;
  r.method = "GET";
  r.target = "/auth";
  r.headers.Add("x-original-uri", std::move(uri));
  r.headers.Add("X-Real-IP", "203.0.113.9");
  r.headers.Add("CloudFront-Viewer-Country", "DE");
  return r;
}

TEST(LooksLikeToken, WantsThreeOrFourPartsWithAJwtHeader) {
  EXPECT_TRUE(LooksLikeToken(kToken));
  EXPECT_TRUE(LooksLikeToken(std::string("sess1234.") + kToken));
  EXPECT_FALSE(LooksLikeToken("video"));
  EXPECT_FALSE(LooksLikeToken("index.v2.m3u8"));
  EXPECT_FALSE(LooksLikeToken("eyJa..c"));
  EXPECT_FALSE(LooksLikeToken("a.b.eyJa.c.d"));
}

TEST(AuthSubrequest, SplitsPathQueryAndHeaders) {
  http::Request r =
      Subrequest(std::string("/sess1234.") + kToken + "/v/1/a.ts?cid=c%2F1&x");
  AuthSubrequest sub;
  ASSERT_TRUE(AuthSubrequest::Parse(r, &sub).ok());
  EXPECT_EQ(sub.path(), std::string("/sess1234.") + kToken + "/v/1/a.ts");
  EXPECT_TRUE(sub.has_token_segment());
  EXPECT_EQ(sub.unchecked_origin_path(), "/v/1/a.ts");
  EXPECT_EQ(sub.claimed_session_id(), "sess1234");
  EXPECT_EQ(sub.client_ip(), "203.0.113.9");
  core::EdgeRequest edge = sub.edge_request();
  EXPECT_EQ(edge.uri, sub.path());
  EXPECT_EQ(edge.client_ip, "203.0.113.9");
  ASSERT_EQ(edge.query.size(), 2u);
  EXPECT_EQ(edge.query[0].first, "cid");
  EXPECT_EQ(edge.query[0].second, "c/1");
  EXPECT_EQ(edge.query[1].first, "x");
  EXPECT_EQ(edge.headers.size(), 3u);  // every header, bound or not
}

TEST(AuthSubrequest, WithoutATokenSegmentTheWholePathIsTheOrigin) {
  http::Request r = Subrequest("/v/1/a.ts");
  AuthSubrequest sub;
  ASSERT_TRUE(AuthSubrequest::Parse(r, &sub).ok());
  EXPECT_FALSE(sub.has_token_segment());
  EXPECT_EQ(sub.unchecked_origin_path(), "/v/1/a.ts");
  http::Request only_token = Subrequest(std::string("/") + kToken);
  AuthSubrequest sub2;
  ASSERT_TRUE(AuthSubrequest::Parse(only_token, &sub2).ok());
  EXPECT_EQ(sub2.unchecked_origin_path(), "/");
  EXPECT_EQ(sub2.claimed_session_id(), "");
}

TEST(AuthSubrequest, RefusesMissingHugeAndMalformedUris) {
  AuthSubrequest sub;
  http::Request none;
  absl::Status s = AuthSubrequest::Parse(none, &sub);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "X-Original-URI: missing");
  EXPECT_EQ(HttpStatusFor(s), 400);

  s = AuthSubrequest::Parse(
      Subrequest("/" + std::string(kMaxOriginalUriBytes, 'a')), &sub);
  EXPECT_EQ(s.code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(HttpStatusFor(s), 414);

  for (std::string bad :
       std::vector<std::string>{"relative/path", "http://h/p", "/a b", "/a\tb",
                                std::string("/a\0b", 4), "/a\x7f"}) {
    s = AuthSubrequest::Parse(Subrequest(bad), &sub);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(HttpStatusFor(s), 400);
  }
}

TEST(AuthResponses, CarryPathSessionAndReason) {
  http::Response ok = AllowedResponse("/v/1/a.ts", "sess1234");
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(*ok.headers.Find("x-edgepass-path"), "/v/1/a.ts");
  EXPECT_EQ(*ok.headers.Find("x-edgepass-session"), "sess1234");
  EXPECT_TRUE(ok.body.empty());
  EXPECT_EQ(AllowedResponse("/p", "").headers.Find(kSessionHeader), nullptr);

  http::Response missing = DeniedResponse(core::Reason::kMissingToken);
  EXPECT_EQ(missing.status, 401);
  EXPECT_EQ(*missing.headers.Find(kReasonHeader), "missing_token");
  http::Response expired = DeniedResponse(core::Reason::kExpired);
  EXPECT_EQ(expired.status, 403);
  EXPECT_EQ(*expired.headers.Find(kReasonHeader), "expired");

  http::Response would =
      WouldDenyResponse("/v/1/a.ts", core::Reason::kBadSignature);
  EXPECT_EQ(would.status, 200);
  EXPECT_EQ(*would.headers.Find(kPathHeader), "/v/1/a.ts");
  EXPECT_EQ(*would.headers.Find(kWouldDenyHeader), "bad_signature");
}

}  // namespace
}  // namespace edgepass::sidecar
