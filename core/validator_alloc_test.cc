// Proves the validator's allowed path allocates nothing for tokens in the
// form edgepass and SMD issue. Its own binary: it links
// counting_new_test_util.cc, which counts allocations on the calling thread.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/counting_new_test_util.h"
#include "core/test_util_internal.h"
#include "core/token_issuer.h"
#include "core/validator.h"
#include "gtest/gtest.h"

namespace edgepass::core {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);

class ValidatorAllocationTest : public ::testing::Test {
 protected:
  ValidatorAllocationTest() {
    key_ = GenerateSigningKey(kNow, KeyState::kPrimary, random_);
    keys_ = *Keyring::Create({key_});
    policy_.paths = {"/video/1/", "/video/2/"};
    policy_.exp = *ParseExpiry("+1h");
    for (int i = 0; i < 1000; ++i) revoked_.Add(absl::StrCat("Revoked", 100000 + i));
  }

  // Allocations made by one Validate() call, which must allow the request.
  size_t AllocationsToAllow(const std::string& uri, std::vector<NameValue> headers = {},
                            absl::string_view ip = "") {
    const EdgeRequest request{.uri = uri, .client_ip = ip, .headers = headers};
    const size_t before = testing::ThreadAllocations();
    const Decision d = Validate(request, keys_, revoked_, kNow);
    const size_t made = testing::ThreadAllocations() - before;
    EXPECT_TRUE(d.allow) << ReasonName(d.reason);
    return made;
  }

  testing::CountingRandom random_;
  SigningKey key_;
  Keyring keys_;
  RevocationSet revoked_;
  TokenPolicy policy_;
};

TEST_F(ValidatorAllocationTest, PlainTokenAllocatesNothing) {
  auto token = IssueToken(policy_, {}, key_, kNow, random_);
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_EQ(AllocationsToAllow(absl::StrCat("/", token->token, "/video/2/index.m3u8")), 0u);
}

TEST_F(ValidatorAllocationTest, BoundTokenAllocatesNothing) {
  policy_.ip = true;
  policy_.ssn = true;
  policy_.co = true;
  policy_.headers = {"user-agent", "referer"};
  ViewerAttributes viewer;
  viewer.ip = "203.0.113.9";
  viewer.co = "DE";
  viewer.session_id = "pTq3ZkW8sN1x";
  viewer.headers = {{"user-agent", "player/1.0"}, {"referer", "https://example.com/"}};
  auto token = IssueToken(policy_, viewer, key_, kNow, random_);
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_EQ(AllocationsToAllow(absl::StrCat("/", token->token, "/video/1/seg1.ts"),
                               {{"User-Agent", "player/1.0"},
                                {"Referer", "https://example.com/"},
                                {"CloudFront-Viewer-Country", "DE"}},
                               "203.0.113.9"),
            0u);
}

TEST_F(ValidatorAllocationTest, EscapedPayloadTakesTheFullParser) {
  const std::string header =
      absl::StrCat(R"({"alg":"HS256","typ":"JWT","kid":")", key_.id, R"("})");
  const std::string token =
      testing::SignJwt(header, R"({"exp":1900000000,"paths":["\/video\/1\/"]})", key_.value);
  EXPECT_GT(AllocationsToAllow(absl::StrCat("/", token, "/video/1/a.ts")), 0u)
      << "the counter must see the full parser's allocations";
}

}  // namespace
}  // namespace edgepass::core
