#include "server/api/proto_convert.h"

#include <string>

#include "gtest/gtest.h"

namespace edgepass::server {
namespace {

TEST(TokenPolicyFromProto, NamesTheFieldAtFault) {
  v1::TokenPolicy p;
  absl::StatusOr<core::TokenPolicy> r = TokenPolicyFromProto(p, absl::Hours(1), "policy.");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::string_view(r.status().message()).find("policy.paths") == 0) << r.status();

  p.add_paths("/v/");
  p.set_nbf("soon");
  EXPECT_EQ(std::string(TokenPolicyFromProto(p, absl::Hours(1), "policy.").status().message()),
            "policy.nbf: must be epoch seconds");
}

TEST(TokenPolicyFromProto, EmptyExpUsesDefaultTtl) {
  v1::TokenPolicy p;
  p.add_paths("/v/");
  p.set_ssn(true);
  absl::StatusOr<core::TokenPolicy> r = TokenPolicyFromProto(p, absl::Minutes(10), "policy.");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->exp.relative);
  EXPECT_EQ(r->exp.after, absl::Minutes(10));
  EXPECT_TRUE(r->ssn);
  v1::TokenPolicy back;
  TokenPolicyToProto(*r, &back);
  EXPECT_EQ(back.paths(0), "/v/");
  EXPECT_TRUE(back.ssn());
}

TEST(ViewerFromProto, BoundsInputs) {
  v1::Viewer v;
  (*v.mutable_headers())["user-agent"] = std::string(4097, 'a');
  EXPECT_EQ(std::string(ViewerFromProto(v, "viewer.").status().message()),
            "viewer.headers[\"user-agent\"]: longer than 4096 bytes");
  v.clear_headers();
  for (int i = 0; i <= kMaxViewerHeaders; ++i) (*v.mutable_headers())["h" + std::to_string(i)] = "v";
  EXPECT_EQ(std::string(ViewerFromProto(v, "viewer.").status().message()), "viewer.headers: more than 64 entries");
}

TEST(ViewerFromProto, MapsFields) {
  v1::Viewer v;
  v.set_ip("203.0.113.9");
  v.set_country("NL");
  v.set_region("NH");
  v.set_city("Amsterdam");
  v.set_session_id("abcdefg123");
  (*v.mutable_headers())["user-agent"] = "ua";
  (*v.mutable_query())["u"] = "1";
  absl::StatusOr<core::ViewerAttributes> a = ViewerFromProto(v, "viewer.");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->ip, "203.0.113.9");
  EXPECT_EQ(a->co, "NL");
  EXPECT_EQ(a->reg, "NH");
  EXPECT_EQ(a->cty, "Amsterdam");
  EXPECT_EQ(a->session_id, "abcdefg123");
  ASSERT_EQ(a->headers.size(), 1u);
  EXPECT_EQ(a->headers[0].second, "ua");
  ASSERT_EQ(a->qs.size(), 1u);
}

}  // namespace
}  // namespace edgepass::server
