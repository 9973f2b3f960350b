#include "core/token_issuer.h"

#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_join.h"
#include "core/crypto.h"
#include "core/ip_address.h"
#include "core/test_util_internal.h"
#include "core/url_query.h"
#include "gtest/gtest.h"

namespace edgepass::core {
namespace {

using testing::CountingRandom;

const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);

TEST(IssueToken, GeneratesSessionIdOfPolicyLengthFromAlphabet) {
  CountingRandom random;
  const SigningKey key = GenerateSigningKey(kNow, KeyState::kPrimary, random);
  TokenPolicy policy;
  policy.paths = {"/v/"};
  policy.ssn = true;
  policy.session_auto_generate = 20;
  auto t = IssueToken(policy, {}, key, kNow, random);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->session_id.size(), 20u);
  EXPECT_TRUE(IsValidSessionId(t->session_id));
  EXPECT_EQ(t->token.substr(0, 21), t->session_id + ".");
  EXPECT_EQ(t->expires_at, kNow + absl::Hours(1));
}

// The issuer as it was written over nlohmann::ordered_json, kept to hold the
// direct writer to the same bytes (valid inputs only).
IssuedToken NlohmannIssueToken(const TokenPolicy& policy,
                               const ViewerAttributes& viewer,
                               const SigningKey& key, absl::Time now,
                               RandomSource& random,
                               absl::string_view url_query) {
  using OrderedJson = nlohmann::ordered_json;
  IssuedToken out;
  const int64_t iat = absl::ToUnixSeconds(now);
  out.issued_at = absl::FromUnixSeconds(iat);
  out.expires_at =
      policy.exp.relative
          ? out.issued_at + absl::Trunc(policy.exp.after, absl::Seconds(1))
          : policy.exp.at;
  OrderedJson payload = {
      {"ip", policy.ip},           {"co", policy.co},
      {"cty", policy.cty},         {"reg", policy.reg},
      {"ssn", policy.ssn},         {"exp", absl::ToUnixSeconds(out.expires_at)},
      {"headers", policy.headers}, {"qs", policy.querystrings}};
  std::vector<std::string> parts;
  int ip_version = 0;
  if (policy.ip) {
    auto ip = CanonicalizeIp(viewer.ip);
    ip_version = ip->version;
    parts.push_back(ip->text);
  }
  if (policy.co) parts.push_back(viewer.co);
  if (policy.cty) parts.push_back(viewer.cty);
  if (policy.reg) parts.push_back(viewer.reg);
  if (policy.ssn) {
    out.session_id = !viewer.session_id.empty()
                         ? viewer.session_id
                         : GenerateSessionId(policy.session_auto_generate
                                                 ? policy.session_auto_generate
                                                 : kDefaultSessionIdLength,
                                             random);
    parts.push_back(out.session_id);
  }
  for (const std::string& name : policy.headers) {
    const std::string* v = FindViewerHeader(viewer, name);
    if (v != nullptr && !v->empty()) parts.push_back(*v);
  }
  const auto url_params = ParseQueryString(url_query);
  for (const std::string& name : policy.querystrings) {
    const std::string* v = nullptr;
    for (const auto& [n, value] : url_params) {
      if (n == name) {
        v = &value;
        break;
      }
    }
    if (v == nullptr || v->empty()) v = FindViewerQuery(viewer, name);
    if (v != nullptr && !v->empty()) parts.push_back(*v);
  }
  out.intsig_input = absl::StrJoin(parts, ":");
  if (!out.intsig_input.empty()) {
    payload["intsig"] =
        Base64UrlEncode(HmacSha256(key.value, out.intsig_input));
  }
  payload["paths"] = policy.paths;
  payload["exc"] = policy.exc;
  if (ip_version) payload["ip_ver"] = ip_version;
  if (policy.co && policy.co_fallback) payload["co_fallback"] = true;
  if (policy.reg && policy.reg_fallback) payload["reg_fallback"] = true;
  if (policy.nbf) payload["nbf"] = absl::ToUnixSeconds(*policy.nbf);
  payload["iat"] = iat;
  const std::string jwt =
      absl::StrCat(Base64UrlEncode(JwtHeaderJson(key.id)), ".",
                   Base64UrlEncode(payload.dump(
                       -1, ' ', false, OrderedJson::error_handler_t::replace)));
  const std::string signature = Base64UrlEncode(HmacSha256(key.value, jwt));
  out.token = out.session_id.empty()
                  ? absl::StrCat(jwt, ".", signature)
                  : absl::StrCat(out.session_id, ".", jwt, ".", signature);
  return out;
}

TEST(IssueToken, WritesTheBytesNlohmannWrote) {
  CountingRandom key_random;
  const SigningKey key =
      GenerateSigningKey(kNow, KeyState::kPrimary, key_random);
  const HmacSha256Key mac(key.value);
  ViewerAttributes viewer;
  viewer.ip = "203.0.113.45";
  viewer.co = "DE";
  viewer.cty = "M\xC3\xBCnchen";
  viewer.reg = "BY";
  viewer.headers = {{"User-Agent", "Mozilla/5.0 \"quoted\""}, {"x-empty", ""}};
  viewer.qs = {{"cid", "cust-7"}, {"caf\xC3\xA9", "fallback"}};
  ViewerAttributes ipv6_viewer = viewer;
  ipv6_viewer.ip = "2001:DB8::1";
  ipv6_viewer.session_id = "given_Session-1";

  TokenPolicy plain;
  plain.paths = {"/v/1/"};
  TokenPolicy typical = plain;
  typical.ip = typical.ssn = true;
  typical.headers = {"user-agent", "referer"};
  TokenPolicy everything = typical;
  everything.co = everything.co_fallback = everything.cty = true;
  everything.reg = everything.reg_fallback = true;
  everything.session_auto_generate = 20;
  everything.headers = {"user-agent", "x-empty", "x-absent"};
  everything.querystrings = {"cid", "caf\xC3\xA9", "q\"uote\\d", "absent"};
  everything.paths = {"/v/\"1\"/", "/caf\xC3\xA9/", "/bad\xFF\xFE/",
                      "/cut\xE2\x82"};
  everything.exc = {"/v/1/thumbs/", "/\xF0\x9F\x8E\xAC/"};
  everything.nbf = kNow - absl::Minutes(5);
  everything.exp = *ParseExpiry("2000000000");
  TokenPolicy no_fallback = everything;
  no_fallback.co_fallback = no_fallback.reg_fallback = false;
  no_fallback.nbf.reset();
  no_fallback.exp = *ParseExpiry("+90m");

  const absl::Time now = kNow + absl::Milliseconds(999);
  for (const TokenPolicy* policy :
       {&plain, &typical, &everything, &no_fallback}) {
    for (const ViewerAttributes* v : {&viewer, &ipv6_viewer}) {
      CountingRandom random_a, random_b, random_c;
      auto got =
          IssueToken(*policy, *v, key, mac, now, random_a, "cid=url-9&x=1");
      ASSERT_TRUE(got.ok()) << got.status();
      const IssuedToken want =
          NlohmannIssueToken(*policy, *v, key, now, random_b, "cid=url-9&x=1");
      EXPECT_EQ(got->token, want.token);
      EXPECT_EQ(got->session_id, want.session_id);
      EXPECT_EQ(got->intsig_input, want.intsig_input);
      EXPECT_EQ(got->issued_at, want.issued_at);
      EXPECT_EQ(got->expires_at, want.expires_at);
      // The form that derives the key state per call issues the same token.
      auto by_key =
          IssueToken(*policy, *v, key, now, random_c, "cid=url-9&x=1");
      ASSERT_TRUE(by_key.ok()) << by_key.status();
      EXPECT_EQ(by_key->token, got->token);
    }
  }
}

TEST(GenerateSessionId, UsesWholeAlphabetFromSecureRandom) {
  SecureRandom random;
  std::set<char> seen;
  for (int i = 0; i < 200; ++i) {
    for (char c : GenerateSessionId(12, random)) seen.insert(c);
  }
  EXPECT_EQ(seen.size(), 62u);
}

TEST(IssueToken, RefusesMissingOrMalformedBoundAttributes) {
  CountingRandom random;
  const SigningKey key = GenerateSigningKey(kNow, KeyState::kPrimary, random);
  TokenPolicy policy;
  policy.paths = {"/v/"};
  policy.ip = true;
  EXPECT_EQ(IssueToken(policy, {}, key, kNow, random).status().message().substr(0, 10), "viewer.ip:");
  ViewerAttributes viewer;
  viewer.ip = "not-an-ip";
  EXPECT_EQ(IssueToken(policy, viewer, key, kNow, random).status().code(),
            absl::StatusCode::kInvalidArgument);
  policy.ip = false;
  policy.ssn = true;
  viewer.session_id = "has.dot";
  EXPECT_EQ(IssueToken(policy, viewer, key, kNow, random).status().message().substr(0, 17),
            "viewer.sessionId:");
  policy.exp = *ParseExpiry("1700000000");
  viewer.session_id = "";
  EXPECT_EQ(IssueToken(policy, viewer, key, kNow, random).status().message().substr(0, 17),
            "token_policy.exp:");
}

TEST(UrlQuery, TakesTextBetweenQuestionMarkAndFragment) {
  EXPECT_EQ(UrlQuery("https://h/p?cid=7&x=1#frag"), "cid=7&x=1");
  EXPECT_EQ(UrlQuery("https://h/p#frag?cid=7"), "");
  EXPECT_EQ(UrlQuery("https://h/p"), "");
}

TEST(InsertTokenIntoUrl, InsertsAsFirstPathSegmentKeepingQuery) {
  EXPECT_EQ(*InsertTokenIntoUrl("https://cdn.example.com/v/1/index.m3u8?cid=7", "TOK"),
            "https://cdn.example.com/TOK/v/1/index.m3u8?cid=7");
  EXPECT_FALSE(InsertTokenIntoUrl("cdn.example.com/v/1/", "TOK").ok());
  EXPECT_FALSE(InsertTokenIntoUrl("https://cdn.example.com", "TOK").ok());
  EXPECT_FALSE(InsertTokenIntoUrl("ftp://cdn.example.com/x", "TOK").ok());
}

}  // namespace
}  // namespace edgepass::core
