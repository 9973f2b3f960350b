// The `edgepass` CLI and `edgepass-load` against a real edgepass-server that
// runs TLS (test PKI) and authenticates every call (--access-file): with
// --server-ca and an API key of scope issue (flag or EDGEPASS_API_KEY_FILE)
// they get answers; without a key, or with a key lacking the scope, the
// server's refusal is reported, and never the key. Label: integration.
#include <sys/stat.h>

#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "client/channel/grpc_channel_tls.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/integration/server_process.h"
#include "tests/support/test_pki.h"
#include "tests/support/test_process.h"

namespace edgepass {
namespace {

using ::edgepass::testing::RunProcess;
using ::edgepass::testing::RunResult;
using ::edgepass::testing::MakeApiKey;
using ::edgepass::testing::NewApiKey;
using ::edgepass::testing::ServerProcess;
using ::edgepass::testing::TempDir;
using ::edgepass::testing::WriteFileOrDie;

constexpr char kCliPath[] = EDGEPASS_CLI_PATH;
constexpr char kLoadPath[] = EDGEPASS_LOAD_PATH;

class ToolsAuthTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    work_ = new TempDir();
    pki_dir_ = new testing::TempDir();
    absl::StatusOr<testing::TestPki> pki = testing::MakeTestPki(pki_dir_->path(), {});
    ASSERT_TRUE(pki.ok()) << pki.status();
    ca_file_ = new std::string(pki->ca_file);
    const NewApiKey backend = MakeApiKey("playback-backend:issue", work_->path());
    const NewApiKey edge = MakeApiKey("edge-validator:edge-sync", work_->path());
    backend_key_ = new std::string(backend.key);
    edge_key_ = new std::string(edge.key);
    const std::string access = work_->path() + "/access.json";
    WriteFileOrDie(access, absl::StrCat(R"({"api_keys":[)", backend.entry_json, ",",
                                        edge.entry_json, "]}"));
    server_ = new ServerProcess(work_->path(), work_->path() + "/data",
                                {"--access-file", access, "--tls-cert", pki->server.cert_file,
                                 "--tls-key", pki->server.key_file});
    absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> tls =
        client::MakeGrpcChannelCredentials({.ca_file = pki->ca_file});
    ASSERT_TRUE(tls.ok()) << tls.status();
    server_->SetChannelCredentials(*tls);
    ASSERT_TRUE(server_->WaitUntilServing()) << server_->log();
  }
  static void TearDownTestSuite() {
    delete server_;
    delete backend_key_;
    delete edge_key_;
    delete ca_file_;
    delete pki_dir_;
    delete work_;
  }

  // Writes `key` to a file only its owner can read.
  static std::string KeyFile(const std::string& name, const std::string& key) {
    const std::string path = absl::StrCat(work_->path(), "/", name, ".key");
    WriteFileOrDie(path, key + "\n");
    EXPECT_EQ(::chmod(path.c_str(), 0600), 0);
    return path;
  }

  static RunResult Cli(std::vector<std::string> args) {
    args.insert(args.begin(), {kCliPath, "issue", "1", "--server", server_->address(),
                               "--deadline", "3s"});
    return RunProcess(args, work_->path());
  }

  static RunResult Load(std::vector<std::string> args) {
    args.insert(args.begin(), {kLoadPath, "--server", server_->address(), "--rate", "50",
                               "--duration", "500ms", "--json"});
    return RunProcess(args, work_->path(), absl::Seconds(30));
  }

  static TempDir* work_;
  static testing::TempDir* pki_dir_;
  static std::string* ca_file_;
  static std::string* backend_key_;
  static std::string* edge_key_;
  static ServerProcess* server_;
};

TempDir* ToolsAuthTest::work_ = nullptr;
testing::TempDir* ToolsAuthTest::pki_dir_ = nullptr;
std::string* ToolsAuthTest::ca_file_ = nullptr;
std::string* ToolsAuthTest::backend_key_ = nullptr;
std::string* ToolsAuthTest::edge_key_ = nullptr;
ServerProcess* ToolsAuthTest::server_ = nullptr;

TEST_F(ToolsAuthTest, CliIssuesOverTlsWithTheKeyFromAFlagOrTheEnvironment) {
  const std::string key_file = KeyFile("backend", *backend_key_);
  static const std::regex kUrl("^https://[^\\s]+\n$");
  RunResult r = Cli({"--server-ca", *ca_file_, "--api-key-file", key_file});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(std::regex_search(r.out, kUrl)) << r.out;

  RunResult from_env = RunProcess(
      {"/usr/bin/env", "EDGEPASS_API_KEY_FILE=" + key_file, kCliPath, "issue", "1", "--server",
       server_->address(), "--server-ca", *ca_file_},
      work_->path());
  EXPECT_EQ(from_env.exit_code, 0) << from_env.err;
  EXPECT_TRUE(std::regex_search(from_env.out, kUrl)) << from_env.out;
}

TEST_F(ToolsAuthTest, CliReportsTheRefusalWithoutTheKey) {
  RunResult none = Cli({"--server-ca", *ca_file_});
  EXPECT_EQ(none.exit_code, 1) << none.err;
  EXPECT_TRUE(absl::StrContains(none.err, "edgepass issue: UNAUTHENTICATED: ")) << none.err;

  RunResult wrong_scope =
      Cli({"--server-ca", *ca_file_, "--api-key-file", KeyFile("edge", *edge_key_)});
  EXPECT_EQ(wrong_scope.exit_code, 1) << wrong_scope.err;
  EXPECT_TRUE(absl::StrContains(wrong_scope.err, "edgepass issue: PERMISSION_DENIED: "))
      << wrong_scope.err;
  EXPECT_TRUE(absl::StrContains(wrong_scope.err, "lacks scope issue")) << wrong_scope.err;
  EXPECT_FALSE(absl::StrContains(wrong_scope.err, *edge_key_)) << "the API key was printed";

  // Plaintext to a TLS server: unreachable in time.
  RunResult plain = Cli({"--api-key-file", KeyFile("backend", *backend_key_)});
  EXPECT_EQ(plain.exit_code, 3) << plain.err;
}

TEST_F(ToolsAuthTest, LoadGeneratorSendsTheKeyOnEveryCall) {
  RunResult run = Load({"--server-ca", *ca_file_, "--api-key-file", KeyFile("backend", *backend_key_)});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  nlohmann::json report = nlohmann::json::parse(run.out, nullptr, /*allow_exceptions=*/false);
  ASSERT_TRUE(report.is_object()) << run.out;
  EXPECT_GT(report["ok"].get<int64_t>(), 0) << run.out;
  EXPECT_EQ(report["ok"], report["sent"]) << run.out;
  EXPECT_EQ(report["error_count"], 0) << run.out;

  run = Load({"--server-ca", *ca_file_});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  report = nlohmann::json::parse(run.out, nullptr, /*allow_exceptions=*/false);
  ASSERT_TRUE(report.is_object()) << run.out;
  EXPECT_EQ(report["ok"], 0) << run.out;
  EXPECT_EQ(report["errors"]["UNAUTHENTICATED"], report["sent"]) << run.out;

  // A key file others may read is refused before anything is sent.
  const std::string open_key = KeyFile("open", *backend_key_);
  ASSERT_EQ(::chmod(open_key.c_str(), 0644), 0);
  run = Load({"--server-ca", *ca_file_, "--api-key-file", open_key});
  EXPECT_EQ(run.exit_code, 2) << run.err;
  EXPECT_TRUE(absl::StrContains(run.err, "--api-key-file: api key file '" + open_key +
                                             "' is accessible by group or others"))
      << run.err;
  EXPECT_FALSE(absl::StrContains(run.err, *backend_key_)) << "the API key was printed";
}

}  // namespace
}  // namespace edgepass
