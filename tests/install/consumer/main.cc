// Issues a token with the installed core and checks it with the installed
// validator; exits 0 only when the request is allowed with the right path.
#include <iostream>

#include "client/validator/edge_validator.h"
#include "core/token_issuer.h"

int main() {
  using namespace edgepass;
  core::SecureRandom random;
  const absl::Time now = absl::Now();
  core::SigningKey key = core::GenerateSigningKey(now, core::KeyState::kPrimary, random);
  core::TokenPolicy policy;
  policy.paths = {"/video/1/"};
  auto token = core::IssueToken(policy, {}, key, now, random);
  if (!token.ok()) return 1;
  client::EdgeValidator validator(*core::Keyring::Create({key}));
  const std::string uri = "/" + token->token + "/video/1/index.m3u8";
  core::Decision d = validator.Check({.uri = uri}, now);
  std::cout << core::ReasonName(d.reason) << " " << d.path << "\n";
  return d.allow && d.path == "/video/1/index.m3u8" ? 0 : 1;
}
