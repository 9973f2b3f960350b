#include "tests/prometheus/prometheus_process.h"

#include <signal.h>
#include <unistd.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "http/http_test_client.h"

namespace edgepass::testing {
namespace {

constexpr char kPrometheusPath[] = EDGEPASS_PROMETHEUS_PATH;

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

}  // namespace

bool PrometheusAvailable() { return kPrometheusPath[0] != '\0' && ::access(kPrometheusPath, X_OK) == 0; }

PrometheusProcess::~PrometheusProcess() {
  if (process_ != nullptr && process_->Running()) {
    process_->Signal(SIGTERM);
    if (!process_->WaitForExit(absl::Seconds(10)).has_value()) process_.reset();  // SIGKILL
  }
}

::testing::AssertionResult PrometheusProcess::Start(
    const std::vector<std::pair<std::string, std::string>>& targets,
    const std::vector<std::string>& rule_files) {
  std::string config =
      "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n";
  if (!rule_files.empty()) {
    config += "rule_files:\n";
    for (const std::string& f : rule_files) absl::StrAppend(&config, "  - '", f, "'\n");
  }
  config += "scrape_configs:\n";
  for (const auto& [job, target] : targets) {
    absl::StrAppend(&config, "  - job_name: ", job, "\n    static_configs:\n",
                    "      - targets: ['", target, "']\n");
  }
  const std::string config_path = dir_ + "/prometheus.yml";
  WriteFileOrDie(config_path, config);
  port_ = FreeLoopbackPort();
  if (port_ == 0) return ::testing::AssertionFailure() << "no free port";
  process_ = std::make_unique<ChildProcess>(
      std::vector<std::string>{kPrometheusPath, "--config.file=" + config_path,
                               "--storage.tsdb.path=" + dir_ + "/tsdb",
                               absl::StrCat("--web.listen-address=127.0.0.1:", port_),
                               "--log.level=warn"},
      dir_ + "/prometheus.out", dir_ + "/prometheus.err");
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (absl::Now() < deadline) {
    if (Query("1").ok()) return ::testing::AssertionSuccess();
    if (!process_->Running()) break;
    absl::SleepFor(absl::Milliseconds(100));
  }
  return ::testing::AssertionFailure() << "prometheus did not answer: " << log();
}

absl::StatusOr<nlohmann::json> PrometheusProcess::Query(absl::string_view expr) {
  std::optional<http::testing::TestResponse> r =
      http::testing::Fetch(port_, "GET", "/api/v1/query?query=" + UrlEncode(expr));
  if (!r.has_value()) return absl::UnavailableError("prometheus unreachable");
  nlohmann::json body = nlohmann::json::parse(r->body, nullptr, /*allow_exceptions=*/false);
  if (!body.is_object()) return absl::UnavailableError(absl::StrCat("not JSON: ", r->body));
  if (body.value("status", "") != "success") {
    return absl::InvalidArgumentError(absl::StrCat(body.value("errorType", "?"), ": ",
                                                   body.value("error", r->body)));
  }
  return body["data"];
}

::testing::AssertionResult PrometheusProcess::WaitFor(absl::string_view alert, bool firing,
                                                      absl::Duration timeout,
                                                      const std::function<void()>& tick) {
  const std::string expr = absl::StrCat("ALERTS{alertname=\"", alert, "\",alertstate=\"firing\"}");
  const absl::Time deadline = absl::Now() + timeout;
  std::string last;
  while (absl::Now() < deadline) {
    absl::StatusOr<nlohmann::json> data = Query(expr);
    if (data.ok()) {
      const nlohmann::json& result = (*data)["result"];
      last = result.dump();
      if (result.is_array() && (result.empty() != firing)) return ::testing::AssertionSuccess();
    } else {
      last = data.status().ToString();
    }
    if (!process_->Running()) return ::testing::AssertionFailure() << "prometheus exited: " << log();
    if (tick) tick();
    absl::SleepFor(absl::Milliseconds(250));
  }
  return ::testing::AssertionFailure() << alert << (firing ? " did not fire" : " did not resolve")
                                       << " within " << timeout << "; last answer: " << last;
}

::testing::AssertionResult PrometheusProcess::WaitForFiring(absl::string_view alert,
                                                            absl::Duration timeout,
                                                            const std::function<void()>& tick) {
  return WaitFor(alert, true, timeout, tick);
}

::testing::AssertionResult PrometheusProcess::WaitForResolved(absl::string_view alert,
                                                              absl::Duration timeout) {
  return WaitFor(alert, false, timeout, nullptr);
}

std::string PrometheusProcess::log() const { return ReadFileOrEmpty(dir_ + "/prometheus.err"); }

}  // namespace edgepass::testing
