// A real nginx with the shipped deploy/nginx/edgepass.conf in front of a real
// edgepass-validator, on loopback: nginx serves a small HLS tree as the
// origin behind the protected location. Label: integration.
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "core/keyring.h"
#include "core/random.h"
#include "core/token_issuer.h"
#include "core/token_policy.h"
#include "gtest/gtest.h"
#include "http/http_test_client.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/edge_stack.h"
#include "tests/support/test_process.h"

namespace edgepass {
namespace {

using ::edgepass::http::testing::Fetch;
using ::edgepass::http::testing::TestConnection;
using ::edgepass::http::testing::TestResponse;
using ::edgepass::testing::EdgeNginx;
using ::edgepass::testing::HeaderOr;
using ::edgepass::testing::Nginx;
using ::edgepass::testing::NginxAvailable;
using ::edgepass::testing::Sidecar;
using ::edgepass::testing::StartEdgeNginx;
using ::edgepass::testing::WriteHlsTree;
using ::edgepass::testing::ReadFileOrEmpty;
using ::edgepass::testing::TempDir;
using ::edgepass::testing::WriteFileOrDie;

constexpr char kValidatorPath[] = EDGEPASS_VALIDATOR_PATH;

class NginxSidecarTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!NginxAvailable()) FAIL() << "nginx is not installed (scripts/deps.sh installs it)";
    root_ = dir_.path();
    std::filesystem::create_directories(root_ + "/state");
    files_ = WriteHlsTree(root_);

    key_ = core::GenerateSigningKey(absl::Now(), core::KeyState::kPrimary,
                                    random_);
    keyring_path_ = root_ + "/keyring.json";
    WriteFileOrDie(keyring_path_,
                   core::KeyringToJson(*core::Keyring::Create({key_})));
    ::chmod(keyring_path_.c_str(), 0600);
    snapshot_path_ = root_ + "/state/validator.snapshot";

    sidecar_ = std::make_unique<Sidecar>(
        root_, std::vector<std::string>{
                   "--keyring", keyring_path_, "--snapshot", snapshot_path_,
                   "--listen", "127.0.0.1:0", "--mode", "/=enforce", "--mode",
                   "/vod/free/=log-only"});
    sidecar_port_ = sidecar_->WaitListening();
    ASSERT_NE(sidecar_port_, 0) << sidecar_->log();

    absl::StatusOr<EdgeNginx> edge = StartEdgeNginx(root_, sidecar_port_);
    ASSERT_TRUE(edge.ok()) << edge.status();
    nginx_ = std::move(edge->nginx);
    edge_port_ = edge->ports.edge;
    origin_port_ = edge->ports.origin;
  }

  // A token for `paths`, bound to the loopback viewer IP, issued at `issued`.
  std::string Token(std::vector<std::string> paths,
                    absl::Time issued = absl::Now(),
                    const std::string& ip = "127.0.0.1") {
    core::TokenPolicy policy;
    policy.paths = std::move(paths);
    policy.ip = true;
    policy.ssn = true;
    core::ViewerAttributes viewer;
    viewer.ip = ip;
    absl::StatusOr<core::IssuedToken> t =
        core::IssueToken(policy, viewer, key_, issued, random_);
    EXPECT_TRUE(t.ok()) << t.status();
    return t.ok() ? t->token : "";
  }

  TestResponse Get(const std::string& target, uint16_t port = 0) {
    std::optional<TestResponse> r =
        Fetch(port ? port : edge_port_, "GET", target);
    EXPECT_TRUE(r.has_value()) << target;
    return r.value_or(TestResponse{});
  }

  core::SecureRandom random_;
  core::SigningKey key_;
  TempDir dir_;
  std::string root_, keyring_path_, snapshot_path_;
  std::map<std::string, std::string> files_;
  std::unique_ptr<Sidecar> sidecar_;
  std::unique_ptr<Nginx> nginx_;
  uint16_t sidecar_port_ = 0, edge_port_ = 0, origin_port_ = 0;
};

TEST_F(NginxSidecarTest, ValidTokenServesEveryFileByteForByte) {
  const std::string token = Token({"/vod/demo/"});
  for (const auto& [path, bytes] : files_) {
    if (!absl::StartsWith(path, "/vod/demo/")) continue;
    TestResponse r = Get("/" + token + path + "?cid=viewer1");
    EXPECT_EQ(r.status, 200) << path << " " << HeaderOr(r, "X-Edgepass-Reason");
    EXPECT_TRUE(r.body == bytes)
        << path << ": " << r.body.size() << " bytes, want " << bytes.size();
  }
  TestResponse master = Get("/" + token + "/vod/demo/master.m3u8");
  EXPECT_EQ(HeaderOr(master, "Content-Type"), "application/vnd.apple.mpegurl");
}

TEST_F(NginxSidecarTest, BadTokensAreRefusedWithTheReason) {
  const std::string good = Token({"/vod/demo/"});
  std::string tampered = good;
  tampered[tampered.size() - 5] =
      tampered[tampered.size() - 5] == 'A' ? 'B' : 'A';
  struct Case {
    std::string target;
    int status;
    std::string reason;
  };
  for (const Case& c : std::vector<Case>{
           {"/vod/demo/master.m3u8", 401, "missing_token"},
           {"/" + tampered + "/vod/demo/master.m3u8", 403, "bad_signature"},
           {"/" + Token({"/vod/demo/"}, absl::Now() - absl::Hours(2)) +
                "/vod/demo/master.m3u8",
            403, "expired"},
           {"/" + Token({"/vod/other/"}) + "/vod/demo/master.m3u8", 403,
            "path_not_allowed"},
           {"/" + Token({"/vod/demo/"}, absl::Now(), "198.51.100.7") +
                "/vod/demo/master.m3u8",
            403, "binding_mismatch"},
           {"/" + good + "/vod/demo/720p/../../free/clip.ts", 403,
            "unsafe_path"},
       }) {
    TestResponse r = Get(c.target);
    EXPECT_EQ(r.status, c.status) << c.target;
    EXPECT_EQ(HeaderOr(r, "X-Edgepass-Reason"), c.reason) << c.target;
    EXPECT_TRUE(r.body.find("#EXTM3U") == std::string::npos);
  }
}

// Dot segments hidden behind `;` parameters (servlet-style origins resolve
// `..;` as `..`), double encoding, %u escapes and overlong UTF-8 reach the
// sidecar as sent (nginx hands it the raw $request_uri; it normalizes `..` but
// not these) and are refused there; the origin is never asked for them.
TEST_F(NginxSidecarTest, SmuggledDotSegmentsNeverReachTheOrigin) {
  for (const char* path : {"/video/1/a.ts", "/video/2/a.ts"}) {
    files_[path] = ::edgepass::testing::RandomBytes(3000);
    std::filesystem::create_directories(
        std::filesystem::path(root_ + "/hls" + path).parent_path());
    WriteFileOrDie(root_ + "/hls" + path, files_[path]);
  }
  const std::string video1 = Token({"/video/1/"});
  const std::string free = Token({"/vod/free/"});
  for (const std::string& target : std::vector<std::string>{
           "/" + video1 + "/video/1/..;/2/a.ts",
           "/" + video1 + "/video/1/.;/a.ts",
           "/" + video1 + "/video/1/..;jsessionid=x/2/a.ts",
           "/" + video1 + "/video/1/%252e%252e/2/a.ts",
           "/" + video1 + "/video/1/%u002e%u002e/2/a.ts",
           "/" + video1 + "/video/1/%c0%ae%c0%ae/2/a.ts",
           // The same on a log-only route, which must not let it through.
           "/" + free + "/vod/free/..;/demo/master.m3u8",
       }) {
    TestResponse r = Get(target);
    // nginx itself answers 400 to an escape it cannot parse (%u); everything
    // else is the sidecar's unsafe_path.
    if (r.status == 400) {
      EXPECT_TRUE(absl::StrContains(target, "%u")) << target;
    } else {
      EXPECT_EQ(r.status, 403) << target;
      EXPECT_EQ(HeaderOr(r, "X-Edgepass-Reason"), "unsafe_path") << target;
    }
    EXPECT_TRUE(r.body != files_["/video/2/a.ts"] &&
                r.body != files_["/video/1/a.ts"])
        << target << " was served";
  }
  // A normal segment still plays, and it is the only thing the origin was
  // asked for (nginx logs after the response: wait for the line).
  TestResponse ok = Get("/" + video1 + "/video/1/a.ts");
  EXPECT_EQ(ok.status, 200) << HeaderOr(ok, "X-Edgepass-Reason");
  EXPECT_TRUE(ok.body == files_["/video/1/a.ts"]);
  std::string log;
  for (absl::Time deadline = absl::Now() + absl::Seconds(5);
       absl::Now() < deadline; absl::SleepFor(absl::Milliseconds(20))) {
    log = ReadFileOrEmpty(root_ + "/logs/origin_access.log");
    if (absl::StrContains(log, "\"GET /video/1/a.ts ")) break;
  }
  EXPECT_EQ(std::count(log.begin(), log.end(), '\n'), 1) << log;
  EXPECT_TRUE(absl::StrContains(log, "\"GET /video/1/a.ts HTTP/1.1\"")) << log;
}

TEST_F(NginxSidecarTest, LogOnlyRouteLetsABadTokenThroughAndCountsIt) {
  const std::string expired =
      Token({"/vod/free/"}, absl::Now() - absl::Hours(2));
  TestResponse r = Get("/" + expired + "/vod/free/clip.ts");
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.body == files_["/vod/free/clip.ts"]);
  EXPECT_EQ(HeaderOr(r, "X-Edgepass-Would-Deny"), "expired");
  // The enforced route next to it still refuses the same kind of token.
  EXPECT_EQ(Get("/" + Token({"/vod/demo/"}, absl::Now() - absl::Hours(2)) +
                "/vod/demo/master.m3u8")
                .status,
            403);

  nlohmann::json stats =
      nlohmann::json::parse(Get("/stats", sidecar_port_).body);
  EXPECT_EQ(stats["decisions"]["would_deny"]["expired"], 1);
  EXPECT_EQ(stats["decisions"]["denied"]["expired"], 1);
  const std::string log = sidecar_->log();
  EXPECT_TRUE(absl::StrContains(log, "\"event\":\"would_deny\""));
  EXPECT_TRUE(absl::StrContains(log, "\"path\":\"/vod/free/clip.ts\""));
  EXPECT_FALSE(absl::StrContains(log, expired.substr(expired.rfind('.') + 1)))
      << "the token's signature was logged";
}

TEST_F(NginxSidecarTest, RestartWithOnlyTheSnapshotValidatesAtOnce) {
  const std::string token = Token({"/vod/demo/"});
  ASSERT_EQ(Get("/" + token + "/vod/demo/master.m3u8").status, 200);
  ASSERT_EQ(sidecar_->Stop(), 0);
  struct stat st;
  ASSERT_EQ(::stat(snapshot_path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);

  // Same port (nginx points at it), no keyring flag, no server to ask.
  sidecar_ = std::make_unique<Sidecar>(
      root_,
      std::vector<std::string>{"--snapshot", snapshot_path_, "--listen",
                               absl::StrCat("127.0.0.1:", sidecar_port_)});
  ASSERT_EQ(sidecar_->WaitListening(), sidecar_port_) << sidecar_->log();
  EXPECT_EQ(Get("/healthz", sidecar_port_).status, 200);
  TestResponse r = Get("/" + token + "/vod/demo/720p/seg1.ts");
  EXPECT_EQ(r.status, 200) << HeaderOr(r, "X-Edgepass-Reason");
  EXPECT_TRUE(r.body == files_["/vod/demo/720p/seg1.ts"]);
  EXPECT_EQ(Get("/vod/demo/720p/seg1.ts").status, 401);
}

TEST_F(NginxSidecarTest,
       HugeAndMalformedSubrequestsGet4xxAndTheSidecarKeepsServing) {
  // Straight to the sidecar.
  auto raw = [&](const std::string& request) {
    std::unique_ptr<TestConnection> conn =
        TestConnection::Connect(sidecar_port_);
    EXPECT_NE(conn, nullptr);
    if (conn == nullptr) return 0;
    conn->Send(request);
    std::optional<TestResponse> r = conn->ReadResponse();
    return r ? r->status : 0;
  };
  EXPECT_EQ(
      raw(absl::StrCat("GET /auth HTTP/1.1\r\nHost: x\r\nX-Original-URI: /",
                       std::string(9000, 'a'), "\r\n\r\n")),
      414);
  EXPECT_EQ(
      raw(absl::StrCat(
          "GET /auth HTTP/1.1\r\nHost: x\r\nX-Original-URI: /a\r\nX-Big: ",
          std::string(20000, 'b'), "\r\n\r\n")),
      431);
  std::string many = "GET /auth HTTP/1.1\r\nHost: x\r\nX-Original-URI: /a\r\n";
  for (int i = 0; i < 3000; ++i) absl::StrAppend(&many, "X-H", i, ": v\r\n");
  EXPECT_EQ(raw(many + "\r\n"), 431);
  EXPECT_EQ(raw("GET /auth HTTP/1.1\r\nHost: x\r\n\r\n"),
            400);  // no X-Original-URI
  EXPECT_EQ(
      raw("GET /auth HTTP/1.1\r\nHost: x\r\nX-Original-URI: no-slash\r\n\r\n"),
      400);
  EXPECT_EQ(raw("\x16\x03\x01\x02\x01\x01\x01\x01\xfc\x03\x03\r\n\r\n"),
            400);  // TLS hello
  EXPECT_EQ(raw("GET /auth HTTP/1.1\r\nContent-Length: 999999999\r\n\r\n"),
            413);
  EXPECT_EQ(Get("/healthz", sidecar_port_).status, 200);

  // Through nginx: a huge URI is refused by nginx itself, never a 5xx.
  TestResponse r = Get("/" + std::string(20000, 'x') + "/vod/demo/master.m3u8");
  EXPECT_GE(r.status, 400);
  EXPECT_LT(r.status, 500);
  const std::string token = Token({"/vod/demo/"});
  EXPECT_EQ(Get("/" + token + "/vod/demo/master.m3u8").status, 200);
}

// No nginx needed: with --module-state in a directory that is not there yet
// (a volume not mounted yet), the sidecar is not ready, and it writes the
// file, and so becomes ready, soon after the directory appears.
TEST(EdgepassValidatorBinary, AModuleStateItCouldNotWriteIsWrittenOnceItCan) {
  TempDir dir;
  core::SecureRandom random;
  const std::string keyring = dir.path() + "/keyring.json";
  WriteFileOrDie(keyring, core::KeyringToJson(*core::Keyring::Create(
                              {core::GenerateSigningKey(absl::Now(), core::KeyState::kPrimary, random)})));
  ASSERT_EQ(::chmod(keyring.c_str(), 0600), 0);
  const std::string state = dir.path() + "/later/module.state";
  Sidecar sidecar(dir.path(), {"--keyring", keyring, "--module-state", state, "--listen", "127.0.0.1:0"});
  const uint16_t port = sidecar.WaitListening();
  ASSERT_NE(port, 0) << sidecar.log();
  std::optional<TestResponse> health = Fetch(port, "GET", "/healthz");
  ASSERT_TRUE(health.has_value());
  EXPECT_EQ(health->status, 503);
  EXPECT_TRUE(absl::StrContains(health->body, "\"no module state\"")) << health->body;
  // Logged as what failed: there is no snapshot file to save.
  EXPECT_TRUE(absl::StrContains(sidecar.log(), "\"event\":\"module_state_failed\"")) << sidecar.log();
  EXPECT_FALSE(absl::StrContains(sidecar.log(), "snapshot_save_failed")) << sidecar.log();

  ASSERT_TRUE(std::filesystem::create_directory(dir.path() + "/later"));
  EXPECT_TRUE(sidecar.WaitReady(absl::Seconds(10)));
  struct stat st {};
  ASSERT_EQ(::stat(state.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  const absl::Time deadline = absl::Now() + absl::Seconds(5);  // logged once the write returns
  while (!absl::StrContains(sidecar.log(), "\"event\":\"module_state_written\"") && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_TRUE(absl::StrContains(sidecar.log(), "\"event\":\"module_state_written\"")) << sidecar.log();
}

// No nginx needed: the binary's start-up contract.
TEST(EdgepassValidatorBinary, BadConfigurationIsOneLineAndExit2) {
  TempDir dir;
  using ::edgepass::testing::RunProcess;
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::string snapshot = dir.path() + "/damaged.snapshot";
  WriteFileOrDie(snapshot,
                 "{\"format\":\"edgepass-validator-snapshot\",\"vers");
  // A key file others may read is refused before anything starts.
  const std::string open_key = dir.path() + "/open.key";
  WriteFileOrDie(open_key, "ep_notARealKeyButTreatedAsOne0123456789abcdef\n");
  ASSERT_EQ(::chmod(open_key.c_str(), 0644), 0);
  for (const Case& c : std::vector<Case>{
           {{}, "no keyring source: give --keyring, --snapshot or --server"},
           {{"--server", "127.0.0.1:1", "--api-key-file", open_key},
            "--api-key-file: api key file '" + open_key +
                "' is accessible by group or others (mode 0644)"},
           {{"--server", "127.0.0.1:1", "--server-ca",
             dir.path() + "/none.pem"},
            "--server-ca/--client-cert/--client-key: grpc client tls: "
            "ca_file '"},
           {{"--keyring", dir.path() + "/none.json"}, "--keyring: "},
           {{"--keyring", "k.json", "--mode", "/=strict"},
            "--mode: mode 'strict'"},
           {{"--snapshot", snapshot},
            "--snapshot: " + snapshot + ": snapshot: file: not valid JSON"},
       }) {
    std::vector<std::string> argv = {kValidatorPath};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    ::edgepass::testing::RunResult r =
        RunProcess(argv, dir.path(), absl::Seconds(10));
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    const nlohmann::json line =
        nlohmann::json::parse(r.err, nullptr, /*allow_exceptions=*/false);
    ASSERT_TRUE(line.is_object()) << r.err;
    EXPECT_EQ(line.value("component", ""), "edgepass-validator") << r.err;
    EXPECT_EQ(line.value("level", ""), "error") << r.err;
    EXPECT_EQ(line.value("event", ""), "bad_configuration") << r.err;
    EXPECT_TRUE(absl::StartsWith(line.value("error", ""), c.message))
        << r.err;
    EXPECT_EQ(r.err.find("ep_notARealKey"), std::string::npos) << r.err;
  }
  // The damaged snapshot is left as it was.
  EXPECT_EQ(ReadFileOrEmpty(snapshot),
            "{\"format\":\"edgepass-validator-snapshot\",\"vers");
}

}  // namespace
}  // namespace edgepass
