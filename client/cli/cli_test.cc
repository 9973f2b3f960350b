// The `edgepass` command functions: usage errors exit 2 with a message naming
// the problem; token issue -> token verify round trips; both keyring formats.
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "client/cli/commands.h"
#include "core/crypto.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/support/temp_dir.h"

namespace edgepass::cli {
namespace {

constexpr char kPrimaryId[] = "20260101_aaaaaaaaaaaaaaaaaaaa";
constexpr char kSecondaryId[] = "20251201_bbbbbbbbbbbbbbbbbbbb";
const std::string kPrimaryValue(128, 'a');
const std::string kSecondaryValue = std::string(64, 'b') + std::string(64, 'c');
constexpr int64_t kNow = 1767225600;  // 2026-01-01T00:00:00Z
constexpr char kUserAgent[] = "Mozilla/5.0 (X11; Linux x86_64)";

// Counts upwards: deterministic session ids.
class CountingRandom : public core::RandomSource {
 public:
  void Fill(absl::Span<uint8_t> out) override {
    for (uint8_t& b : out) b = next_++;
  }

 private:
  uint8_t next_ = 0;
};

struct Result {
  int code;
  std::string out;
  std::string err;
};

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tmp_.path();
    project_keyring_ =
        Write("keyring.json", nlohmann::json{{"keys",
                                              {{{"id", kPrimaryId},
                                                {"value", kPrimaryValue},
                                                {"state", "primary"}},
                                               {{"id", kSecondaryId},
                                                {"value", kSecondaryValue},
                                                {"state", "secondary"}}}}}
                                  .dump());
    smd_keyring_ = Write(
        "smd_keys.json",
        nlohmann::json{
            {"primary", {{"uuid", kPrimaryId}, {"value", kPrimaryValue}}},
            {"secondary", {{"uuid", kSecondaryId}, {"value", kSecondaryValue}}}}
            .dump());
    policy_ = Write("policy.json",
                    R"({"paths":["/v/1/"],"exp":"+1h","ip":true,"ssn":true,)"
                    R"("headers":["user-agent"]})");
    viewer_ = Write("viewer.json",
                    nlohmann::json{{"ip", "203.0.113.9"},
                                   {"headers", {{"user-agent", kUserAgent}}}}
                        .dump());
  }

  std::string Write(const std::string& name, const std::string& text) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    return path;
  }

  Result Run(std::vector<std::string> args) {
    std::ostringstream out, err;
    CliEnv env{.out = out,
               .err = err,
               .now = absl::FromUnixSeconds(kNow),
               .random = random_};
    int code = RunCli(args, env);
    return {code, out.str(), err.str()};
  }

  // Issues with `keyring` and returns the token (stdout without newline).
  std::string Issue(const std::string& keyring,
                    std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {
        "token", "issue",    "--keyring", keyring, "--policy",
        policy_, "--viewer", viewer_,     "--now", std::to_string(kNow)};
    args.insert(args.end(), extra.begin(), extra.end());
    Result r = Run(args);
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_TRUE(absl::EndsWith(r.out, "\n"));
    return std::string(absl::StripSuffix(r.out, "\n"));
  }

  Result Verify(const std::string& keyring, const std::string& token,
                const std::string& ip, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {
        "token",     "verify",
        "--keyring", keyring,
        "--uri",     "/" + token + "/v/1/index.m3u8",
        "--ip",      ip,
        "--header",  absl::StrCat("user-agent=", kUserAgent),
        "--now",     std::to_string(kNow + 60)};
    args.insert(args.end(), extra.begin(), extra.end());
    return Run(args);
  }

  ::edgepass::testing::TempDir tmp_;  // removed with what the test wrote
  std::string dir_, project_keyring_, smd_keyring_, policy_, viewer_;
  CountingRandom random_;
};

TEST_F(CliTest, HelpPrintsUsageAndExitsZero) {
  Result r = Run({"--help"});
  EXPECT_EQ(r.code, 0);
  EXPECT_TRUE(absl::StrContains(r.out, "token issue")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "edgepass issue ASSET_ID")) << r.out;
  r = Run({"token", "--help"});
  EXPECT_EQ(r.code, 0);
  EXPECT_TRUE(absl::StrContains(r.out, "--keyring FILE --uri URI")) << r.out;
  r = Run({"token", "verify", "--help"});
  EXPECT_EQ(r.code, 0);
}

TEST_F(CliTest, NoArgumentsOrUnknownCommandExitTwo) {
  EXPECT_EQ(Run({}).code, 2);
  Result r = Run({"frobnicate"});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(absl::StrContains(r.err, "unknown command 'frobnicate'"))
      << r.err;
  r = Run({"token", "sign"});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(absl::StrContains(r.err, "unknown command 'sign'")) << r.err;
}

TEST_F(CliTest, VerifyUsageErrorsExitTwoNamingTheProblem) {
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"--keyring", project_keyring_, "--uri", "/x/y", "--bogus", "1"},
       "unknown flag '--bogus'"},
      {{"--keyring", project_keyring_}, "missing required flag --uri"},
      {{"--uri", "/x/y"}, "missing required flag --keyring"},
      {{"--keyring", dir_ + "/nope.json", "--uri", "/x"},
       "--keyring file '" + dir_ + "/nope.json'"},
      {{"--keyring", Write("bad.json", "{not json"), "--uri", "/x"},
       "--keyring file '"},
      {{"--keyring", Write("empty.json", R"({"keys":[{"id":"k"}]})"), "--uri",
        "/x"},
       "--keyring file '"},
      {{"--keyring", project_keyring_, "--uri", "/x", "--header", "novalue"},
       "--header 'novalue': expected NAME=VALUE"},
      {{"--keyring", project_keyring_, "--uri", "/x", "--query", "=v"},
       "--query '=v'"},
      {{"--keyring", project_keyring_, "--uri", "/x", "--now", "tomorrow"},
       "--now 'tomorrow'"},
      {{"--keyring", project_keyring_, "--uri", "/x", "--revoked",
        dir_ + "/none.json"},
       "--revoked file"},
      {{"--keyring", project_keyring_, "--uri", "/x", "--revoked",
        Write("rv.json", "{\"x\":1}")},
       "--revoked file"},
      {{"--keyring", project_keyring_, "--uri", "/x", "extra"},
       "unexpected argument 'extra'"},
      {{"--keyring", project_keyring_, "--uri"}, "--uri needs a value"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> args = {"token", "verify"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    Result r = Run(args);
    SCOPED_TRACE(c.message);
    EXPECT_EQ(r.code, 2);
    EXPECT_TRUE(absl::StrContains(r.err, c.message)) << r.err;
    EXPECT_EQ(r.out, "");
  }
}

TEST_F(CliTest, IssueUsageErrorsExitTwo) {
  Result r = Run(
      {"token", "issue", "--keyring", project_keyring_, "--viewer", viewer_});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(absl::StrContains(r.err, "missing required flag --policy"))
      << r.err;

  r = Run({"token", "issue", "--keyring", project_keyring_, "--policy",
           Write("p.json", R"({"paths":["v/1/"],"exp":"+1h"})"), "--viewer",
           viewer_});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(absl::StrContains(r.err, "--policy file '")) << r.err;

  r = Run({"token", "issue", "--keyring", project_keyring_, "--policy", policy_,
           "--viewer", Write("v.json", R"({"ip":5})")});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(absl::StrContains(r.err, "--viewer file '")) << r.err;

  r = Run({"token", "issue", "--keyring", project_keyring_, "--policy", policy_,
           "--viewer", viewer_, "--key-id", "nosuchkey"});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(absl::StrContains(r.err, "no key 'nosuchkey'")) << r.err;
}

TEST_F(CliTest, IssueRefusesViewerMissingABoundAttribute) {
  Result r =
      Run({"token", "issue", "--keyring", project_keyring_, "--policy", policy_,
           "--viewer", Write("v.json", "{}"), "--now", std::to_string(kNow)});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(absl::StrContains(r.err, "cannot issue")) << r.err;
}

TEST_F(CliTest, IssueThenVerifyRoundTrip) {
  const std::string token = Issue(project_keyring_);
  std::vector<std::string> parts = absl::StrSplit(token, '.');
  ASSERT_EQ(parts.size(), 4u) << token;  // session id + JWT

  Result r = Verify(project_keyring_, token, "203.0.113.9");
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  auto line = nlohmann::json::parse(r.out);
  EXPECT_EQ(line["allow"], true);
  EXPECT_EQ(line["path"], "/v/1/index.m3u8");
  EXPECT_EQ(line["session_id"], parts[0]);
  EXPECT_EQ(line["reason"], "ok");
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1);

  // Another viewer IP: denied, exit 1, null path and session.
  r = Verify(project_keyring_, token, "203.0.113.10");
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  line = nlohmann::json::parse(r.out);
  EXPECT_EQ(line["allow"], false);
  EXPECT_TRUE(line["path"].is_null());
  EXPECT_TRUE(line["session_id"].is_null());
  EXPECT_NE(line["reason"], "ok");

  // Revoked session: denied with reason "revoked".
  std::string revoked =
      Write("revoked.json", nlohmann::json::array({parts[0]}).dump());
  r = Verify(project_keyring_, token, "203.0.113.9", {"--revoked", revoked});
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["reason"], "revoked");

  // After expiry (+1h): denied.
  std::vector<std::string> args = {
      "token",     "verify",
      "--keyring", project_keyring_,
      "--uri",     "/" + token + "/v/1/index.m3u8",
      "--ip",      "203.0.113.9",
      "--header",  absl::StrCat("user-agent=", kUserAgent),
      "--now",     std::to_string(kNow + 7200)};
  r = Run(args);
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(nlohmann::json::parse(r.out)["reason"], "expired");
}

TEST_F(CliTest, KeyringAcceptsProjectAndSmdFormats) {
  // Issued with SMD's keys object, verified with the project's file, and back.
  const std::string from_smd = Issue(smd_keyring_);
  EXPECT_EQ(Verify(project_keyring_, from_smd, "203.0.113.9").code, 0);
  const std::string from_project = Issue(project_keyring_);
  Result r = Verify(smd_keyring_, from_project, "203.0.113.9");
  EXPECT_EQ(r.code, 0) << r.out << r.err;
}

std::string KidOf(const std::string& token) {
  std::vector<std::string> parts = absl::StrSplit(token, '.');
  std::string header;
  EXPECT_TRUE(core::Base64UrlDecode(parts[parts.size() - 3], &header));
  return nlohmann::json::parse(header).value("kid", "");
}

TEST_F(CliTest, KeyIdSelectsSigningKey) {
  EXPECT_EQ(KidOf(Issue(smd_keyring_)), kPrimaryId);
  EXPECT_EQ(KidOf(Issue(smd_keyring_, {"--key-id", "secondary"})),
            kSecondaryId);
  EXPECT_EQ(KidOf(Issue(project_keyring_, {"--key-id", "secondary"})),
            kSecondaryId);
  EXPECT_EQ(KidOf(Issue(project_keyring_, {"--key-id", "primary"})),
            kPrimaryId);
  const std::string token = Issue(project_keyring_, {"--key-id", kSecondaryId});
  EXPECT_EQ(KidOf(token), kSecondaryId);
  EXPECT_EQ(Verify(smd_keyring_, token, "203.0.113.9").code, 0);
}

TEST_F(CliTest, UrlGetsTokenAndSuppliesBoundQueryValues) {
  policy_ = Write("qpolicy.json",
                  R"({"paths":["/v/1/"],"exp":"+1h","querystrings":["cid"]})");
  Result r = Run({"token", "issue", "--keyring", project_keyring_, "--policy",
                  policy_, "--viewer", Write("empty_viewer.json", "{}"),
                  "--now", std::to_string(kNow), "--url",
                  "https://cdn.example.com/v/1/index.m3u8?cid=cust%2D42"});
  ASSERT_EQ(r.code, 0) << r.err;
  ASSERT_TRUE(absl::StartsWith(r.out, "https://cdn.example.com/")) << r.out;
  ASSERT_TRUE(absl::EndsWith(r.out, "/v/1/index.m3u8?cid=cust%2D42\n"))
      << r.out;
  std::string token = r.out.substr(strlen("https://cdn.example.com/"));
  token = token.substr(0, token.find('/'));

  // The query in --uri is split off and percent-decoded.
  r = Run({"token", "verify", "--keyring", project_keyring_, "--uri",
           "/" + token + "/v/1/index.m3u8?cid=cust%2D42", "--now",
           std::to_string(kNow)});
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["path"], "/v/1/index.m3u8");
  // --query gives the same value.
  r = Run({"token", "verify", "--keyring", project_keyring_, "--uri",
           "/" + token + "/v/1/index.m3u8", "--query", "cid=cust-42", "--now",
           std::to_string(kNow)});
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  r = Run({"token", "verify", "--keyring", project_keyring_, "--uri",
           "/" + token + "/v/1/index.m3u8?cid=cust-43", "--now",
           std::to_string(kNow)});
  EXPECT_EQ(r.code, 1) << r.out << r.err;
}

TEST_F(CliTest, RemoteIssueUsageAndUnreachableServer) {
  Result r = Run({"issue", "--server", "127.0.0.1:1"});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(absl::StrContains(r.err, "missing ASSET_ID")) << r.err;
  r = Run({"issue", "asset1"});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(absl::StrContains(r.err, "missing required flag --server"))
      << r.err;
  r = Run({"issue", "asset1", "--server", "127.0.0.1:1", "--header", "bad"});
  EXPECT_EQ(r.code, 2);
  r = Run({"issue", "asset1", "--server", "127.0.0.1:1", "--deadline", "2s"});
  EXPECT_EQ(r.code, 3);
  EXPECT_TRUE(absl::StrContains(r.err, "UNAVAILABLE")) << r.err;
}

TEST_F(CliTest, RemoteIssueRefusesAnOpenKeyFileAndABadCa) {
  const std::string key =
      Write("api.key", "ep_secretKeyMaterial0123456789abcdefghijk\n");
  ASSERT_EQ(::chmod(key.c_str(), 0644), 0);
  Result r = Run(
      {"issue", "asset1", "--server", "127.0.0.1:1", "--api-key-file", key});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(absl::StrContains(
      r.err, "--api-key-file: api key file '" + key +
                 "' is accessible by group or others (mode 0644)"))
      << r.err;
  EXPECT_FALSE(absl::StrContains(r.err, "secretKeyMaterial")) << r.err;
  r = Run({"issue", "asset1", "--server", "127.0.0.1:1", "--server-ca",
           dir_ + "/absent.pem"});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(absl::StrContains(r.err, "--server-ca: grpc client tls: ca_file"))
      << r.err;
}

TEST_F(CliTest, RemoteIssueSendsAKeyInCleartextOnlyToLoopback) {
  const std::string key =
      Write("api.key", "ep_secretKeyMaterial0123456789abcdefghijk\n");
  ASSERT_EQ(::chmod(key.c_str(), 0600), 0);
  // Refused before any connection: nothing listens on 192.0.2.1 (TEST-NET-1).
  Result r = Run(
      {"issue", "asset1", "--server", "192.0.2.1:443", "--api-key-file", key});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(absl::StrContains(
      r.err,
      "edgepass issue: --server: 192.0.2.1:443 is not a loopback address and "
      "there is no TLS: the API key would cross the network in cleartext; "
      "give --server-ca, or --insecure-plaintext to allow it"))
      << r.err;
  EXPECT_FALSE(absl::StrContains(r.err, "secretKeyMaterial")) << r.err;
  // Loopback: allowed (and unreachable here: exit 3).
  r = Run({"issue", "asset1", "--server", "127.0.0.1:1", "--api-key-file", key,
           "--deadline", "2s"});
  EXPECT_EQ(r.code, 3) << r.err;
  // The explicit opt-out lets it try the remote server (which never answers).
  r = Run({"issue", "asset1", "--server", "192.0.2.1:443", "--api-key-file",
           key, "--insecure-plaintext", "--deadline", "1s"});
  EXPECT_EQ(r.code, 3) << r.err;
}

}  // namespace
}  // namespace edgepass::cli
