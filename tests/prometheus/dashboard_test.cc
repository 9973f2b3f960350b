// The Grafana dashboard (deploy/grafana/edgepass-dashboard.json, embedded by
// the chart) and the alert rules, against what the project really exports:
// the dashboard has Grafana's dashboard structure; every panel query is
// accepted by a real prometheus (its own PromQL parser, via /api/v1/query)
// scraping a real edgepass-server (fleet mode, real redis-server) and a real
// edgepass-validator; and every edgepass_* name in the queries and in
// deploy/prometheus/edgepass-rules.yaml is a metric one of the two scrapes
// carries, or is on the explicit allow-list below. Skipped only when Debian's
// prometheus or redis-server is missing. Label: integration.
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "edgepass/v1/playback.grpc.pb.h"
#include "gtest/gtest.h"
#include "http/http_test_client.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/edge_stack.h"
#include "tests/integration/server_process.h"
#include "tests/prometheus/prometheus_process.h"
#include "tests/support/redis_server.h"
#include "tests/support/test_process.h"

namespace edgepass {
namespace {

using ::edgepass::http::testing::Fetch;
using ::edgepass::testing::Context;
using ::edgepass::testing::PrometheusAvailable;
using ::edgepass::testing::PrometheusProcess;
using ::edgepass::testing::ReadFileOrEmpty;
using ::edgepass::testing::RedisServer;
using ::edgepass::testing::RedisServerAvailable;
using ::edgepass::testing::ServerProcess;
using ::edgepass::testing::Sidecar;
using ::edgepass::testing::TempDir;

constexpr char kDashboardFile[] = EDGEPASS_DASHBOARD_FILE;
constexpr char kRulesFile[] = EDGEPASS_RULES_FILE;

// Metrics the dashboard or the alerts name that this scrape cannot show.
// Each entry goes when its metric appears in the scrape (the test says so).
const std::set<std::string> kNotYetExported = {
    // Exported in Sentinel mode only (--redis-sentinels); this test runs one redis-server.
    "edgepass_redis_failovers_total",
};

// Names of every sample in exposition `text` (histograms as _bucket, _sum, _count).
std::set<std::string> SampleNames(const std::string& text) {
  std::set<std::string> names;
  static const std::regex kSample(R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ])");
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(start, end - start);
    std::smatch m;
    if (!line.empty() && line[0] != '#' && std::regex_search(line, m, kSample)) names.insert(m[1]);
    start = end + 1;
  }
  return names;
}

std::set<std::string> EdgepassNames(const std::string& text) {
  std::set<std::string> names;
  static const std::regex kName(R"(\bedgepass_[a-z0-9_]+)");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), kName); it != std::sregex_iterator(); ++it) {
    names.insert(it->str());
  }
  return names;
}

std::string Scrape(const std::string& host_port) {
  std::optional<http::testing::TestResponse> r = Fetch(testing::PortOf(host_port), "GET", "/metrics");
  return r.has_value() && r->status == 200 ? r->body : "";
}

// Grafana's dashboard model, the parts Grafana needs to load it: title, uid,
// schemaVersion, panels with unique ids, a type, a gridPos inside the 24
// columns, and Prometheus targets with an expr and a unique refId.
std::vector<std::string> StructureProblems(const nlohmann::json& d) {
  std::vector<std::string> out;
  if (!d.is_object()) return {"not a JSON object"};
  for (const char* key : {"title", "uid"}) {
    if (!d.contains(key) || !d[key].is_string() || d[key].get<std::string>().empty()) {
      out.push_back(absl::StrCat(key, ": a non-empty string is required"));
    }
  }
  if (!d.contains("schemaVersion") || !d["schemaVersion"].is_number_integer()) out.push_back("schemaVersion: integer required");
  if (!d.contains("panels") || !d["panels"].is_array() || d["panels"].empty()) return {"panels: a non-empty list is required"};
  std::set<int> ids;
  const std::set<std::string> kTypes = {"row", "timeseries", "stat", "gauge", "table", "bargauge", "text"};
  for (size_t i = 0; i < d["panels"].size(); ++i) {
    const nlohmann::json& p = d["panels"][i];
    const std::string where = absl::StrCat("panels[", i, "]");
    if (!p.is_object()) { out.push_back(where + ": not an object"); continue; }
    if (!p.contains("id") || !p["id"].is_number_integer() || !ids.insert(p["id"].get<int>()).second) {
      out.push_back(where + ".id: missing or duplicate");
    }
    if (!p.contains("type") || !p["type"].is_string() || kTypes.count(p["type"].get<std::string>()) == 0) {
      out.push_back(where + ".type: missing or unknown");
    }
    if (!p.contains("title") || !p["title"].is_string()) out.push_back(where + ".title: string required");
    const nlohmann::json& g = p.value("gridPos", nlohmann::json());
    bool grid_ok = g.is_object();
    for (const char* k : {"x", "y", "w", "h"}) grid_ok = grid_ok && g.contains(k) && g[k].is_number_integer();
    if (!grid_ok || g["x"].get<int>() < 0 || g["w"].get<int>() < 1 ||
        g["x"].get<int>() + g["w"].get<int>() > 24) {
      out.push_back(where + ".gridPos: x, y, w, h integers within 24 columns");
    }
    if (p.value("type", "") == "row") continue;
    if (!p.contains("targets") || !p["targets"].is_array() || p["targets"].empty()) {
      out.push_back(where + ".targets: a non-empty list is required");
      continue;
    }
    std::set<std::string> refs;
    for (size_t j = 0; j < p["targets"].size(); ++j) {
      const nlohmann::json& t = p["targets"][j];
      const std::string tw = absl::StrCat(where, ".targets[", j, "]");
      if (!t.is_object() || !t.contains("expr") || !t["expr"].is_string() || t["expr"].get<std::string>().empty()) {
        out.push_back(tw + ".expr: a non-empty string is required");
      }
      if (!t.is_object() || !t.contains("refId") || !t["refId"].is_string() ||
          !refs.insert(t["refId"].get<std::string>()).second) {
        out.push_back(tw + ".refId: missing or duplicate");
      }
    }
  }
  return out;
}

TEST(EdgepassDashboard, LoadsAndQueriesNameExportedMetrics) {
  const nlohmann::json dashboard =
      nlohmann::json::parse(ReadFileOrEmpty(kDashboardFile), nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(dashboard.is_discarded()) << kDashboardFile << " is not valid JSON";
  for (const std::string& problem : StructureProblems(dashboard)) ADD_FAILURE() << kDashboardFile << ": " << problem;

  if (!PrometheusAvailable() || !RedisServerAvailable()) {
    GTEST_SKIP() << "Debian's prometheus and redis-server are needed; scripts/deps.sh installs them";
  }
  TempDir dir;
  RedisServer redis;
  ASSERT_TRUE(redis.Start());
  ServerProcess server(dir.path(), dir.path() + "/data", {"--redis-addr", redis.address()});
  ASSERT_TRUE(server.WaitUntilServing());
  Sidecar sidecar(dir.path(), {"--server", server.address(), "--listen", "127.0.0.1:0"});
  ASSERT_NE(sidecar.WaitListening(), 0) << sidecar.log();
  {  // one gRPC issue call, so the labelled issuing families have series
    v1::IssuePlaybackRequest request;
    request.set_asset_id("1");
    v1::IssuePlaybackResponse response;
    ASSERT_TRUE(server.stub().IssuePlayback(Context().get(), request, &response).ok());
  }
  {  // and one over REST, for the HTTP families
    std::optional<http::testing::TestResponse> r = Fetch(server.rest_port(), "POST", "/v1/assets/1/playback");
    ASSERT_TRUE(r.has_value() && r->status == 200);
    // One key rotation, for the rotation families (no series before one).
    r = Fetch(server.rest_port(), "POST", "/v1/keys/rotate");
    ASSERT_TRUE(r.has_value() && r->status == 200) << (r.has_value() ? r->body : "no answer");
  }
  const std::string validator_metrics = absl::StrCat("127.0.0.1:", sidecar.MetricsPort());
  std::set<std::string> exported = SampleNames(Scrape(server.metrics_address()));
  const std::set<std::string> validator_names = SampleNames(Scrape(validator_metrics));
  exported.insert(validator_names.begin(), validator_names.end());
  ASSERT_TRUE(exported.count("edgepass_tokens_issued_total") && exported.count("edgepass_validator_ready"))
      << "scrapes incomplete";

  PrometheusProcess prometheus(dir.path());
  ASSERT_TRUE(prometheus.Start({{"edgepass-server", server.metrics_address()},
                                {"edgepass-validator", validator_metrics}}));

  std::set<std::string> named;
  for (const nlohmann::json& panel : dashboard["panels"]) {
    if (!panel.contains("targets")) continue;
    for (const nlohmann::json& target : panel["targets"]) {
      const std::string expr = target.value("expr", "");
      // Grafana's own variables, as Grafana substitutes them.
      const std::string promql = absl::StrReplaceAll(expr, {{"$__rate_interval", "1m"}, {"$__interval", "1m"}, {"$__range", "1h"}});
      absl::StatusOr<nlohmann::json> r = prometheus.Query(promql);
      EXPECT_TRUE(r.ok() || !absl::IsInvalidArgument(r.status()))
          << "panel \"" << panel.value("title", "") << "\": prometheus refuses " << expr << ": " << r.status();
      EXPECT_TRUE(r.ok()) << expr << ": " << r.status();
      const std::set<std::string> names = EdgepassNames(expr);
      named.insert(names.begin(), names.end());
    }
  }
  const std::set<std::string> in_rules = EdgepassNames(ReadFileOrEmpty(kRulesFile));
  ASSERT_FALSE(in_rules.empty()) << "cannot read " << kRulesFile;
  named.insert(in_rules.begin(), in_rules.end());

  for (const std::string& name : named) {
    if (exported.count(name) > 0) {
      EXPECT_EQ(kNotYetExported.count(name), 0u)
          << name << " is exported now: remove it from kNotYetExported";
    } else {
      EXPECT_EQ(kNotYetExported.count(name), 1u)
          << name << " (dashboard or alert rules) is not a metric the server or the validator exports";
    }
  }
}

}  // namespace
}  // namespace edgepass
