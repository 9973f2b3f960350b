// The C API the nginx module calls, over a real state file in a temporary
// directory (no nginx here; tests/e2e/nginx_module_test.cc runs the module).
#include "client/nginx/edgepass_nginx.h"

#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/validator/module_state.h"
#include "core/token_issuer.h"
#include "gtest/gtest.h"
#include "tests/support/temp_dir.h"

namespace edgepass::client {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);
const int64_t kNowMs = absl::ToUnixMillis(kNow);

class CountingRandom : public core::RandomSource {
 public:
  void Fill(absl::Span<uint8_t> out) override {
    for (auto& b : out) b = static_cast<uint8_t>(next_++);
  }

 private:
  int next_ = 3;
};

std::string AsString(edgepass_str s) { return std::string(s.data == nullptr ? "" : s.data, s.len); }
edgepass_str Str(const std::string& s) { return {s.data(), s.size()}; }

class NginxApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    key_ = core::GenerateSigningKey(kNow, core::KeyState::kPrimary, random_);
    path_ = dir_.path() + "/module.state";
    revoked_.Add("revokedSess1");
    Publish(1);
  }
  void TearDown() override { edgepass_state_close(state_); }

  void Publish(uint64_t version) {
    const std::string bytes = SerializeModuleState(version, *core::Keyring::Create({key_}), revoked_);
    const std::string tmp = path_ + ".tmp";
    std::ofstream(tmp, std::ios::binary | std::ios::trunc) << bytes;
    ASSERT_EQ(::rename(tmp.c_str(), path_.c_str()), 0);
  }

  void Open() {
    char err[256] = "";
    edgepass_state_close(state_);
    state_ = edgepass_state_open(path_.c_str(), err, sizeof err);
    ASSERT_NE(state_, nullptr) << err;
  }

  std::string Token(const std::string& session, core::TokenPolicy policy = {}) {
    if (policy.paths.empty()) policy.paths = {"/vod/"};
    policy.ssn = !session.empty();
    core::ViewerAttributes viewer;
    viewer.session_id = session;
    auto token = core::IssueToken(policy, viewer, key_, kNow, random_);
    EXPECT_TRUE(token.ok()) << token.status();
    return token.ok() ? token->token : "";
  }

  edgepass_decision Check(const std::string& uri, edgepass_mode mode = EDGEPASS_ENFORCE,
                          std::vector<std::pair<std::string, std::string>> headers = {},
                          const std::string& country = "") {
    std::vector<edgepass_header> h;
    for (const auto& [n, v] : headers) h.push_back({Str(n), Str(v)});
    uri_ = uri;
    const std::string ip = "203.0.113.9";
    edgepass_request req{};
    req.uri = Str(uri_);
    req.client_ip = Str(ip);
    req.headers = h.data();
    req.header_count = h.size();
    req.geo_country = Str(country);
    req.now_ms = kNowMs;
    req.mode = mode;
    edgepass_decision d;
    edgepass_check(state_, &req, &d);
    return d;
  }

  CountingRandom random_;
  core::SigningKey key_;
  core::RevocationSet revoked_;
  testing::TempDir dir_;
  std::string path_;
  std::string uri_;
  edgepass_state* state_ = nullptr;
};

TEST_F(NginxApiTest, AllowsAValidTokenWithPathSessionAndKid) {
  Open();
  EXPECT_EQ(edgepass_state_version(state_), 1u);
  EXPECT_EQ(edgepass_state_revoked(state_), 1u);
  const edgepass_decision d = Check("/" + Token("goodSession1") + "/vod/a/seg1.ts?x=1");
  EXPECT_EQ(d.verdict, EDGEPASS_ALLOWED);
  EXPECT_EQ(d.http_status, 0);
  EXPECT_EQ(AsString(d.reason), "ok");
  EXPECT_EQ(AsString(d.path), "/vod/a/seg1.ts");
  EXPECT_EQ(AsString(d.session_id), "goodSession1");
  EXPECT_EQ(std::string(d.kid), key_.id);
}

TEST_F(NginxApiTest, RefusesAsTheLibraryDoes) {
  Open();
  edgepass_decision d = Check("/" + Token("revokedSess1") + "/vod/a.ts");
  EXPECT_EQ(d.verdict, EDGEPASS_DENIED);
  EXPECT_EQ(d.http_status, 403);
  EXPECT_EQ(AsString(d.reason), "revoked");
  EXPECT_EQ(AsString(d.session_id), "revokedSess1");  // the claimed one, for logs
  EXPECT_STREQ(d.kid, "");

  // As the sidecar: a first segment without a dot is no token (the library
  // would say malformed_token); with one, the library's reason.
  d = Check("/vod/a.ts");
  EXPECT_EQ(d.http_status, 401);
  EXPECT_EQ(AsString(d.reason), "missing_token");
  d = Check("/a.b/vod/a.ts");
  EXPECT_EQ(AsString(d.reason), "malformed_token");
  d = Check("/eyJa.b./vod/a.ts");
  EXPECT_EQ(AsString(d.reason), "malformed_token");
  d = Check("/vod");
  EXPECT_EQ(d.http_status, 401);
  EXPECT_EQ(AsString(d.reason), "missing_token");
  d = Check("/vod/../a.ts");  // no token, unsafe path: as the sidecar
  EXPECT_EQ(d.http_status, 403);
  EXPECT_EQ(AsString(d.reason), "unsafe_path");
  d = Check("/" + Token("") + "/live/a.ts");
  EXPECT_EQ(AsString(d.reason), "path_not_allowed");
  d = Check("/eyJ" + std::string(5000, 'a') + ".b.c/vod/a.ts");
  EXPECT_EQ(AsString(d.reason), "token_too_large");
  d = Check("/" + Token("") + "/vod/%2e%2e/a.ts");
  EXPECT_EQ(AsString(d.reason), "unsafe_path");
  d = Check("/" + Token("") + "/vod/a;x/b.ts");
  EXPECT_EQ(d.verdict, EDGEPASS_ALLOWED) << AsString(d.reason);  // as core::IsSafePath
  d = Check("/" + std::string(9000, 'a'));
  EXPECT_EQ(d.http_status, 414);
  d = Check("/a b");
  EXPECT_EQ(d.http_status, 400);
}

TEST_F(NginxApiTest, GeoComesOnlyFromTheTrustedValue) {
  Open();
  core::TokenPolicy policy;
  policy.co = true;
  core::ViewerAttributes viewer;
  viewer.co = "DE";
  policy.paths = {"/vod/"};
  auto token = core::IssueToken(policy, viewer, key_, kNow, random_);
  ASSERT_TRUE(token.ok());
  const std::string uri = "/" + token->token + "/vod/a.ts";
  EXPECT_EQ(AsString(Check(uri, EDGEPASS_ENFORCE, {{"cloudfront-viewer-country", "DE"}}).reason),
            "missing_geo");
  EXPECT_EQ(Check(uri, EDGEPASS_ENFORCE, {{"CloudFront-Viewer-Country", "DE"}}, "DE").verdict,
            EDGEPASS_ALLOWED);
  EXPECT_EQ(AsString(Check(uri, EDGEPASS_ENFORCE, {{"CloudFront-Viewer-Country", "DE"}}, "FR").reason),
            "binding_mismatch");
}

TEST_F(NginxApiTest, LogOnlyAndOffForwardTheStrippedPath) {
  Open();
  const std::string bad = "/" + Token("") + "X/vod/a.ts";
  edgepass_decision d = Check(bad, EDGEPASS_LOG_ONLY);
  EXPECT_EQ(d.verdict, EDGEPASS_WOULD_DENY);
  EXPECT_EQ(AsString(d.reason), "bad_signature");
  EXPECT_EQ(AsString(d.path), "/vod/a.ts");
  d = Check(bad, EDGEPASS_OFF);
  EXPECT_EQ(d.verdict, EDGEPASS_UNCHECKED);
  EXPECT_EQ(AsString(d.path), "/vod/a.ts");
  d = Check("/free/a.ts", EDGEPASS_OFF);
  EXPECT_EQ(AsString(d.path), "/free/a.ts");
  // An unsafe path has no route a mode could be told for.
  d = Check("/free/%2e%2e/a.ts", EDGEPASS_OFF);
  EXPECT_EQ(d.http_status, 403);
  EXPECT_EQ(AsString(d.reason), "unsafe_path");
}

TEST_F(NginxApiTest, NoStateFailsClosed) {
  const edgepass_decision d = Check("/" + Token("") + "/vod/a.ts");
  EXPECT_EQ(d.verdict, EDGEPASS_DENIED);
  EXPECT_EQ(d.http_status, 503);
  EXPECT_EQ(AsString(d.reason), "no_state");
}

TEST_F(NginxApiTest, SeesANewFileAndNamesADamagedOne) {
  Open();
  EXPECT_EQ(edgepass_state_changed(state_, path_.c_str()), 0);
  revoked_.Add("laterRevoked1");
  Publish(2);
  EXPECT_EQ(edgepass_state_changed(state_, path_.c_str()), 1);
  Open();
  EXPECT_EQ(edgepass_state_version(state_), 2u);
  EXPECT_EQ(AsString(Check("/" + Token("laterRevoked1") + "/vod/a.ts").reason), "revoked");

  // Replaced by rename as the sidecar does (truncating a mapped file in
  // place would fault its readers).
  std::ofstream(path_ + ".tmp", std::ios::binary | std::ios::trunc) << "EPMODST";
  ASSERT_EQ(::rename((path_ + ".tmp").c_str(), path_.c_str()), 0);
  char err[256] = "";
  EXPECT_EQ(edgepass_state_open(path_.c_str(), err, sizeof err), nullptr);
  EXPECT_NE(std::string(err).find("shorter than its header"), std::string::npos) << err;
  EXPECT_NE(std::string(err).find(path_), std::string::npos) << err;
  EXPECT_EQ(edgepass_state_open((dir_.path() + "/none").c_str(), err, sizeof err), nullptr);
  EXPECT_NE(std::string(err).find("No such file"), std::string::npos) << err;
  // The state already open still answers from its own mapping.
  EXPECT_EQ(AsString(Check("/" + Token("laterRevoked1") + "/vod/a.ts").reason), "revoked");
}

// The overlay file next to the state file (module_state.h).
void WriteOverlay(const std::string& state_path, const std::string& bytes) {
  const std::string path = ModuleOverlayPath(state_path);
  std::ofstream(path + ".tmp", std::ios::binary | std::ios::trunc) << bytes;
  ASSERT_EQ(::rename((path + ".tmp").c_str(), path.c_str()), 0);
}

TEST_F(NginxApiTest, AnOverlayAmendsItsBaseAndIsNoticed) {
  Open();
  core::RevocationSet overlay;
  overlay.Put("revokedSess1", absl::InfinitePast());  // removed
  overlay.Put("overlaySess1", absl::InfiniteFuture());
  WriteOverlay(path_, SerializeModuleOverlay(2, 1, 1, overlay));
  EXPECT_EQ(edgepass_state_changed(state_, path_.c_str()), 1);
  Open();
  EXPECT_EQ(edgepass_state_changed(state_, path_.c_str()), 0);
  EXPECT_EQ(edgepass_state_version(state_), 2u);
  EXPECT_EQ(edgepass_state_revoked(state_), 1u);
  EXPECT_EQ(AsString(Check("/" + Token("overlaySess1") + "/vod/a.ts").reason), "revoked");
  EXPECT_EQ(Check("/" + Token("revokedSess1") + "/vod/a.ts").verdict, EDGEPASS_ALLOWED);

  // A new base (the overlay folded in) makes the overlay stale: ignored, and
  // its removal is noticed.
  revoked_ = core::RevocationSet();
  revoked_.Add("overlaySess1");
  Publish(3);
  EXPECT_EQ(edgepass_state_changed(state_, path_.c_str()), 1);
  Open();
  EXPECT_EQ(edgepass_state_version(state_), 3u);
  EXPECT_EQ(AsString(Check("/" + Token("overlaySess1") + "/vod/a.ts").reason), "revoked");
  ASSERT_EQ(::unlink(ModuleOverlayPath(path_).c_str()), 0);
  EXPECT_EQ(edgepass_state_changed(state_, path_.c_str()), 1);
  Open();
  EXPECT_EQ(edgepass_state_changed(state_, path_.c_str()), 0);

  // An overlay for a base not in place, or a damaged one, is refused by name.
  WriteOverlay(path_, SerializeModuleOverlay(9, 8, 1, overlay));
  char err[256] = "";
  EXPECT_EQ(edgepass_state_open(path_.c_str(), err, sizeof err), nullptr);
  EXPECT_NE(std::string(err).find("amends base version 8"), std::string::npos) << err;
  WriteOverlay(path_, "EPMODOV");
  EXPECT_EQ(edgepass_state_open(path_.c_str(), err, sizeof err), nullptr);
  EXPECT_NE(std::string(err).find(".overlay"), std::string::npos) << err;
}

}  // namespace
}  // namespace edgepass::client
