#include "core/token_issuer.h"

#include <set>

#include "core/crypto.h"
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
