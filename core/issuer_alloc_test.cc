// Bounds the allocations of one IssueToken call on the hot-path form (the
// key's precomputed HMAC state): the IssuedToken's own strings and the payload
// buffer, nothing per claim or per HMAC. Its own binary: it links
// counting_new_test_util.cc, which counts allocations on the calling thread.
#include <string>

#include "core/counting_new_test_util.h"
#include "core/test_util_internal.h"
#include "core/token_issuer.h"
#include "gtest/gtest.h"

namespace edgepass::core {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);

TEST(IssueTokenAllocations,
     TypicalPolicyAllocatesTokenIntsigInputAndPayloadOnly) {
  testing::CountingRandom random;
  const Keyring keys =
      *Keyring::Create({GenerateSigningKey(kNow, KeyState::kPrimary, random)});
  const SigningKey* key = keys.Primary();
  const HmacSha256Key* mac = keys.MacKeyOf(key);
  TokenPolicy policy;
  policy.paths = {"/out/v1/00c6ff982d404e2f940b48495b243b3c/"};
  policy.exp = *ParseExpiry("+4h");
  policy.ip = policy.ssn = true;
  policy.headers = {"user-agent", "referer"};
  ViewerAttributes viewer;
  viewer.ip = "203.0.113.45";
  viewer.session_id = "pTq3ZkW8sN1x";
  viewer.headers = {
      {"user-agent", "Mozilla/5.0 (X11; Linux x86_64) Firefox/91.0"},
      {"referer", "https://player.example.com/watch/42"}};

  const size_t before = testing::ThreadAllocations();
  absl::StatusOr<IssuedToken> issued =
      IssueToken(policy, viewer, *key, *mac, kNow, random);
  const size_t made = testing::ThreadAllocations() - before;
  ASSERT_TRUE(issued.ok()) << issued.status();
  EXPECT_LE(made, 3u) << made;  // token, intsig_input, payload
}

}  // namespace
}  // namespace edgepass::core
