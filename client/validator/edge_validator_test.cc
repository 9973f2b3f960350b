#include "client/validator/edge_validator.h"

#include <memory>
#include <utility>

#include "core/token_issuer.h"
#include "gtest/gtest.h"

namespace edgepass::client {
namespace {

class FixedRandom : public core::RandomSource {
 public:
  void Fill(absl::Span<uint8_t> out) override {
    for (auto& b : out) b = static_cast<uint8_t>(next_++);
  }

 private:
  int next_ = 1;
};

TEST(EdgeValidator, SeesNewKeysAndRevocationsAfterSwap) {
  FixedRandom random;
  const absl::Time now = absl::FromUnixSeconds(1'800'000'000);
  core::SigningKey old_key = core::GenerateSigningKey(now, core::KeyState::kPrimary, random);
  core::SigningKey new_key = core::GenerateSigningKey(now, core::KeyState::kPrimary, random);
  core::TokenPolicy policy;
  policy.paths = {"/v/1/"};
  policy.ssn = true;
  core::ViewerAttributes viewer;
  viewer.session_id = "sessAAAA1";
  auto token = core::IssueToken(policy, viewer, new_key, now, random);
  ASSERT_TRUE(token.ok()) << token.status();
  const std::string uri = "/" + token->token + "/v/1/a.ts";

  EdgeValidator validator(*core::Keyring::Create({old_key}));
  EXPECT_EQ(validator.Check({.uri = uri}, now).reason, core::Reason::kUnknownKid);

  validator.SetKeyring(*core::Keyring::Create({new_key}));
  core::Decision d = validator.Check({.uri = uri}, now);
  EXPECT_TRUE(d.allow);
  EXPECT_EQ(d.path, "/v/1/a.ts");
  EXPECT_EQ(d.session_id, "sessAAAA1");

  core::RevocationSet revoked;
  revoked.Add("sessAAAA1");
  validator.SetRevocations(std::move(revoked));
  EXPECT_EQ(validator.Check({.uri = uri}, now).reason, core::Reason::kRevoked);
}

TEST(EdgeValidator, SetStateSwapsBothAndRecordsVersion) {
  FixedRandom random;
  const absl::Time now = absl::FromUnixSeconds(1'800'000'000);
  core::SigningKey key = core::GenerateSigningKey(now, core::KeyState::kPrimary, random);
  core::TokenPolicy policy;
  policy.paths = {"/v/1/"};
  policy.ssn = true;
  core::ViewerAttributes viewer;
  viewer.session_id = "sessBBBB1";
  auto token = core::IssueToken(policy, viewer, key, now, random);
  ASSERT_TRUE(token.ok()) << token.status();
  const std::string uri = "/" + token->token + "/v/1/a.ts";

  EdgeValidator validator(core::Keyring{});
  EXPECT_EQ(validator.version(), 0u);
  EXPECT_EQ(validator.Check({.uri = uri}, now).reason, core::Reason::kUnknownKid);

  core::RevocationSet revoked;
  revoked.Add("sessBBBB1");
  validator.SetState(7, *core::Keyring::Create({key}), std::move(revoked));
  EXPECT_EQ(validator.version(), 7u);
  EXPECT_EQ(validator.Check({.uri = uri}, now).reason, core::Reason::kRevoked);

  validator.SetRevocations({});
  EXPECT_EQ(validator.version(), 7u);
  EXPECT_TRUE(validator.Check({.uri = uri}, now).allow);
}

TEST(EdgeValidator, SetStateSharesTheRevocationSet) {
  FixedRandom random;
  const absl::Time now = absl::FromUnixSeconds(1'800'000'000);
  core::SigningKey key = core::GenerateSigningKey(now, core::KeyState::kPrimary, random);
  core::TokenPolicy policy;
  policy.paths = {"/v/1/"};
  policy.ssn = true;
  core::ViewerAttributes viewer;
  viewer.session_id = "sessCCCC1";
  auto token = core::IssueToken(policy, viewer, key, now, random);
  ASSERT_TRUE(token.ok()) << token.status();
  const std::string uri = "/" + token->token + "/v/1/a.ts";

  core::RevocationSet set;
  set.Add("sessCCCC1");
  auto shared = std::make_shared<const core::RevocationSet>(std::move(set));
  EdgeValidator validator(core::Keyring{});
  validator.SetState(3, *core::Keyring::Create({key}), shared);
  EXPECT_EQ(shared.use_count(), 2);  // held, not copied
  EXPECT_EQ(validator.Check({.uri = uri}, now).reason, core::Reason::kRevoked);

  validator.SetKeyring(*core::Keyring::Create({key}));  // keeps the same set
  EXPECT_EQ(shared.use_count(), 2);

  validator.SetState(4, *core::Keyring::Create({key}), nullptr);  // none revoked
  EXPECT_EQ(shared.use_count(), 1);
  EXPECT_TRUE(validator.Check({.uri = uri}, now).allow);
}

TEST(EdgeValidator, SwapStateChecksTheOverlayOfADelta) {
  FixedRandom random;
  const absl::Time now = absl::FromUnixSeconds(1'800'000'000);
  core::SigningKey key = core::GenerateSigningKey(now, core::KeyState::kPrimary, random);
  core::TokenPolicy policy;
  policy.paths = {"/v/1/"};
  policy.ssn = true;
  auto uri_for = [&](const std::string& session) {
    core::ViewerAttributes viewer;
    viewer.session_id = session;
    auto token = core::IssueToken(policy, viewer, key, now, random);
    EXPECT_TRUE(token.ok()) << token.status();
    return "/" + token->token + "/v/1/a.ts";
  };
  const std::string base_uri = uri_for("sessBASE1");
  const std::string new_uri = uri_for("sessNEW01");

  core::RevocationSet set;
  set.Add("sessBASE1");
  auto revoked = RevokedSessions::Share(std::move(set));
  EdgeValidator validator(core::Keyring{});
  validator.SwapState(1, *core::Keyring::Create({key}), revoked);
  EXPECT_EQ(validator.Check({.uri = base_uri}, now).reason, core::Reason::kRevoked);
  EXPECT_TRUE(validator.Check({.uri = new_uri}, now).allow);

  auto delta = revoked->Apply({{.session_id = "sessNEW01"}, {.session_id = "sessBASE1", .remove = true}});
  ASSERT_EQ(delta->base(), revoked->base());
  validator.SwapState(2, *core::Keyring::Create({key}), delta);
  EXPECT_EQ(validator.version(), 2u);
  EXPECT_TRUE(validator.Check({.uri = base_uri}, now).allow);
  EXPECT_EQ(validator.Check({.uri = new_uri}, now).reason, core::Reason::kRevoked);
}

}  // namespace
}  // namespace edgepass::client
