// ngx_http_edgepass_module in a real nginx on loopback, against the CLI: every
// vector case and a set of bad inputs sent through nginx get the decision,
// reason and origin path `edgepass token verify` gives; the module fails
// closed without state, picks up a new state within 100 ms and keeps the last
// good one over a damaged update; and with a million revoked sessions four
// workers hold one copy of the set. The vector and bad-input runs load the
// AddressSanitizer build of the module (ASan runtime preloaded into nginx);
// any ASan report fails the test. The end-to-end scenarios with a real server
// and sidecar run as the module.* variants of the e2e tests (CMakeLists).
// Label integration.
#include <glob.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "client/validator/cloudfront_check.h"
#include "client/validator/module_state.h"
#include "core/cloudfront_signer.h"
#include "core/cloudfront_test_keys_internal.h"
#include "core/keyring.h"
#include "core/random.h"
#include "core/token_issuer.h"
#include "gtest/gtest.h"
#include "http/http_test_client.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/edge_stack.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_process.h"
#include "tests/vectors/vector_cases.h"

extern char** environ;

namespace edgepass::testing {
namespace {

using http::testing::Fetch;
using http::testing::TestResponse;

// What the CLI or nginx said about one request.
struct Outcome {
  bool allow = false;
  std::string reason;
  std::string path;  // origin path when allowed
  std::string Describe() const { return absl::StrCat(allow ? "allow " : "deny ", reason, " ", path); }
};

struct Request {
  std::string uri;  // path, optionally ?query
  std::string ip;
  std::vector<std::pair<std::string, std::string>> headers;
  std::vector<std::pair<std::string, std::string>> query;  // decoded, appended
  int64_t now_ms = 0;
};

std::string RunCapture(const std::vector<std::string>& args, int* exit_code) {
  TempDir dir;
  const std::string out = dir.path() + "/out";
  ChildProcess p(args, out, dir.path() + "/err");
  const std::optional<int> rc = p.WaitForExit(absl::Seconds(20));
  *exit_code = rc.value_or(-1);
  return ReadFileOrEmpty(out);
}

std::string SecondsArg(int64_t ms) {
  std::string s = std::to_string(ms / 1000);
  if (ms % 1000 != 0) {
    char frac[8];
    std::snprintf(frac, sizeof frac, ".%03d", static_cast<int>(ms % 1000));
    s += frac;
  }
  return s;
}

std::string PercentEncode(absl::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      absl::StrAppend(&out, "%", absl::Hex(c, absl::kZeroPad2));
    }
  }
  return out;
}

class NginxModuleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!NginxAvailable()) FAIL() << "nginx is not installed (scripts/deps.sh installs it)";
    if (NginxModuleTestPath().empty()) FAIL() << "the module was not built (nginx-dev missing?)";
    root_ = dir_.path();
    state_ = root_ + "/module.state";
    for (const char* d : {"/logs", "/tmp"}) std::filesystem::create_directories(root_ + d);
  }

  void TearDown() override {
    nginx_.reset();
    // Any AddressSanitizer report from a worker fails the test.
    glob_t g{};
    if (glob((root_ + "/logs/asan.*").c_str(), 0, nullptr, &g) == 0) {
      for (size_t i = 0; i < g.gl_pathc; ++i) {
        ADD_FAILURE() << "AddressSanitizer: " << ReadFileOrEmpty(g.gl_pathv[i]);
      }
    }
    globfree(&g);
  }

  // Publishes a state the way the sidecar does (temporary file + rename).
  void Publish(uint64_t version, const core::Keyring& keys, const core::RevocationSet& revoked = {}) {
    WriteFileOrDie(state_ + ".tmp", client::SerializeModuleState(version, keys, revoked));
    ASSERT_EQ(std::rename((state_ + ".tmp").c_str(), state_.c_str()), 0);
  }

  // A test config: the ASan build with the test clock (X-Test-Now-Ms), the
  // viewer IP through the realip module (X-Test-Real-IP), geo from the
  // CloudFront headers (the trusted-CDN setup), and an origin echoing the
  // target it was asked for.
  // `cloudfront_keys` non-empty: CloudFront routes on /cf/ with those keys.
  void StartTestNginx(int workers = 1, const std::string& cloudfront_keys = "") {
    const std::string asan = Trim(RunCaptureOrEmpty({"/usr/bin/gcc", "-print-file-name=libasan.so"}));
    absl::StatusOr<EdgeNginx> edge = StartNginxOn(
        root_, [&] { return WriteTestNginxConf(workers, cloudfront_keys); },
        {"LD_PRELOAD=" + asan, "ASAN_OPTIONS=detect_leaks=0:log_path=" + root_ + "/logs/asan"});
    ASSERT_TRUE(edge.ok()) << edge.status();
    nginx_ = std::move(edge->nginx);
    edge_port_ = edge->ports.edge;
  }

  // StartTestNginx's config, with free ports, written to `root_`/nginx.conf.
  absl::StatusOr<EdgePorts> WriteTestNginxConf(int workers, const std::string& cloudfront_keys) {
    const uint16_t edge = FreeLoopbackPort();
    const uint16_t origin = FreeLoopbackPort();
    std::string conf = absl::StrCat(
        ::geteuid() == 0 ? "user root;\n" : "", "load_module ", NginxModuleTestPath(), ";\n",
        "worker_processes ", workers, ";\nerror_log logs/error.log info;\npid logs/nginx.pid;\n",
        "events { worker_connections 256; }\n", "http {\n  access_log off;\n",
        "  client_body_temp_path tmp/b; proxy_temp_path tmp/p; fastcgi_temp_path tmp/f;\n",
        "  uwsgi_temp_path tmp/u; scgi_temp_path tmp/s;\n", "  large_client_header_buffers 4 16k;\n",
        "  edgepass_state_file ", state_, ";\n",
        cloudfront_keys.empty()
            ? std::string()
            : absl::StrCat("  edgepass_cloudfront_public_keys ", cloudfront_keys,
                           ";\n  edgepass_cloudfront_url_base https://cdn.example.com;\n",
                           "  edgepass_cloudfront_route /cf/;\n"),
        "  set_real_ip_from 127.0.0.1; real_ip_header X-Test-Real-IP;\n", "  server {\n",
        "    listen 127.0.0.1:", edge, ";\n",
        "    location = /_version { return 200 \"$edgepass_state_version $edgepass_state_errors\"; }\n",
        "    location / {\n", "      edgepass enforce;\n",
        "      edgepass_test_now_ms $http_x_test_now_ms;\n",
        "      edgepass_geo_country $http_cloudfront_viewer_country;\n",
        "      edgepass_geo_region $http_cloudfront_viewer_country_region;\n",
        "      edgepass_geo_city $http_cloudfront_viewer_city;\n",
        "      add_header X-Test-Session $edgepass_session always;\n",
        "      add_header X-Test-Kid $edgepass_kid always;\n",
        "      proxy_pass http://127.0.0.1:", origin, "$edgepass_path;\n", "    }\n",
        // Route modes as the shipped config documents them: regex locations
        // on the path after the token segment.
        "    location ~ ^/[^/]+/lo/ {\n", "      edgepass log_only;\n",
        "      edgepass_test_now_ms $http_x_test_now_ms;\n",
        "      proxy_pass http://127.0.0.1:", origin, "$edgepass_path;\n", "    }\n",
        "    location ~ ^(/[^/]+)?/free/ {\n", "      edgepass off;\n",
        "      proxy_pass http://127.0.0.1:", origin, "$edgepass_path;\n", "    }\n", "  }\n",
        "  server {\n    listen 127.0.0.1:", origin, ";\n",
        "    location / { return 200 \"$request_uri\"; }\n  }\n}\n");
    WriteFileOrDie(root_ + "/nginx.conf", conf);
    return EdgePorts{.edge = edge, .origin = origin};
  }

  static std::string RunCaptureOrEmpty(const std::vector<std::string>& args) {
    int rc = 0;
    return RunCapture(args, &rc);
  }
  static std::string Trim(std::string s) { return std::string(absl::StripAsciiWhitespace(s)); }

  // Waits until a worker maps state `version` (the test config has one).
  ::testing::AssertionResult WaitVersion(uint64_t version, absl::Duration timeout = absl::Seconds(5)) {
    const absl::Time deadline = absl::Now() + timeout;
    std::string last;
    while (absl::Now() < deadline) {
      std::optional<TestResponse> r = Fetch(edge_port_, "GET", "/_version");
      if (r.has_value()) {
        last = r->body;
        if (absl::StartsWith(r->body, absl::StrCat(version, " "))) return ::testing::AssertionSuccess();
      }
      absl::SleepFor(absl::Milliseconds(5));
    }
    return ::testing::AssertionFailure() << "version " << version << " never mapped; last " << last
                                         << "\n" << ReadFileOrEmpty(root_ + "/logs/error.log");
  }

  Outcome ThroughNginx(const Request& req) {
    std::string target = req.uri;
    char sep = absl::StrContains(target, '?') ? '&' : '?';
    for (const auto& [n, v] : req.query) {
      absl::StrAppend(&target, std::string(1, sep), PercentEncode(n), "=", PercentEncode(v));
      sep = '&';
    }
    std::vector<std::pair<std::string, std::string>> headers = req.headers;
    headers.emplace_back("X-Test-Now-Ms", absl::StrCat(req.now_ms));
    if (!req.ip.empty()) headers.emplace_back("X-Test-Real-IP", req.ip);
    // The case's own Host when it has one (a token may bind it).
    bool has_host = false;
    for (const auto& [n, v] : headers) has_host |= absl::EqualsIgnoreCase(n, "host");
    std::string raw = absl::StrCat("GET ", target, " HTTP/1.1\r\n", has_host ? "" : "Host: 127.0.0.1\r\n");
    for (const auto& [n, v] : headers) absl::StrAppend(&raw, n, ": ", v, "\r\n");
    absl::StrAppend(&raw, "Connection: close\r\n\r\n");
    std::optional<TestResponse> r;
    if (auto c = http::testing::TestConnection::Connect(edge_port_); c != nullptr && c->Send(raw)) {
      r = c->ReadResponse();
    }
    Outcome o;
    if (!r.has_value()) {
      o.reason = "<no response>";
      return o;
    }
    o.allow = r->status == 200;
    if (o.allow) {
      o.reason = "ok";
      o.path = r->body;  // the origin echoes what it was asked for
    } else {
      const std::string* reason = r->Header("X-Edgepass-Reason");
      o.reason = reason ? *reason : absl::StrCat("<status ", r->status, ">");
    }
    return o;
  }

  Outcome ThroughCli(const Request& req, const std::vector<std::pair<std::string, std::string>>& keys) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& [kid, value] : keys) {
      list.push_back({{"id", kid}, {"value", value}, {"state", list.empty() ? "primary" : "secondary"}});
    }
    const std::string keyring = root_ + "/cli_keyring.json";
    WriteFileOrDie(keyring, nlohmann::json{{"keys", list}}.dump());
    std::vector<std::string> args = {EDGEPASS_CLI_PATH, "token", "verify", "--keyring", keyring,
                                     "--uri", req.uri, "--now", SecondsArg(req.now_ms)};
    if (!req.ip.empty()) args.insert(args.end(), {"--ip", req.ip});
    for (const auto& [n, v] : req.headers) args.insert(args.end(), {"--header", n + "=" + v});
    for (const auto& [n, v] : req.query) args.insert(args.end(), {"--query", n + "=" + v});
    int rc = 0;
    const std::string out = RunCapture(args, &rc);
    const nlohmann::json line = nlohmann::json::parse(out, nullptr, false);
    Outcome o;
    if (!line.is_object()) {
      o.reason = "<cli: " + out + ">";
      return o;
    }
    o.allow = line.value("allow", false);
    o.reason = line.value("reason", "");
    if (o.allow) o.path = line["path"].get<std::string>();
    return o;
  }

  static core::Keyring KeyringOf(const std::vector<std::pair<std::string, std::string>>& keys) {
    std::vector<core::SigningKey> list;
    for (const auto& [kid, value] : keys) {
      list.push_back({.id = kid, .value = value,
                      .state = list.empty() ? core::KeyState::kPrimary : core::KeyState::kSecondary});
    }
    absl::StatusOr<core::Keyring> k = core::Keyring::Create(list);
    EXPECT_TRUE(k.ok()) << k.status();
    return k.ok() ? *std::move(k) : core::Keyring();
  }

  TempDir dir_;
  std::string root_;
  std::string state_;
  uint16_t edge_port_ = 0;
  std::unique_ptr<Nginx> nginx_;
};

TEST_F(NginxModuleTest, EveryVectorCaseGetsTheCliOutcome) {
  std::vector<VectorCase> cases = LoadVectorCases(VectorsDir());
  for (VectorCase& c : LoadVectorCases(OwnVectorsDir())) cases.push_back(std::move(c));
  ASSERT_GT(cases.size(), 30u);
  Publish(1, KeyringOf(cases.front().validator_keys));
  ASSERT_NO_FATAL_FAILURE(StartTestNginx());
  uint64_t version = 1;
  std::vector<std::pair<std::string, std::string>> published = cases.front().validator_keys;
  for (const VectorCase& c : cases) {
    SCOPED_TRACE(c.id + ": " + c.title);
    if (c.validator_keys != published) {  // this case's keyring, picked up live
      Publish(++version, KeyringOf(c.validator_keys));
      ASSERT_TRUE(WaitVersion(version));
      published = c.validator_keys;
    }
    const Request req{.uri = c.request_uri, .ip = c.viewer_ip, .headers = c.headers, .query = c.query,
                      .now_ms = c.validation_time_ms};
    const Outcome cli = ThroughCli(req, c.validator_keys);
    const Outcome module = ThroughNginx(req);
    EXPECT_EQ(module.Describe(), cli.Describe());
    EXPECT_EQ(cli.allow, c.expect_valid);
  }
}

TEST_F(NginxModuleTest, BadInputIsRefusedAsByTheLibrary) {
  core::SecureRandom random;
  const absl::Time now = absl::FromUnixSeconds(1'800'000'000);
  core::SigningKey key = core::GenerateSigningKey(now, core::KeyState::kPrimary, random);
  const std::vector<std::pair<std::string, std::string>> keys = {{key.id, key.value}};
  Publish(1, KeyringOf(keys));
  ASSERT_NO_FATAL_FAILURE(StartTestNginx());

  core::TokenPolicy policy;
  policy.paths = {"/vod/"};
  policy.querystrings = {"cid"};
  core::ViewerAttributes viewer;
  viewer.qs = {{"cid", "cust-1"}};
  const std::string token = core::IssueToken(policy, viewer, key, now, random)->token;
  const std::string huge = "eyJ" + std::string(5000, 'A') + ".eyJ" + std::string(10, 'B') + ".sig";
  const std::vector<Request> requests = {
      {.uri = "/" + token + "/vod/a.ts?cid=cust-1"},                     // valid
      {.uri = "/" + huge + "/vod/a.ts"},                                 // huge token
      {.uri = "/" + token + "/vod/%zz/a.ts?cid=cust-1"},                 // malformed escape
      {.uri = "/" + token + "/vod/%2e%2e/a.ts?cid=cust-1"},              // encoded dot segment
      {.uri = "/" + token + "/vod/%c0%ae/a.ts?cid=cust-1"},              // overlong UTF-8
      {.uri = "/" + token + "/vod/..;x/a.ts?cid=cust-1"},                // ';' dot segment
      {.uri = "/" + token + "/vod/a;jsessionid=1/b.ts?cid=cust-1"},      // ';' params
      {.uri = "/" + token + "/vod/a.ts?cid=cust-1&cid=cust-1"},          // duplicate bound param
      {.uri = "/" + token + "/vod/a.ts?cid=cust-2"},                     // wrong bound value
      {.uri = "/" + token + "/vod/a.ts"},                                // bound param missing
      {.uri = "/" + token + "X/vod/a.ts?cid=cust-1"},                    // tampered
      {.uri = "/" + token + "/live/a.ts?cid=cust-1"},                    // wrong path
      {.uri = "/" + token + "/vod//a.ts?cid=cust-1"},                    // empty segment
  };
  for (Request req : requests) {
    req.now_ms = absl::ToUnixMillis(now);
    SCOPED_TRACE(req.uri.substr(req.uri.find('/', 1)));
    const Outcome cli = ThroughCli(req, keys);
    const Outcome module = ThroughNginx(req);
    if (absl::StrContains(req.uri, "%zz")) {
      // nginx's own URI parser refuses a malformed escape (400) before any
      // module runs; the library refuses it too.
      EXPECT_EQ(module.Describe(), "deny <status 400> ");
      EXPECT_FALSE(cli.allow);
      continue;
    }
    EXPECT_EQ(module.Describe(), cli.Describe());
  }
  // Expired: the same token a day later.
  Request late{.uri = "/" + token + "/vod/a.ts?cid=cust-1", .now_ms = absl::ToUnixMillis(now + absl::Hours(24))};
  EXPECT_EQ(ThroughNginx(late).reason, "expired");
}

TEST_F(NginxModuleTest, FailsClosedWithoutStateThenFollowsTheFileAndKeepsTheLastGoodOne) {
  core::SecureRandom random;
  const absl::Time now = absl::Now();
  core::SigningKey key = core::GenerateSigningKey(now, core::KeyState::kPrimary, random);
  core::TokenPolicy policy;
  policy.paths = {"/vod/"};
  policy.ssn = true;
  core::ViewerAttributes viewer;
  viewer.session_id = "viewerSess1";
  const std::string token = core::IssueToken(policy, viewer, key, now, random)->token;
  const Request req{.uri = "/" + token + "/vod/a.ts", .now_ms = absl::ToUnixMillis(now)};

  ASSERT_NO_FATAL_FAILURE(StartTestNginx());
  std::optional<TestResponse> r = Fetch(edge_port_, "GET", req.uri, {{"X-Test-Now-Ms", absl::StrCat(req.now_ms)}});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(HeaderOr(*r, "X-Edgepass-Reason"), "no_state");
  EXPECT_TRUE(absl::StrContains(ReadFileOrEmpty(root_ + "/logs/error.log"),
                                absl::StrCat("edgepass: no state file \"", state_, "\"")))
      << ReadFileOrEmpty(root_ + "/logs/error.log");

  // A worker without a state looks on every request (not every 50 ms): the
  // first request after the file appears is served.
  Publish(1, *core::Keyring::Create({key}));
  EXPECT_EQ(ThroughNginx(req).Describe(), "allow ok /vod/a.ts");

  core::RevocationSet revoked;
  revoked.Add("viewerSess1");
  Publish(2, *core::Keyring::Create({key}), revoked);
  const absl::Time published = absl::Now();
  ASSERT_TRUE(WaitVersion(2));
  EXPECT_LT(absl::Now() - published, absl::Milliseconds(100));
  EXPECT_EQ(ThroughNginx(req).reason, "revoked");

  // A damaged update: counted and logged, the last good state kept.
  WriteFileOrDie(state_ + ".tmp", "EPMODST\0garbage");
  ASSERT_EQ(std::rename((state_ + ".tmp").c_str(), state_.c_str()), 0);
  absl::SleepFor(absl::Milliseconds(120));
  EXPECT_EQ(ThroughNginx(req).reason, "revoked");
  r = Fetch(edge_port_, "GET", "/_version");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->body, "2 1");
  EXPECT_TRUE(absl::StrContains(ReadFileOrEmpty(root_ + "/logs/error.log"),
                                "keeping the last good state (state errors: 1)"))
      << ReadFileOrEmpty(root_ + "/logs/error.log");
}

TEST_F(NginxModuleTest, LogOnlyAndOffLocationsForwardTheStrippedPath) {
  core::SecureRandom random;
  const absl::Time now = absl::Now();
  core::SigningKey key = core::GenerateSigningKey(now, core::KeyState::kPrimary, random);
  Publish(1, *core::Keyring::Create({key}));
  ASSERT_NO_FATAL_FAILURE(StartTestNginx());
  core::TokenPolicy policy;
  policy.paths = {"/vod/"};
  const std::string token = core::IssueToken(policy, {}, key, now, random)->token;
  const std::vector<std::pair<std::string, std::string>> clock = {
      {"X-Test-Now-Ms", absl::StrCat(absl::ToUnixMillis(now))}};

  // log_only: path_not_allowed, let through with the reason, and logged.
  std::optional<TestResponse> r = Fetch(edge_port_, "GET", "/" + token + "/lo/a.ts", clock);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "/lo/a.ts");
  EXPECT_EQ(HeaderOr(*r, "X-Edgepass-Would-Deny"), "path_not_allowed");
  EXPECT_TRUE(absl::StrContains(ReadFileOrEmpty(root_ + "/logs/error.log"),
                                "edgepass: would deny (log_only): path_not_allowed, path \"/lo/a.ts\""));
  // off: nothing checked, a token segment still stripped.
  r = Fetch(edge_port_, "GET", "/" + token + "X/free/a.ts", clock);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "/free/a.ts");
  r = Fetch(edge_port_, "GET", "/free/b.ts", clock);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->body, "/free/b.ts");
  // Enforced elsewhere; the key is named for logs.
  r = Fetch(edge_port_, "GET", "/" + token + "/vod/a.ts", clock);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(HeaderOr(*r, "X-Test-Kid"), key.id);
}

TEST_F(NginxModuleTest, CloudFrontRoutesUnderAddressSanitizer) {
  core::SecureRandom random;
  const absl::Time now = absl::Now();
  Publish(1, *core::Keyring::Create({core::GenerateSigningKey(now, core::KeyState::kPrimary, random)}));
  absl::StatusOr<core::CloudFrontSigner> signer =
      core::CloudFrontSigner::Create("K2JCJMDEHXQW5F", core::testing::RsaPrivateKeyPem());
  ASSERT_TRUE(signer.ok()) << signer.status();
  const std::string keys = root_ + "/cloudfront-keys.json";
  WriteFileOrDie(keys, nlohmann::json{{"K2JCJMDEHXQW5F", signer->PublicKeyPem()}}.dump());
  ASSERT_NO_FATAL_FAILURE(StartTestNginx(1, keys));
  auto sign = [&](const std::string& target) {
    absl::StatusOr<std::string> url =
        signer->SignUrl("https://cdn.example.com" + target, {.expires = now + absl::Hours(1)}, now);
    EXPECT_TRUE(url.ok()) << url.status();
    return url.ok() ? url->substr(std::string("https://cdn.example.com").size()) : "";
  };
  struct Case {
    std::string target;
    std::string cookie;
    int status;
    std::string reason;  // X-Edgepass-Reason, or X-Edgepass-Would-Deny when 200
    std::string origin;  // what the origin was asked for when 200
  };
  std::string tampered = sign("/cf/a.ts");
  // Another character of the alphabet, so the signature stays well-formed
  // and only fails to verify (flipping a bit could make 'A' into '@': then
  // the refusal is "malformed").
  char& c = tampered[tampered.find("Signature=") + 15];
  c = c == 'A' ? 'B' : 'A';
  absl::StatusOr<std::vector<core::CloudFrontCookie>> cookies = signer->SignCookiesWithPolicy(
      {.resource = "https://cdn.example.com/cf/*", .conditions = {.expires = now + absl::Hours(1)}}, now);
  ASSERT_TRUE(cookies.ok()) << cookies.status();
  std::string jar = "theme=dark";
  for (const core::CloudFrontCookie& c : *cookies) absl::StrAppend(&jar, "; ", c.name, "=", c.value);
  const std::vector<Case> cases = {
      {sign("/cf/a.ts?x=1"), "", 200, "", "/cf/a.ts?x=1"},
      {tampered, "", 403, "bad_signature", ""},
      {"/cf/a.ts?x=2", "", 401, "missing_signature", ""},
      {"/cf/a.ts?y=3", jar, 200, "", "/cf/a.ts?y=3"},
      {"/cf/a.ts", "CloudFront-Policy=%%%; CloudFront-Signature=~~", 403, "malformed", ""},
      {"/cf/a.ts?Expires=1&Expires=2&Signature=x&Key-Pair-Id=K2JCJMDEHXQW5F", "", 403, "malformed", ""},
      {"/cf/a.ts?Signature=" + std::string(7000, 'A') + "&Expires=9999999999&Key-Pair-Id=K2JCJMDEHXQW5F", "",
       403, "*library*", ""},
      {"/cf/%2e%2e/a.ts", "", 403, "unsafe_path", ""},
      {"/cf/lo/a.ts?z=4", "", 200, "missing_signature", "/cf/lo/a.ts?z=4"},
      {"/cf/free/a.ts?Signature=x&w=5", "", 200, "", "/cf/free/a.ts?w=5"},
  };
  for (const Case& c : cases) {
    std::vector<std::pair<std::string, std::string>> headers;
    if (!c.cookie.empty()) headers.emplace_back("Cookie", c.cookie);
    std::optional<TestResponse> r = Fetch(edge_port_, "GET", c.target, headers);
    ASSERT_TRUE(r.has_value()) << c.target;
    EXPECT_EQ(r->status, c.status) << c.target.substr(0, 200);
    const std::string reason = r->status == 200 ? HeaderOr(*r, "X-Edgepass-Would-Deny")
                                                : HeaderOr(*r, "X-Edgepass-Reason");
    std::string want = c.reason.empty() ? "<none>" : c.reason;
    if (want == "*library*") {  // whatever the shared check says (client/validator/cloudfront_check.h)
      core::CloudFrontPublicKeys trusted;
      ASSERT_TRUE(trusted.Add("K2JCJMDEHXQW5F", signer->PublicKeyPem()).ok());
      const client::CloudFrontCheck check = client::CheckCloudFrontRequest(
          {.url_base = "https://cdn.example.com", .uri = c.target,
           .path = absl::string_view(c.target).substr(0, c.target.find('?')), .client_ip = "127.0.0.1"},
          trusted, absl::Now(), true);
      want = std::string(client::CloudFrontRefusalName(check.decision.reason));
    }
    EXPECT_EQ(reason, want) << c.target.substr(0, 200);
    if (c.status == 200) EXPECT_EQ(r->body, c.origin) << c.target.substr(0, 200);
  }
  EXPECT_FALSE(absl::StrContains(ReadFileOrEmpty(root_ + "/logs/error.log"), tampered.substr(20, 60)));
}

// PSS of nginx's master and workers, in kB (/proc/PID/smaps_rollup).
int64_t NginxPssKb(const std::string& pid_file) {
  int64_t master = 0;
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(ReadFileOrEmpty(pid_file)), &master)) return -1;
  std::vector<int64_t> pids = {master};
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    int64_t pid = 0;
    if (!absl::SimpleAtoi(entry.path().filename().string(), &pid)) continue;
    const std::string stat = ReadFileOrEmpty(entry.path().string() + "/stat");
    const size_t close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::vector<std::string> f = absl::StrSplit(stat.substr(close + 2), ' ');
    if (f.size() > 1 && f[1] == std::to_string(master)) pids.push_back(pid);
  }
  int64_t total = 0;
  for (int64_t pid : pids) {
    for (absl::string_view line : absl::StrSplit(ReadFileOrEmpty(absl::StrCat("/proc/", pid, "/smaps_rollup")), '\n')) {
      if (!absl::StartsWith(line, "Pss:")) continue;
      int64_t kb = 0;
      if (absl::SimpleAtoi(absl::StripAsciiWhitespace(line.substr(4, line.size() - 4 - 3)), &kb)) total += kb;
    }
  }
  return total;
}

TEST_F(NginxModuleTest, AMillionRevokedSessionsCostOneCopyForFourWorkers) {
  core::SecureRandom random;
  const absl::Time now = absl::Now();
  core::SigningKey key = core::GenerateSigningKey(now, core::KeyState::kPrimary, random);
  const core::Keyring keys = *core::Keyring::Create({key});

  // nginx with the production module, four workers, state mapped at start.
  auto pss_with = [&](const core::RevocationSet& revoked, int64_t* file_kb) -> int64_t {
    Publish(1, keys, revoked);
    *file_kb = static_cast<int64_t>(std::filesystem::file_size(state_) / 1024);
    absl::StatusOr<EdgeNginx> nginx = StartNginxOn(root_, [&] {
      absl::StatusOr<EdgePorts> ports = WriteModuleNginxConf(root_, NginxModulePath(), state_);
      if (!ports.ok()) return ports;
      std::string conf = ReadFileOrEmpty(root_ + "/nginx.conf");
      conf = absl::StrReplaceAll(conf, {{"worker_processes auto;", "worker_processes 4;"}});
      WriteFileOrDie(root_ + "/nginx.conf", conf);
      return ports;
    });
    EXPECT_TRUE(nginx.ok()) << nginx.status();
    absl::SleepFor(absl::Seconds(1));  // every worker has mapped and checked the state
    const int64_t pss = NginxPssKb(root_ + "/logs/nginx.pid");
    if (nginx.ok()) nginx->nginx.reset();
    absl::SleepFor(absl::Milliseconds(300));
    return pss;
  };
  int64_t empty_file_kb = 0;
  int64_t big_file_kb = 0;
  const int64_t base = pss_with(core::RevocationSet(), &empty_file_kb);
  core::RevocationSet million;
  million.Reserve(1'000'000, 12'000'000);
  for (int i = 0; i < 1'000'000; ++i) million.Add(absl::StrCat("s", 10'000'000 + i, "xyz"));
  const int64_t big = pss_with(million, &big_file_kb);
  ASSERT_GT(base, 0);
  const int64_t growth = big - base;
  std::printf("nginx PSS: %lld kB with no revocations, %lld kB with 1,000,000 (file %lld kB): +%lld kB\n",
              static_cast<long long>(base), static_cast<long long>(big),
              static_cast<long long>(big_file_kb), static_cast<long long>(growth));
  EXPECT_LE(growth, big_file_kb * 5 / 4) << "more than one copy of the set across four workers";
}

TEST_F(NginxModuleTest, ReplacingAMillionEntrySetDoesNotStallRequests) {
  core::SecureRandom random;
  const absl::Time now = absl::Now();
  core::SigningKey key = core::GenerateSigningKey(now, core::KeyState::kPrimary, random);
  const core::Keyring keys = *core::Keyring::Create({key});
  core::RevocationSet million;
  million.Reserve(1'000'000, 12'000'000);
  for (int i = 0; i < 1'000'000; ++i) million.Add(absl::StrCat("s", 10'000'000 + i, "xyz"));
  Publish(1, keys, million);
  std::filesystem::create_directories(root_ + "/hls/vod");
  WriteFileOrDie(root_ + "/hls/vod/a.ts", "segment");
  absl::StatusOr<EdgeNginx> edge =
      StartNginxOn(root_, [&] { return WriteModuleNginxConf(root_, NginxModulePath(), state_); });
  ASSERT_TRUE(edge.ok()) << edge.status();
  nginx_ = std::move(edge->nginx);
  const EdgePorts* ports = &edge->ports;

  core::TokenPolicy policy;
  policy.paths = {"/vod/"};
  policy.ssn = true;
  core::ViewerAttributes viewer;
  viewer.session_id = "playingSess1";
  const std::string target = "/" + core::IssueToken(policy, viewer, key, now, random)->token + "/vod/a.ts";
  // Versions 2..4 replace the whole set (one more id each) while a viewer plays.
  absl::Duration worst;
  int requests = 0;
  for (uint64_t version = 2; version <= 4; ++version) {
    million.Add(absl::StrCat("extra", version, "xyz"));
    Publish(version, keys, million);
    const absl::Time until = absl::Now() + absl::Milliseconds(300);
    while (absl::Now() < until) {
      const absl::Time start = absl::Now();
      std::optional<TestResponse> r = Fetch(ports->edge, "GET", target);
      worst = std::max(worst, absl::Now() - start);
      ASSERT_TRUE(r.has_value());
      ASSERT_EQ(r->status, 200) << HeaderOr(*r, "X-Edgepass-Reason");
      ASSERT_EQ(r->body, "segment");
      ++requests;
    }
  }
  std::printf("%d requests across three 1,000,000-entry updates, slowest %s\n", requests,
              absl::FormatDuration(worst).c_str());
  EXPECT_LT(worst, absl::Milliseconds(250));
}

}  // namespace
}  // namespace edgepass::testing
