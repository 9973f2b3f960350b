// Test-only helpers for the sidecar unit tests: a temporary directory that is
// removed, and a key plus tokens issued with the real core issuer.
//
//   ScratchDir dir;
//   TestKeys keys;
//   std::string uri = keys.Uri({"/v/1/"}, "/v/1/a.ts", now);
#ifndef EDGEPASS_CLIENT_SIDECAR_SIDECAR_TEST_UTIL_H_
#define EDGEPASS_CLIENT_SIDECAR_SIDECAR_TEST_UTIL_H_

#include <stdlib.h>

#include <filesystem>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "core/keyring.h"
#include "core/random.h"
#include "core/token_issuer.h"
#include "core/token_policy.h"
#include "gtest/gtest.h"

namespace edgepass::sidecar::testing {

class ScratchDir {
 public:
  ScratchDir() {
    std::string tmpl =
        std::filesystem::temp_directory_path() / "edgepass-sidecar-XXXXXX";
    path_ = ::mkdtemp(tmpl.data()) != nullptr ? tmpl : "";
    EXPECT_FALSE(path_.empty());
  }
  ~ScratchDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

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
