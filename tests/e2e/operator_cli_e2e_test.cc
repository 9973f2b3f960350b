// The operator commands of the real `edgepass` binary (asset, policy,
// session, validators, keys, cloudfront-key) against a real edgepass-server
// that authenticates every call (--access-file), with a real
// edgepass-validator streaming from it: a catalog round trip through files
// the CLI (or the REST gateway) exported and through YAML, a CloudFront key,
// a revocation the validator then refuses and a restore it lets through
// again, an AUTO report with its score, the validator listed with its lag, a
// key rotation it acknowledges, and bad input (unknown asset, malformed file,
// missing scope, no server) with the message and exit code a script relies
// on. Label: integration.
#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "client/lib/session_client.h"
#include "gtest/gtest.h"
#include "http/http_test_client.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/edge_stack.h"
#include "tests/integration/server_process.h"
#include "tests/support/test_process.h"

namespace edgepass {
namespace {

using ::edgepass::http::testing::Fetch;
using ::edgepass::http::testing::TestResponse;
using ::edgepass::testing::ChildProcess;
using ::edgepass::testing::FreeLoopbackPort;
using ::edgepass::testing::HeaderOr;
using ::edgepass::testing::MakeApiKey;
using ::edgepass::testing::NewApiKey;
using ::edgepass::testing::ReadFileOrEmpty;
using ::edgepass::testing::RunProcess;
using ::edgepass::testing::RunResult;
using ::edgepass::testing::ServerProcess;
using ::edgepass::testing::Sidecar;
using ::edgepass::testing::TempDir;
using ::edgepass::testing::WriteFileOrDie;
using nlohmann::json;

constexpr char kValidatorId[] = "edge-cli-test";

class OperatorCliE2eTest : public ::testing::Test {
 protected:
  // One server and one validator for the suite: every test uses its own
  // asset, policy and session names.
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    const std::string root = dir_->path();
    const NewApiKey admin = MakeApiKey("operator:admin", root);
    const NewApiKey edge = MakeApiKey("edge-validator:edge-sync", root);
    const NewApiKey backend = MakeApiKey("playback-backend:issue", root);
    admin_key_ = new std::string(admin.key);
    admin_key_file_ = new std::string(KeyFile("admin", admin.key));
    issue_key_file_ = new std::string(KeyFile("backend", backend.key));
    const std::string access = root + "/access.json";
    WriteFileOrDie(access, absl::StrCat(R"({"api_keys":[)", admin.entry_json, ",", edge.entry_json, ",",
                                        backend.entry_json, "]}"));
    server_ = new ServerProcess(root, root + "/data", {"--access-file", access, "--key-rotation-ack-deadline", "10s"});
    ASSERT_TRUE(server_->WaitUntilServing()) << server_->log();
    sidecar_ = new Sidecar(
        root, {"--server", server_->address(), "--listen", "127.0.0.1:0", "--api-key-file", KeyFile("edge", edge.key)},
        {absl::StrCat("EDGEPASS_VALIDATOR_ID=", kValidatorId)});
    ASSERT_TRUE(sidecar_->WaitReady()) << sidecar_->log();
    sidecar_port_ = sidecar_->WaitListening();
  }
  static void TearDownTestSuite() {
    delete sidecar_;
    delete server_;
    delete admin_key_;
    delete admin_key_file_;
    delete issue_key_file_;
    delete dir_;
  }

  static std::string KeyFile(const std::string& name, const std::string& key) {
    const std::string path = absl::StrCat(dir_->path(), "/", name, ".key");
    WriteFileOrDie(path, key + "\n");
    EXPECT_EQ(::chmod(path.c_str(), 0600), 0);
    return path;
  }

  // `edgepass ARGS --server ADDR --api-key-file KEY` (the admin key unless
  // `key_file` is given; none when it is "").
  static RunResult Cli(std::vector<std::string> args, std::optional<std::string> key_file = std::nullopt) {
    args.insert(args.begin(), EDGEPASS_CLI_PATH);
    args.insert(args.end(), {"--server", server_->address()});
    const std::string key = key_file.value_or(*admin_key_file_);
    if (!key.empty()) args.insert(args.end(), {"--api-key-file", key});
    return RunProcess(args, dir_->path(), absl::Seconds(40));
  }

  // The JSON document the command printed (null when it printed none).
  static json Json(const RunResult& r) { return json::parse(r.out, nullptr, /*allow_exceptions=*/false); }

  // A uint64 field of protobuf's JSON (a string; left out when 0).
  static uint64_t Uint64(const json& message, const char* field) {
    return std::stoull(message.value(field, std::string("0")));
  }

  static std::string Write(const std::string& name, const std::string& text) {
    const std::string path = absl::StrCat(dir_->path(), "/", name);
    WriteFileOrDie(path, text);
    return path;
  }

  // The validator's answer to a request for the asset's segment with `token`.
  static TestResponse Auth(const std::string& token) {
    std::optional<TestResponse> r =
        Fetch(sidecar_port_, "GET", "/auth", {{"X-Original-URI", "/" + token + "/vod/cli/seg0.ts"}});
    EXPECT_TRUE(r.has_value());
    return r.value_or(TestResponse{});
  }

  // Polls the validator until it answers `status` for `token` (10 s).
  static TestResponse WaitForAuth(const std::string& token, int status) {
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    TestResponse r = Auth(token);
    while (r.status != status && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(50));
      r = Auth(token);
    }
    return r;
  }

  // The session ids of a `session list --json` document, in its order.
  static std::vector<std::string> SessionIds(const json& reply) {
    std::vector<std::string> out;
    for (const json& s : reply["sessions"]) out.push_back(s["session_id"]);
    return out;
  }

  static TempDir* dir_;
  static std::string* admin_key_;
  static std::string* admin_key_file_;
  static std::string* issue_key_file_;
  static ServerProcess* server_;
  static Sidecar* sidecar_;
  static uint16_t sidecar_port_;
};

TempDir* OperatorCliE2eTest::dir_ = nullptr;
std::string* OperatorCliE2eTest::admin_key_ = nullptr;
std::string* OperatorCliE2eTest::admin_key_file_ = nullptr;
std::string* OperatorCliE2eTest::issue_key_file_ = nullptr;
ServerProcess* OperatorCliE2eTest::server_ = nullptr;
Sidecar* OperatorCliE2eTest::sidecar_ = nullptr;
uint16_t OperatorCliE2eTest::sidecar_port_ = 0;

TEST_F(OperatorCliE2eTest, CatalogRoundTripThroughExportedFiles) {
  // A policy from flags, exported and fed back.
  RunResult r = Cli({"policy", "put", "rt-policy", "--path", "/vod/rt/", "--exp", "+30m", "--bind", "ssn",
                     "--bind-header", "user-agent"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "stored policy rt-policy\n");
  r = Cli({"policy", "get", "rt-policy", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json policy = Json(r);
  EXPECT_EQ(policy["name"], "rt-policy") << r.out;
  EXPECT_EQ(policy["policy"]["paths"], json::array({"/vod/rt/"})) << r.out;
  EXPECT_EQ(policy["policy"]["ssn"], true) << r.out;
  r = Cli({"policy", "put", "--file", Write("rt-policy.json", r.out)});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = Cli({"policy", "list"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, "rt-policy")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "ssn,header:user-agent")) << r.out;

  // An asset as a catalog file writes it, naming the policy.
  r = Cli({"asset", "put", "--file", Write("rt-asset.json", R"({"id":"rt-asset","hostname":"cdn.example.com",
                                      "url_path":"/vod/rt/master.m3u8","token_policy":"rt-policy",
                                      "variants":{"sd":{"url_path":"/vod/rt/sd.m3u8",
                                                        "token_policy":{"paths":["/vod/rt/"],"exp":"+10m"}}}})")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "stored asset rt-asset\n");
  r = Cli({"asset", "get", "rt-asset", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json exported = Json(r);
  EXPECT_EQ(exported["policy_name"], "rt-policy") << r.out;
  EXPECT_EQ(exported["variants"]["sd"]["inline_policy"]["exp"], "+10m") << r.out;
  // What get --json printed goes back unchanged.
  r = Cli({"asset", "put", "--file", Write("rt-exported.json", r.out), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Json(r), exported);

  r = Cli({"asset", "get", "rt-asset"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, "rt-policy\n")) << r.out;
  r = Cli({"asset", "list"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, "ID ")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "rt-asset  cdn.example.com  /vod/rt/master.m3u8")) << r.out;
  r = Cli({"asset", "list", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  bool listed = false;
  const json assets = Json(r)["assets"];
  for (const json& a : assets) listed |= a["id"] == "rt-asset";
  EXPECT_TRUE(listed) << r.out;

  // The policy cannot go while the asset names it.
  r = Cli({"policy", "delete", "rt-policy"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(absl::StartsWith(r.err, "edgepass policy delete: FAILED_PRECONDITION: ")) << r.err;

  // What the REST gateway answers (lowerCamelCase names) goes in too.
  {
    const std::string key(absl::StripAsciiWhitespace(ReadFileOrEmpty(*admin_key_file_)));
    std::optional<TestResponse> rest =
        Fetch(server_->rest_port(), "GET", "/v1/assets/rt-asset", {{"Authorization", "Bearer " + key}});
    ASSERT_TRUE(rest.has_value());
    ASSERT_EQ(rest->status, 200) << rest->body;
    EXPECT_TRUE(absl::StrContains(rest->body, "\"policyName\":\"rt-policy\"")) << rest->body;
    r = Cli({"asset", "put", "--file", Write("rt-rest.json", rest->body), "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(Json(r), exported);
  }

  // The same from YAML.
  r = Cli({"asset", "put", "--file",
           Write("rt-yaml.yaml",
                 "id: rt-yaml\nhostname: cdn.example.com\nurl_path: /vod/rt/master.m3u8\n"
                 "token_policy:\n  paths: [/vod/rt/]\n  exp: +5m\n  ip: true\n")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = Cli({"asset", "get", "rt-yaml", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Json(r)["inline_policy"], json::parse(R"({"paths":["/vod/rt/"],"exp":"+5m","ip":true})")) << r.out;
  EXPECT_EQ(Cli({"asset", "delete", "rt-yaml"}).exit_code, 0);

  r = Cli({"asset", "delete", "rt-asset"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "deleted asset rt-asset\n");
  r = Cli({"asset", "get", "rt-asset"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "edgepass asset get: NOT_FOUND: id: unknown asset \"rt-asset\"\n");
  r = Cli({"policy", "delete", "rt-policy", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "{}\n");
  r = Cli({"policy", "get", "rt-policy"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(absl::StartsWith(r.err, "edgepass policy get: NOT_FOUND: ")) << r.err;
}

TEST_F(OperatorCliE2eTest, RevokedSessionIsRefusedByTheValidatorUntilRestored) {
  RunResult r = Cli({"asset", "put", "cli-play", "--hostname", "cdn.example.com", "--url-path", "/vod/cli/master.m3u8",
                     "--policy-json", R"({"paths":["/vod/cli/"],"exp":"+10m","ssn":true})"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = Cli({"issue", "cli-play", "--json"}, *issue_key_file_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string token = Json(r).value("token", "");
  const std::string session = Json(r).value("session_id", "");
  ASSERT_FALSE(token.empty()) << r.out;
  ASSERT_FALSE(session.empty()) << r.out;
  TestResponse auth = WaitForAuth(token, 200);
  ASSERT_EQ(auth.status, 200) << HeaderOr(auth, "X-Edgepass-Reason");

  r = Cli({"session", "revoke", session, "--reason", "shared on a forum", "--expires", "+1h"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(absl::StartsWith(r.out, absl::StrCat("revoked session ", session, " (MANUAL, until 20"))) << r.out;
  auth = WaitForAuth(token, 403);
  EXPECT_EQ(auth.status, 403);
  EXPECT_EQ(HeaderOr(auth, "X-Edgepass-Reason"), "revoked");

  r = Cli({"session", "list", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  bool listed = false;
  const json sessions = Json(r)["sessions"];
  for (const json& s : sessions) {
    if (s["session_id"] != session) continue;
    listed = true;
    EXPECT_EQ(s["type"], "MANUAL") << s;
    EXPECT_EQ(s["reason"], "shared on a forum") << s;
  }
  EXPECT_TRUE(listed) << r.out;
  r = Cli({"session", "list"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, "SESSION_ID")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, session)) << r.out;

  r = Cli({"session", "restore", session});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, absl::StrCat("restored session ", session, "\n"));
  auth = WaitForAuth(token, 200);
  EXPECT_EQ(auth.status, 200) << HeaderOr(auth, "X-Edgepass-Reason");
  r = Cli({"session", "restore", session});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(absl::StartsWith(r.err, "edgepass session restore: NOT_FOUND: ")) << r.err;
}

// A list whose call fails part-way (the server frozen after the first page)
// still prints one whole JSON document: the entries so far, the error, and
// the token that resumes at the failed page.
TEST_F(OperatorCliE2eTest, SessionListFailingPartWayPrintsOneDocumentThatResumes) {
  constexpr int kSessions = 1000;  // a page each: far more calls than it takes to freeze the server
  client::SessionClient sessions({.address = server_->address(), .api_key = *admin_key_});
  v1::ReportSessionsRequest report;
  for (int i = 0; i < kSessions; ++i) {
    v1::ReportSessionRequest* s = report.add_sessions();
    s->set_session_id(absl::StrFormat("cli-partial-%03d", i));
    s->set_score(0.9);
  }
  ASSERT_TRUE(sessions.ReportSessions(report).ok());
  RunResult whole = Cli({"session", "list", "--json"});
  ASSERT_EQ(whole.exit_code, 0) << whole.err;
  const std::vector<std::string> all = SessionIds(Json(whole));
  ASSERT_GE(all.size(), static_cast<size_t>(kSessions));

  const std::string out = absl::StrCat(dir_->path(), "/partial.out");
  const std::string err = absl::StrCat(dir_->path(), "/partial.err");
  ChildProcess cli({EDGEPASS_CLI_PATH, "session", "list", "--page-size", "1", "--json", "--deadline", "500ms",
                    "--server", server_->address(), "--api-key-file", *admin_key_file_},
                   out, err);
  // Each page is written out as it arrives: at the first, freeze the server.
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (ReadFileOrEmpty(out).empty() && cli.Running() && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  ASSERT_TRUE(server_->process().Signal(SIGSTOP));
  const std::optional<int> code = cli.WaitForExit(absl::Seconds(20));
  ASSERT_TRUE(server_->process().Signal(SIGCONT));
  EXPECT_EQ(code, 3) << ReadFileOrEmpty(err);  // not reached in time
  EXPECT_TRUE(absl::StartsWith(ReadFileOrEmpty(err), "edgepass session list: DEADLINE_EXCEEDED: "))
      << ReadFileOrEmpty(err);

  const std::string text = ReadFileOrEmpty(out);
  const json partial = json::parse(text, nullptr, /*allow_exceptions=*/false);
  ASSERT_TRUE(partial.is_object()) << text;
  EXPECT_TRUE(absl::StartsWith(partial.value("error", ""), "DEADLINE_EXCEEDED: ")) << text;
  const std::string token = partial.value("next_page_token", "");
  ASSERT_FALSE(token.empty()) << text;
  std::vector<std::string> listed = SessionIds(partial);
  ASSERT_FALSE(listed.empty()) << text;
  ASSERT_LT(listed.size(), all.size()) << "the list ended before the server was frozen";

  // The token goes on right after the last entry printed.
  RunResult rest = Cli({"session", "list", "--page-token", token, "--json"});
  ASSERT_EQ(rest.exit_code, 0) << rest.err;
  for (const std::string& id : SessionIds(Json(rest))) listed.push_back(id);
  EXPECT_EQ(listed, all);
}

TEST_F(OperatorCliE2eTest, SessionListFollowsPagesOrStopsAtLimitAndResumes) {
  for (int i = 0; i < 5; ++i) {
    RunResult r = Cli({"session", "revoke", absl::StrCat("cli-page-", i)});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  // Every page, two entries a call: the whole list, each entry once.
  RunResult r = Cli({"session", "list", "--page-size", "2", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<std::string> all = SessionIds(Json(r));
  EXPECT_FALSE(Json(r).contains("next_page_token")) << r.out;
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(std::count(all.begin(), all.end(), absl::StrCat("cli-page-", i)), 1) << r.out;
  }
  EXPECT_EQ(std::set<std::string>(all.begin(), all.end()).size(), all.size()) << r.out;
  // Printed page by page, the same document and the same table as from one page.
  const std::string two_a_page = r.out;
  r = Cli({"session", "list", "--page-size", "1000", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, two_a_page);
  r = Cli({"session", "list", "--page-size", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string table = r.out;
  EXPECT_EQ(std::count(table.begin(), table.end(), '\n'), static_cast<long>(all.size()) + 2) << table;  // header, version
  EXPECT_TRUE(absl::StartsWith(table, "SESSION_ID")) << table;
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(absl::StrContains(table, absl::StrCat("\ncli-page-", i, " "))) << table;

  // --limit stops part-way; --page-token goes on from there.
  r = Cli({"session", "list", "--page-size", "2", "--limit", "3", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> listed = SessionIds(Json(r));
  const std::string token = Json(r).value("next_page_token", "");
  ASSERT_EQ(listed.size(), 3u) << r.out;
  ASSERT_FALSE(token.empty()) << r.out;
  r = Cli({"session", "list", "--page-size", "2", "--page-token", token, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const std::string& id : SessionIds(Json(r))) listed.push_back(id);
  EXPECT_EQ(listed, all);
  r = Cli({"session", "list", "--limit", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, "more after --page-token ")) << r.out;

  r = Cli({"session", "list", "--page-token", "bogus"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(absl::StartsWith(r.err, "edgepass session list: INVALID_ARGUMENT: page_token: ")) << r.err;
  r = Cli({"session", "list", "--page-size", "many"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(r.err, "--page-size 'many': expected a count")) << r.err;
  for (int i = 0; i < 5; ++i) EXPECT_EQ(Cli({"session", "restore", absl::StrCat("cli-page-", i)}).exit_code, 0);
}

TEST_F(OperatorCliE2eTest, ReportCarriesTheScoreAndItsComponents) {
  RunResult r = Cli({"session", "report", "cli-suspect-1", "--score", "7.5", "--component", "ips=4", "--component",
                     "rate=3.5", "--reason", "many addresses", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json entry = Json(r);
  EXPECT_EQ(entry["type"], "AUTO") << r.out;
  EXPECT_EQ(entry["score"], 7.5) << r.out;
  EXPECT_EQ(entry["score_components"]["ips"], 4) << r.out;
  r = Cli({"session", "list"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, "AUTO")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "7.500")) << r.out;
  r = Cli({"session", "report", "cli-suspect-2", "--score", "high"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(r.err, "--score 'high': expected a number")) << r.err;
  EXPECT_EQ(Cli({"session", "restore", "cli-suspect-1"}).exit_code, 0);
}

TEST_F(OperatorCliE2eTest, ValidatorsListShowsTheSubscribedValidatorAndItsLag) {
  // Once it acknowledged the current version its lag is 0.
  json validator;
  uint64_t current = 0;
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (absl::Now() < deadline) {
    RunResult r = Cli({"validators", "list", "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const json list = Json(r);
    current = Uint64(list, "current_version");
    for (const json& v : list.value("validators", json::array())) {
      if (v["validator_id"] == kValidatorId) validator = v;
    }
    if (validator.is_object() && Uint64(validator, "acked_version") == current) break;
    absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_TRUE(validator.is_object()) << "validator not listed";
  EXPECT_EQ(validator["connected"], true) << validator;
  EXPECT_EQ(Uint64(validator, "acked_version"), current) << validator;
  RunResult r = Cli({"validators", "list"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, "VALIDATOR")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "LAG")) << r.out;
  // VALIDATOR PEER CONNECTED SENT ACKED LAG SINCE: up to date, so LAG 0.
  static const std::regex kRow(R"(\nedge-cli-test +ipv4:127\.0\.0\.1:[0-9]+ +yes +[0-9]+ +[0-9]+ +0 +20)");
  EXPECT_TRUE(std::regex_search(r.out, kRow)) << r.out;
}

TEST_F(OperatorCliE2eTest, KeysStatusAndRotate) {
  RunResult r = Cli({"keys", "status", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string primary;
  const json keys = Json(r)["keys"];
  for (const json& k : keys) {
    if (k["state"] == "PRIMARY") primary = k["id"];
    EXPECT_FALSE(k.contains("value")) << k;
  }
  ASSERT_FALSE(primary.empty()) << r.out;

  r = Cli({"keys", "rotate", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json rotated = Json(r);
  EXPECT_EQ(rotated["previous_primary"], primary) << r.out;
  ASSERT_TRUE(rotated["new_primary"].is_string()) << r.out;
  EXPECT_NE(rotated["new_primary"], primary) << r.out;
  EXPECT_GE(rotated.value("validators", 0), 1) << r.out;

  r = Cli({"keys", "status"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, absl::StrCat(rotated["new_primary"].get<std::string>(), "  PRIMARY"))) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, absl::StrCat(primary, "  SECONDARY"))) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "last outcome: ok")) << r.out;
}

TEST_F(OperatorCliE2eTest, KeysRevokeRefusesTheKeysTokensAtOnceAndReplacesThePrimary) {
  RunResult r = Cli({"asset", "put", "cli-key-revoke", "--hostname", "cdn.example.com", "--url-path",
                     "/vod/cli/master.m3u8", "--policy-json", R"({"paths":["/vod/cli/"],"exp":"+10m"})"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = Cli({"keys", "status", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string primary;
  const json keys_before = Json(r)["keys"];
  for (const json& k : keys_before) {
    if (k["state"] == "PRIMARY") primary = k["id"];
  }
  ASSERT_FALSE(primary.empty()) << r.out;
  r = Cli({"issue", "cli-key-revoke", "--json"}, *issue_key_file_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string token = Json(r).value("token", "");
  TestResponse auth = WaitForAuth(token, 200);
  ASSERT_EQ(auth.status, 200) << HeaderOr(auth, "X-Edgepass-Reason");

  // Without the confirmation: a usage error, nothing sent.
  r = Cli({"keys", "revoke", primary});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(r.err, "give --confirm-tokens-refused")) << r.err;
  EXPECT_EQ(WaitForAuth(token, 200).status, 200);

  r = Cli({"keys", "revoke", primary, "--confirm-tokens-refused", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string new_primary;
  const json keys_after = Json(r)["keys"];
  for (const json& k : keys_after) {
    EXPECT_NE(k["id"], primary) << r.out;
    EXPECT_FALSE(k.contains("value")) << k;
    if (k["state"] == "PRIMARY") new_primary = k["id"];
  }
  EXPECT_FALSE(new_primary.empty()) << r.out;
  auth = WaitForAuth(token, 403);
  EXPECT_EQ(auth.status, 403);
  EXPECT_EQ(HeaderOr(auth, "X-Edgepass-Reason"), "unknown_kid");

  // New tokens are signed by the new primary and play.
  r = Cli({"issue", "cli-key-revoke", "--json"}, *issue_key_file_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auth = WaitForAuth(Json(r).value("token", ""), 200);
  EXPECT_EQ(auth.status, 200) << HeaderOr(auth, "X-Edgepass-Reason");

  r = Cli({"keys", "revoke", primary, "--confirm-tokens-refused"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(absl::StartsWith(r.err, "edgepass keys revoke: NOT_FOUND: ")) << r.err;
  r = Cli({"keys", "revoke", new_primary, "--confirm-tokens-refused"}, *issue_key_file_);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(r.err, "lacks scope keys")) << r.err;
}

TEST_F(OperatorCliE2eTest, CloudFrontKeyPutPrintsThePublicHalfOnly) {
  const std::string key = dir_->path() + "/cf.pem";
  RunResult made = RunProcess({"/usr/bin/openssl", "genrsa", "-out", key, "2048"}, dir_->path());
  ASSERT_EQ(made.exit_code, 0) << made.err;
  ASSERT_EQ(::chmod(key.c_str(), 0600), 0);
  RunResult r = Cli({"cloudfront-key", "put", "K2JCJMDEHXQW5F", "--private-key-file", key});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(
      absl::StartsWith(r.out, "stored CloudFront key K2JCJMDEHXQW5F; its public key:\n-----BEGIN PUBLIC KEY-----"))
      << r.out;
  EXPECT_FALSE(absl::StrContains(r.out + r.err, "PRIVATE")) << r.out;

  // A key file others may read is refused before anything is sent.
  ASSERT_EQ(::chmod(key.c_str(), 0644), 0);
  r = Cli({"cloudfront-key", "put", "K2JCJMDEHXQW5F", "--private-key-file", key});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(r.err, "accessible by group or others (mode 0644); restrict it: chmod 600")) << r.err;
  // Not a key: the service names the field.
  const std::string junk = Write("junk.pem", "not a key\n");
  ASSERT_EQ(::chmod(junk.c_str(), 0600), 0);
  r = Cli({"cloudfront-key", "put", "K2JCJMDEHXQW5F", "--private-key-file", junk});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(absl::StartsWith(r.err, "edgepass cloudfront-key put: INVALID_ARGUMENT: private_key_pem: ")) << r.err;
}

TEST_F(OperatorCliE2eTest, BadInputGetsAClearMessageAndAScriptableExitCode) {
  // Unknown asset: the service's NOT_FOUND, exit 1.
  RunResult r = Cli({"asset", "delete", "no-such-asset"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "edgepass asset delete: NOT_FOUND: id: unknown asset \"no-such-asset\"\n");
  EXPECT_EQ(r.out, "");

  // Malformed files: named with the line and column or the field; nothing sent, exit 2.
  const std::string syntax = Write("syntax.json", "{\"id\": \"bad\",\n  \"hostname\": \"h\" \"url_path\": \"/a\"}");
  r = Cli({"asset", "put", "--file", syntax});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(absl::StartsWith(
      r.err, absl::StrCat("edgepass asset put: --file '", syntax, "': parse error at line 2, column 28: ")))
      << r.err;
  r = Cli({"asset", "put", "--file", Write("type.json", R"({"id":"bad","hostname":5})")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(r.err, "asset.hostname: must be a string, got a number")) << r.err;
  r = Cli({"asset", "put", "--file", Write("field.json", R"({"id":"bad","hostnme":"h"})")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(r.err, "asset: unknown field \"hostnme\"")) << r.err;
  r = Cli({"policy", "put", "bad", "--file", Write("policy.json", R"({"paths":["/a/"],"exp":"soon"})")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(r.err, "policy.exp: ")) << r.err;
  r = Cli({"asset", "put", "--file", dir_->path() + "/missing.json"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(r.err, "missing.json': No such file or directory")) << r.err;
  // Well-formed but refused by the service, naming the field: exit 1.
  r = Cli({"asset", "put", "bad", "--hostname", "h", "--url-path", "no-slash", "--policy-json",
           R"({"paths":["/a/"],"exp":"+1h"})"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "edgepass asset put: INVALID_ARGUMENT: asset.url_path: must start with '/'\n");

  // A key without the scope, and no key at all.
  r = Cli({"asset", "list"}, *issue_key_file_);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(absl::StartsWith(r.err, "edgepass asset list: PERMISSION_DENIED: ")) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "lacks scope catalog")) << r.err;
  r = Cli({"keys", "rotate"}, *issue_key_file_);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(r.err, "lacks scope keys")) << r.err;
  r = Cli({"session", "list"}, "");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(absl::StartsWith(r.err, "edgepass session list: UNAUTHENTICATED: ")) << r.err;

  // Usage errors: exit 2 before anything is sent.
  r = RunProcess({EDGEPASS_CLI_PATH, "asset", "list"}, dir_->path());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(r.err, "edgepass asset list: missing required flag --server")) << r.err;
  r = Cli({"asset", "rename", "a"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(r.err, "unknown subcommand 'rename'")) << r.err;
  r = Cli({"session", "revoke"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(r.err, "missing argument: SESSION_ID")) << r.err;

  // Nothing listening: exit 3, worth a retry.
  r = RunProcess({EDGEPASS_CLI_PATH, "asset", "list", "--server", absl::StrCat("127.0.0.1:", FreeLoopbackPort()),
                  "--deadline", "1s"},
                 dir_->path());
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_TRUE(absl::StartsWith(r.err, "edgepass asset list: UNAVAILABLE: ") ||
              absl::StartsWith(r.err, "edgepass asset list: DEADLINE_EXCEEDED: "))
      << r.err;
}

TEST_F(OperatorCliE2eTest, EveryCommandAndSubcommandHasHelp) {
  const std::vector<std::vector<std::string>> commands = {
      {"asset", "put"},       {"asset", "get"},      {"asset", "list"},   {"asset", "delete"},
      {"policy", "put"},      {"policy", "get"},     {"policy", "list"},  {"policy", "delete"},
      {"session", "revoke"},  {"session", "report"}, {"session", "list"}, {"session", "restore"},
      {"validators", "list"}, {"keys", "status"},    {"keys", "rotate"},  {"keys", "revoke"},
      {"cloudfront-key", "put"}};
  for (const auto& command : commands) {
    RunResult group = RunProcess({EDGEPASS_CLI_PATH, command[0], "--help"}, dir_->path());
    EXPECT_EQ(group.exit_code, 0) << command[0];
    EXPECT_TRUE(absl::StrContains(group.out, absl::StrCat("edgepass ", command[0], " ", command[1], " "))) << group.out;
    EXPECT_TRUE(absl::StrContains(group.out, "Exit codes:")) << group.out;
    RunResult sub = RunProcess({EDGEPASS_CLI_PATH, command[0], command[1], "--help"}, dir_->path());
    EXPECT_EQ(sub.exit_code, 0) << command[0] << " " << command[1];
    EXPECT_TRUE(absl::StartsWith(sub.out, absl::StrCat("Usage:\n  edgepass ", command[0], " ", command[1]))) << sub.out;
  }
  RunResult main = RunProcess({EDGEPASS_CLI_PATH, "--help"}, dir_->path());
  EXPECT_TRUE(absl::StrContains(main.out, "cloudfront-key")) << main.out;
}

}  // namespace
}  // namespace edgepass
