// Test-only helpers for the sidecar unit tests: a key plus tokens issued with
// the real core issuer (and the project's TempDir, for the directories).
//
//   TempDir dir;
//   TestKeys keys;
//   std::string uri = keys.Uri({"/v/1/"}, "/v/1/a.ts", now);
#ifndef EDGEPASS_CLIENT_SIDECAR_SIDECAR_TEST_UTIL_H_
#define EDGEPASS_CLIENT_SIDECAR_SIDECAR_TEST_UTIL_H_

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "core/keyring.h"
#include "core/random.h"
#include "core/token_issuer.h"
#include "core/token_policy.h"
#include "gtest/gtest.h"
#include "tests/support/temp_dir.h"

namespace edgepass::sidecar::testing {

using ::edgepass::testing::TempDir;  // tests/support/temp_dir.h

inline const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);

struct TestKeys {
  core::SecureRandom random;
  core::SigningKey key =
      core::GenerateSigningKey(kNow, core::KeyState::kPrimary, random);
  core::Keyring keyring = *core::Keyring::Create({key});

  // "/<token>" + origin_path for a token valid for `paths`, one hour from
  // `issued`; `session` binds a session id when not empty.
  std::string Uri(std::vector<std::string> paths,
                  const std::string& origin_path, absl::Time issued = kNow,
                  const std::string& session = "") {
    core::TokenPolicy policy;
    policy.paths = std::move(paths);
    policy.ssn = !session.empty();
    core::ViewerAttributes viewer;
    viewer.session_id = session;
    absl::StatusOr<core::IssuedToken> t =
        core::IssueToken(policy, viewer, key, issued, random);
    EXPECT_TRUE(t.ok()) << t.status();
    return t.ok() ? "/" + t->token + origin_path : "";
  }
};

}  // namespace edgepass::sidecar::testing

#endif  // EDGEPASS_CLIENT_SIDECAR_SIDECAR_TEST_UTIL_H_
