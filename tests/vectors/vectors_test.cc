// Every SMD vector through the validator library, and every generation through
// the issuer: edgepass must give the outcome the vectors' README requires and
// issue byte-identical tokens for the same policy, viewer, key and time.
#include <ostream>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "core/token_issuer.h"
#include "core/validator.h"
#include "gtest/gtest.h"
#include "tests/vectors/vector_cases.h"

namespace edgepass::testing {

// Names the case in test output instead of dumping its bytes.
static void PrintTo(const VectorCase& c, std::ostream* os) { *os << c.id; }

namespace {

// Replays a recorded byte stream; the vectors never need generated session ids.
class NoRandom : public core::RandomSource {
 public:
  void Fill(absl::Span<uint8_t>) override {
    ADD_FAILURE() << "unexpected random draw";
  }
};

core::Keyring ValidatorKeys(const VectorCase& c) {
  std::vector<core::SigningKey> keys;
  for (const auto& [kid, value] : c.validator_keys) {
    keys.push_back({.id = kid,
                    .value = value,
                    .state = keys.empty() ? core::KeyState::kPrimary
                                          : core::KeyState::kSecondary});
  }
  auto ring = core::Keyring::Create(std::move(keys));
  EXPECT_TRUE(ring.ok()) << ring.status();
  return ring.ok() ? *ring : core::Keyring();
}

// The case's request, carrying `uri` (its own, or the same with another token).
core::Decision ValidateCase(const VectorCase& c, const std::string& uri) {
  std::vector<core::NameValue> headers(c.headers.begin(), c.headers.end());
  std::vector<core::NameValue> query(c.query.begin(), c.query.end());
  const core::EdgeRequest request{
      .uri = uri, .client_ip = c.viewer_ip, .headers = headers, .query = query};
  return core::Validate(request, ValidatorKeys(c), core::RevocationSet(),
                        absl::FromUnixMillis(c.validation_time_ms));
}

void ExpectRequiredOutcome(const VectorCase& c, const core::Decision& d) {
  EXPECT_EQ(d.allow, c.expect_valid) << "reason " << core::ReasonName(d.reason);
  if (c.expect_valid) EXPECT_EQ(d.path, c.expect_uri);
  if (!c.expect_reason.empty())
    EXPECT_EQ(core::ReasonName(d.reason), c.expect_reason);
}

class Vectors : public ::testing::TestWithParam<VectorCase> {};

TEST_P(Vectors, ValidatorGivesRequiredOutcome) {
  const VectorCase& c = GetParam();
  SCOPED_TRACE(c.id + ": " + c.title);
  ExpectRequiredOutcome(c, ValidateCase(c, c.request_uri));
}

TEST_P(Vectors, IssuerReproducesSmdTokenByteForByte) {
  const VectorCase& c = GetParam();
  SCOPED_TRACE(c.id + ": " + c.title);
  auto policy = core::ParseTokenPolicyJson(c.token_policy_json);
  ASSERT_TRUE(policy.ok()) << policy.status();
  auto viewer = core::ParseViewerJson(c.viewer_json);
  ASSERT_TRUE(viewer.ok()) << viewer.status();
  const core::SigningKey key{.id = c.signing_kid, .value = c.signing_value};
  NoRandom random;
  std::string url_query;
  if (c.playback_url && c.playback_url->find('?') != std::string::npos) {
    url_query = c.playback_url->substr(c.playback_url->find('?') + 1);
  }
  auto issued = core::IssueToken(*policy, *viewer, key,
                                 absl::FromUnixMillis(c.generation_time_ms),
                                 random, url_query);
  ASSERT_TRUE(issued.ok()) << issued.status();
  if (c.issuer_differs) {
    // edgepass deliberately issues another token here (the case says why):
    // it must differ, and give the required outcome for the same request.
    SCOPED_TRACE("edgepass_issuer_differs: " + *c.issuer_differs);
    ASSERT_FALSE(c.tampered)
        << "edgepass_issuer_differs needs the request as generated";
    EXPECT_NE(issued->token, c.token)
        << "the issuer now reproduces the SDK; drop the field";
    ExpectRequiredOutcome(
        c, ValidateCase(c, RequestUriWithToken(c, issued->token)));
    return;
  }
  EXPECT_EQ(issued->token, c.token);
  EXPECT_EQ(issued->intsig_input, c.intsig_input.value_or(""));
  if (c.playback_url) {
    auto url = core::InsertTokenIntoUrl(*c.playback_url, issued->token);
    ASSERT_TRUE(url.ok()) << url.status();
    EXPECT_EQ(*url, c.sdk_output);
  } else {
    EXPECT_EQ(issued->token, c.sdk_output);
  }
}

std::string CaseName(const ::testing::TestParamInfo<VectorCase>& info) {
  std::string name = info.param.id;
  for (char& ch : name) {
    if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(Smd, Vectors,
                         ::testing::ValuesIn(LoadVectorCases(VectorsDir())),
                         CaseName);
// The project's own cases, generated from SMD's code (tests/vectors/own).
INSTANTIATE_TEST_SUITE_P(Own, Vectors,
                         ::testing::ValuesIn(LoadVectorCases(OwnVectorsDir())),
                         CaseName);

}  // namespace
}  // namespace edgepass::testing
