// Metrics as Prometheus sees them: a real edgepass-server and a real
// edgepass-validator (subscribed to it over edge sync), each with its
// /metrics on a port of its own; `promtool check metrics` lints both scrapes,
// and a real prometheus server on loopback scrapes both every second until a
// query returns the number of tokens the test issued and the validations it
// made. Skipped only when Debian's prometheus package (prometheus, promtool)
// is not installed; scripts/deps.sh installs it. Label: integration.
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "edgepass/v1/playback.grpc.pb.h"
#include "gtest/gtest.h"
#include "http/http_test_client.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/edge_stack.h"
#include "tests/integration/server_process.h"
#include "tests/support/test_process.h"

namespace edgepass {
namespace {

using ::edgepass::http::testing::Fetch;
using ::edgepass::testing::ChildProcess;
using ::edgepass::testing::Context;
using ::edgepass::testing::FreeLoopbackPort;
using ::edgepass::testing::ReadFileOrEmpty;
using ::edgepass::testing::RunProcess;
using ::edgepass::testing::RunResult;
using ::edgepass::testing::ServerProcess;
using ::edgepass::testing::Sidecar;
using ::edgepass::testing::TempDir;
using ::edgepass::testing::WaitForPort;
using ::edgepass::testing::WriteFileOrDie;

constexpr char kPrometheusPath[] = EDGEPASS_PROMETHEUS_PATH;
constexpr char kPromtoolPath[] = EDGEPASS_PROMTOOL_PATH;
constexpr int kTokens = 5;
const absl::Duration kQueryWait = absl::Seconds(60);

bool Executable(const char* path) { return path[0] != '\0' && ::access(path, X_OK) == 0; }

std::string UrlEncode(absl::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    if (absl::ascii_isalnum(c) || c == '_' || c == '-' || c == '.') {
      out += static_cast<char>(c);
    } else {
      absl::StrAppend(&out, "%", absl::Hex(c, absl::kZeroPad2));
    }
  }
  return out;
}

// The body of GET /metrics on `port`, or "" when it could not be fetched.
std::string Scrape(uint16_t port) {
  std::optional<http::testing::TestResponse> r = Fetch(port, "GET", "/metrics");
  return r.has_value() && r->status == 200 ? r->body : "";
}

class PrometheusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!Executable(kPrometheusPath) || !Executable(kPromtoolPath)) {
      GTEST_SKIP() << "Debian's prometheus package (prometheus, promtool) is not installed; "
                      "scripts/deps.sh installs it";
    }
  }
  void TearDown() override {
    if (prometheus_ != nullptr && prometheus_->Running()) {
      prometheus_->Signal(SIGTERM);
      if (!prometheus_->WaitForExit(absl::Seconds(10)).has_value()) prometheus_.reset();  // SIGKILL
    }
  }

  // `promtool check metrics` on `text`; its exit code 0 or the failure.
  ::testing::AssertionResult PromtoolAccepts(const std::string& name, const std::string& text) {
    const std::string path = absl::StrCat(dir_.path(), "/", name, ".prom");
    WriteFileOrDie(path, text);
    RunResult r = RunProcess(
        {"/bin/sh", "-c", absl::StrCat("exec '", kPromtoolPath, "' check metrics < '", path, "'")},
        dir_.path());
    if (r.exit_code == 0) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "promtool check metrics (" << name << ") exited "
                                         << r.exit_code << ": " << r.out << r.err;
  }

  // Starts prometheus on a free loopback port scraping `targets` (job ->
  // HOST:PORT) every second; its API port, or 0.
  uint16_t StartPrometheus(const std::vector<std::pair<std::string, std::string>>& targets) {
    std::string config =
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n"
        "scrape_configs:\n";
    for (const auto& [job, target] : targets) {
      absl::StrAppend(&config, "  - job_name: ", job, "\n    static_configs:\n",
                      "      - targets: ['", target, "']\n");
    }
    const std::string config_path = dir_.path() + "/prometheus.yml";
    WriteFileOrDie(config_path, config);
    const uint16_t port = FreeLoopbackPort();
    if (port == 0) return 0;
    prometheus_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{kPrometheusPath, "--config.file=" + config_path,
                                 "--storage.tsdb.path=" + dir_.path() + "/tsdb",
                                 absl::StrCat("--web.listen-address=127.0.0.1:", port),
                                 "--log.level=warn"},
        dir_.path() + "/prometheus.out", dir_.path() + "/prometheus.err");
    return WaitForPort(port, absl::Seconds(20)) ? port : 0;
  }

  // Polls an instant query until its single value is `want` (bounded).
  ::testing::AssertionResult QueryReaches(uint16_t port, const std::string& query,
                                          const std::string& want) {
    const absl::Time deadline = absl::Now() + kQueryWait;
    std::string last;
    while (absl::Now() < deadline) {
      std::optional<http::testing::TestResponse> r =
          Fetch(port, "GET", "/api/v1/query?query=" + UrlEncode(query));
      if (r.has_value()) {
        last = r->body;
        nlohmann::json body = nlohmann::json::parse(r->body, nullptr, /*allow_exceptions=*/false);
        if (body.is_object() && body.value("status", "") == "success") {
          const nlohmann::json& result = body["data"]["result"];
          if (result.is_array() && result.size() == 1 && result[0]["value"][1] == want) {
            return ::testing::AssertionSuccess();
          }
        }
      }
      if (!prometheus_->Running()) {
        return ::testing::AssertionFailure()
               << "prometheus exited: " << ReadFileOrEmpty(dir_.path() + "/prometheus.err");
      }
      absl::SleepFor(absl::Milliseconds(250));
    }
    return ::testing::AssertionFailure() << query << " did not reach " << want << " within "
                                         << kQueryWait << "; last answer: " << last;
  }

  TempDir dir_;
  std::unique_ptr<ChildProcess> prometheus_;
};

TEST_F(PrometheusTest, ScrapesServerAndValidator) {
  ServerProcess server(dir_.path(), dir_.path() + "/data");
  ASSERT_TRUE(server.WaitUntilServing());
  ASSERT_FALSE(server.metrics_address().empty()) << server.log();

  Sidecar sidecar(dir_.path(), {"--server", server.address(), "--listen", "127.0.0.1:0"});
  const uint16_t sidecar_port = sidecar.WaitListening();
  ASSERT_NE(sidecar_port, 0) << sidecar.log();
  const uint16_t sidecar_metrics_port = sidecar.MetricsPort();
  ASSERT_NE(sidecar_metrics_port, 0) << sidecar.log();
  // Ready once edge sync delivered the keyring.
  const absl::Time ready_by = absl::Now() + absl::Seconds(15);
  while (Fetch(sidecar_port, "GET", "/healthz")->status != 200) {
    ASSERT_LT(absl::Now(), ready_by) << sidecar.log();
    absl::SleepFor(absl::Milliseconds(50));
  }

  // kTokens tokens over gRPC; two of them checked at the edge, plus one
  // request without a token.
  std::vector<std::string> paths;
  for (int i = 0; i < kTokens; ++i) {
    v1::IssuePlaybackRequest request;
    request.set_asset_id("1");
    v1::IssuePlaybackResponse response;
    ASSERT_TRUE(server.stub().IssuePlayback(Context().get(), request, &response).ok());
    const std::string& url = response.playback_url();  // https://host/<token>/path
    paths.push_back(url.substr(url.find('/', std::string("https://").size())));
  }
  for (const std::string& uri : {paths[0], paths[1], std::string("/out/v1/x/index.m3u8")}) {
    std::optional<http::testing::TestResponse> r = Fetch(
        sidecar_port, "GET", "/auth", {{"X-Original-URI", uri}, {"X-Real-IP", "127.0.0.1"}});
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->status, uri == paths[0] || uri == paths[1] ? 200 : 401) << uri;
  }

  // One more over the REST gateway.
  {
    std::optional<http::testing::TestResponse> r =
        Fetch(server.rest_port(), "POST", "/v1/assets/1/playback");
    ASSERT_TRUE(r.has_value());
    ASSERT_EQ(r->status, 200) << r->body;
  }
  constexpr int kIssued = kTokens + 1;

  // Both scrapes lint clean.
  const std::string server_text = Scrape(server.metrics_port());
  const std::string sidecar_text = Scrape(sidecar_metrics_port);
  EXPECT_TRUE(PromtoolAccepts("server", server_text));
  EXPECT_TRUE(PromtoolAccepts("validator", sidecar_text));
  EXPECT_NE(server_text.find(absl::StrCat(
                "edgepass_tokens_issued_total{asset=\"1\",outcome=\"ok\",scheme=\"smd-token\"} ",
                kIssued, "\n")),
            std::string::npos)
      << server_text;
  EXPECT_NE(server_text.find("edgepass_http_requests_total{code=\"200\",route=\"/v1/assets/{asset_id}/playback\"} 1\n"),
            std::string::npos)
      << server_text;
  EXPECT_NE(server_text.find("edgepass_edge_validators_connected 1\n"), std::string::npos)
      << server_text;
  EXPECT_NE(sidecar_text.find("edgepass_validator_edge_sync_connected 1\n"), std::string::npos)
      << sidecar_text;

  // A real Prometheus scrapes both and answers queries over them.
  const uint16_t prometheus_port =
      StartPrometheus({{"edgepass-server", server.metrics_address()},
                       {"edgepass-validator", absl::StrCat("127.0.0.1:", sidecar_metrics_port)}});
  ASSERT_NE(prometheus_port, 0) << ReadFileOrEmpty(dir_.path() + "/prometheus.err");
  EXPECT_TRUE(QueryReaches(prometheus_port, "sum(edgepass_tokens_issued_total)",
                           absl::StrCat(kIssued)));
  EXPECT_TRUE(QueryReaches(prometheus_port,
                           "sum(edgepass_validator_validations_total{outcome=\"allowed\"})", "2"));
  EXPECT_TRUE(QueryReaches(
      prometheus_port,
      "edgepass_validator_validations_total{outcome=\"denied\",reason=\"missing_token\"}", "1"));
  EXPECT_TRUE(QueryReaches(prometheus_port, "sum(up)", "2"));  // both targets scraped fine
}

}  // namespace
}  // namespace edgepass
