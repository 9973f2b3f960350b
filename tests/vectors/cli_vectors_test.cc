// Every SMD vector through the real `edgepass` binary: `token verify` must
// give the outcome the vectors' README requires (exit code and the JSON
// line's allow/path), and `token issue` must print SMD's token (or URL)
// byte for byte for the same policy, viewer, key and time.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <ostream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/support/temp_dir.h"
#include "tests/vectors/vector_cases.h"

extern char** environ;

namespace edgepass::testing {

// Names the case in test output instead of dumping its bytes.
static void PrintTo(const VectorCase& c, std::ostream* os) { *os << c.id; }

namespace {

struct ProcessResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string Drain(int fd) {
  std::string text;
  char buf[4096];
  for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) text.append(buf, n);
  close(fd);
  return text;
}

// Runs `argv` (no shell) and collects its exit code, stdout and stderr. The
// CLI writes little, so reading stdout to EOF before stderr cannot block.
ProcessResult RunProcess(const std::vector<std::string>& args) {
  ProcessResult result;
  int out_pipe[2], err_pipe[2];
  if (pipe(out_pipe) != 0 || pipe(err_pipe) != 0) {
    ADD_FAILURE() << "pipe failed";
    return result;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], STDERR_FILENO);
  for (int fd : {out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]}) {
    posix_spawn_file_actions_addclose(&actions, fd);
  }
  std::vector<char*> argv;
  for (const std::string& a : args)
    argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int rc =
      posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (rc != 0) {
    close(out_pipe[0]);
    close(err_pipe[0]);
    ADD_FAILURE() << "cannot start " << args[0] << ": " << strerror(rc);
    return result;
  }
  result.out = Drain(out_pipe[0]);
  result.err = Drain(err_pipe[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  result.exit_code =
      WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

// Under one directory removed when the test program exits.
std::string WriteTemp(const std::string& name, const std::string& text) {
  static ::edgepass::testing::TempDir dir;
  const std::string path = dir.path() + "/" + name;
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
  return path;
}

// Unix seconds for a millisecond clock, exact ("1767225600", "1767225600.250").
std::string SecondsArg(int64_t ms) {
  std::string s = std::to_string(ms / 1000);
  if (ms % 1000 != 0) {
    char frac[8];
    std::snprintf(frac, sizeof frac, ".%03d", static_cast<int>(ms % 1000));
    s += frac;
  }
  return s;
}

std::string SafeName(std::string id) {
  for (char& ch : id) {
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  }
  return id;
}

// Runs `token verify` on the case's request carrying `uri` (its own, or the
// same with another token) and checks the outcome the case requires.
void ExpectVerifyGivesRequiredOutcome(const VectorCase& c,
                                      const std::string& uri) {
  // The project keyring format; the first validator key is the primary.
  nlohmann::json keys = nlohmann::json::array();
  for (const auto& [kid, value] : c.validator_keys) {
    keys.push_back({{"id", kid},
                    {"value", value},
                    {"state", keys.empty() ? "primary" : "secondary"}});
  }
  const std::string keyring = WriteTemp(SafeName(c.id) + "_keyring.json",
                                        nlohmann::json{{"keys", keys}}.dump());

  std::vector<std::string> args = {EDGEPASS_CLI_PATH,
                                   "token",
                                   "verify",
                                   "--keyring",
                                   keyring,
                                   "--uri",
                                   uri,
                                   "--ip",
                                   c.viewer_ip,
                                   "--now",
                                   SecondsArg(c.validation_time_ms)};
  for (const auto& [name, value] : c.headers) {
    args.push_back("--header");
    args.push_back(name + "=" + value);
  }
  for (const auto& [name, value] : c.query) {
    args.push_back("--query");
    args.push_back(name + "=" + value);
  }
  const ProcessResult r = RunProcess(args);
  EXPECT_EQ(r.exit_code, c.expect_valid ? 0 : 1) << r.out << r.err;
  ASSERT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
  const nlohmann::json line =
      nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  ASSERT_TRUE(line.is_object()) << r.out;
  EXPECT_EQ(line.value("allow", !c.expect_valid), c.expect_valid) << r.out;
  if (c.expect_valid) {
    EXPECT_EQ(line["path"], c.expect_uri) << r.out;
    EXPECT_EQ(line["reason"], "ok") << r.out;
  } else {
    EXPECT_TRUE(line["path"].is_null()) << r.out;
    EXPECT_NE(line["reason"], "ok") << r.out;
    if (!c.expect_reason.empty()) {
      EXPECT_EQ(line["reason"], c.expect_reason) << r.out;
    }
  }
}

class CliVectors : public ::testing::TestWithParam<VectorCase> {};

TEST_P(CliVectors, TokenVerifyGivesRequiredOutcome) {
  const VectorCase& c = GetParam();
  SCOPED_TRACE(c.id + ": " + c.title);
  ExpectVerifyGivesRequiredOutcome(c, c.request_uri);
}

TEST_P(CliVectors, TokenIssueReproducesSmdOutputByteForByte) {
  const VectorCase& c = GetParam();
  SCOPED_TRACE(c.id + ": " + c.title);
  // SMD's keys object with the case's signing key as primary.
  const std::string keyring = WriteTemp(
      SafeName(c.id) + "_smd_keys.json",
      nlohmann::json{
          {"primary", {{"uuid", c.signing_kid}, {"value", c.signing_value}}}}
          .dump());
  const std::string policy =
      WriteTemp(SafeName(c.id) + "_policy.json", c.token_policy_json);
  const std::string viewer =
      WriteTemp(SafeName(c.id) + "_viewer.json", c.viewer_json);
  std::vector<std::string> args = {EDGEPASS_CLI_PATH,
                                   "token",
                                   "issue",
                                   "--keyring",
                                   keyring,
                                   "--policy",
                                   policy,
                                   "--viewer",
                                   viewer,
                                   "--now",
                                   SecondsArg(c.generation_time_ms)};
  if (c.playback_url) {
    args.push_back("--url");
    args.push_back(*c.playback_url);
  }
  const ProcessResult r = RunProcess(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  if (c.issuer_differs) {
    // edgepass deliberately issues another token here (the case says why):
    // it must differ, and give the required outcome for the same request.
    SCOPED_TRACE("edgepass_issuer_differs: " + *c.issuer_differs);
    ASSERT_FALSE(c.tampered || c.playback_url.has_value())
        << "edgepass_issuer_differs needs the request as generated, no URL";
    ASSERT_FALSE(r.out.empty()) << r.err;
    ASSERT_EQ(r.out.back(), '\n') << r.out;
    const std::string token = r.out.substr(0, r.out.size() - 1);
    EXPECT_NE(token, c.token)
        << "the issuer now reproduces the SDK; drop the field";
    ExpectVerifyGivesRequiredOutcome(c, RequestUriWithToken(c, token));
    return;
  }
  EXPECT_EQ(r.out, c.sdk_output + "\n");
  if (!c.playback_url) EXPECT_EQ(r.out, c.token + "\n");
}

// `token explain` on the same request as a playback URL: the exit code and
// decision `token verify` must give, and, where the validator checked intsig
// and it matched, the viewer-attribute string SMD's SDK signed.
TEST_P(CliVectors, TokenExplainGivesVerifysOutcomeAndSmdsAttributeString) {
  const VectorCase& c = GetParam();
  SCOPED_TRACE(c.id + ": " + c.title);
  nlohmann::json keys = nlohmann::json::array();
  for (const auto& [kid, value] : c.validator_keys) {
    keys.push_back({{"id", kid}, {"value", value}, {"state", keys.empty() ? "primary" : "secondary"}});
  }
  const std::string keyring = WriteTemp(SafeName(c.id) + "_explain_keyring.json",
                                        nlohmann::json{{"keys", keys}}.dump());
  std::vector<std::string> args = {EDGEPASS_CLI_PATH, "token", "explain", "--json",
                                   "--keyring", keyring, "--ip", c.viewer_ip,
                                   "--now", SecondsArg(c.validation_time_ms)};
  for (const auto& [name, value] : c.headers) {
    args.push_back("--header");
    args.push_back(name + "=" + value);
  }
  for (const auto& [name, value] : c.query) {
    args.push_back("--query");
    args.push_back(name + "=" + value);
  }
  // The request path carries no query here: the case's query went in above.
  args.push_back("--uri");
  args.push_back("https://cdn.example.com" + c.request_uri);
  const ProcessResult r = RunProcess(args);
  EXPECT_EQ(r.exit_code, c.expect_valid ? 0 : 1) << r.out << r.err;
  const nlohmann::json report = nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  ASSERT_TRUE(report.is_object()) << r.out << r.err;
  EXPECT_EQ(report["decision"]["allow"], c.expect_valid) << r.out;
  if (c.expect_valid) EXPECT_EQ(report["decision"]["path"], c.expect_uri) << r.out;
  if (!c.expect_valid && !c.expect_reason.empty()) {
    EXPECT_EQ(report["decision"]["reason"], c.expect_reason) << r.out;
  }
  const nlohmann::json& built = report["bindings"]["request"];
  if (c.intsig_input && built["intsig_matches"] == true) {
    // The SDK keeps an IPv6 address in the case it was given; edgepass shows
    // the canonical lower-case form (and accepts both).
    std::string want = *c.intsig_input, got = built["viewer_attributes"].get<std::string>();
    for (std::string* s : {&want, &got}) {
      std::transform(s->begin(), s->end(), s->begin(), [](unsigned char ch) { return std::tolower(ch); });
    }
    EXPECT_EQ(got, want) << r.out;
  }
}

std::string CaseName(const ::testing::TestParamInfo<VectorCase>& info) {
  return SafeName(info.param.id);
}

INSTANTIATE_TEST_SUITE_P(Smd, CliVectors,
                         ::testing::ValuesIn(LoadVectorCases(VectorsDir())),
                         CaseName);
// The project's own cases, generated from SMD's code (tests/vectors/own).
INSTANTIATE_TEST_SUITE_P(Own, CliVectors,
                         ::testing::ValuesIn(LoadVectorCases(OwnVectorsDir())),
                         CaseName);

}  // namespace
}  // namespace edgepass::testing
