#include "core/token_policy.h"

#include "gtest/gtest.h"

namespace edgepass::core {
namespace {

void ExpectFieldError(absl::string_view json, absl::string_view field_prefix) {
  auto p = ParseTokenPolicyJson(json, "token_policy.");
  ASSERT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument) << json;
  EXPECT_EQ(p.status().message().substr(0, field_prefix.size()), field_prefix)
      << p.status().message();
}

TEST(TokenPolicy, ParsesSmdFields) {
  auto p = ParseTokenPolicyJson(
      R"({"paths":["/out/v1/a/"],"exc":["/out/v1/a/ads/"],"exp":"+2h","nbf":"1645000000",
          "ip":true,"co":true,"co_fallback":true,"reg":true,"ssn":true,"session_auto_generate":"10",
          "headers":["user-agent"],"querystrings":["cid"],"cty_fallback":true})");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_TRUE(p->exp.relative);
  EXPECT_EQ(p->exp.after, absl::Hours(2));
  EXPECT_EQ(*p->nbf, absl::FromUnixSeconds(1645000000));
  EXPECT_EQ(p->session_auto_generate, 10);
  auto again = ParseTokenPolicyJson(TokenPolicyToJson(*p));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->paths, p->paths);
  EXPECT_EQ(again->headers, p->headers);
}

TEST(TokenPolicy, NamesTheFieldAtFault) {
  ExpectFieldError(R"({"exp":"+2h"})", "token_policy.paths:");
  ExpectFieldError(R"({"paths":["video/"],"exp":"+2h"})", "token_policy.paths[0]:");
  ExpectFieldError(R"({"paths":["/a/","/b/../c/"],"exp":"+2h"})", "token_policy.paths[1]:");
  ExpectFieldError(R"({"paths":["/a/"]})", "token_policy.exp:");
  ExpectFieldError(R"({"paths":["/a/"],"exp":"+2d"})", "token_policy.exp:");
  ExpectFieldError(R"({"paths":["/a/"],"exp":"+h"})", "token_policy.exp:");
  ExpectFieldError(R"({"paths":["/a/"],"exp":"-5"})", "token_policy.exp:");
  ExpectFieldError(R"({"paths":["/a/"],"exp":"+2h","ip":"yes"})", "token_policy.ip:");
  ExpectFieldError(R"({"paths":["/a/"],"exp":"+2h","co_fallback":true})", "token_policy.co_fallback:");
  ExpectFieldError(R"({"paths":["/a/"],"exp":"+2h","session_auto_generate":3})",
                   "token_policy.session_auto_generate:");
  ExpectFieldError(R"({"paths":["/a/"],"exp":"+2h","headers":["bad header"]})", "token_policy.headers[0]:");
  ExpectFieldError(R"({"paths":["/a/"],"exp":"+2h","pathz":[]})", "token_policy.pathz:");
  ExpectFieldError(R"({"paths":["/a/"],"exp":"1700000000","nbf":"1800000000"})", "token_policy.nbf:");
  ExpectFieldError(R"([1,2])", "token_policy:");
  ExpectFieldError(R"({"paths":)", "token_policy:");
}

TEST(TokenPolicy, RejectsOversizedInput) {
  std::string big = R"({"paths":["/)" + std::string(70000, 'a') + R"("],"exp":"+1h"})";
  EXPECT_EQ(ParseTokenPolicyJson(big).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace edgepass::core
