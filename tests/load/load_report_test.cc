#include "tests/load/load_report.h"

#include <string>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace edgepass::load {
namespace {

LoadReport SampleReport() {
  LoadReport report;
  report.options.servers = {"127.0.0.1:5000"};
  report.options.rate = 200;
  report.options.duration = absl::Seconds(2);
  report.elapsed = absl::Seconds(4);
  report.scheduled = 400;
  report.sent = 398;
  report.ok = 390;
  report.errors = {{"UNAVAILABLE", 5}, {"DEADLINE_EXCEEDED", 3}};
  report.dropped = 2;
  report.max_send_lag_ns = 1500;
  for (int i = 1; i <= 390; ++i) report.latency_ns.Record(int64_t{i} * 1000);
  return report;
}

TEST(LoadReport, ThroughputIsOkPerElapsedSecond) {
  LoadReport report = SampleReport();
  EXPECT_DOUBLE_EQ(Throughput(report), 97.5);
  EXPECT_EQ(ErrorCount(report), 8);
  report.elapsed = absl::ZeroDuration();
  EXPECT_EQ(Throughput(report), 0);
}

TEST(LoadReport, JsonCarriesCountsAndOrderedPercentiles) {
  nlohmann::json j = nlohmann::json::parse(FormatJson(SampleReport()));
  EXPECT_EQ(j["mode"], "open_loop");
  EXPECT_EQ(j["target_rate"], 200);
  EXPECT_EQ(j["duration_s"], 2);
  EXPECT_EQ(j["elapsed_s"], 4);
  EXPECT_EQ(j["servers"], nlohmann::json({"127.0.0.1:5000"}));
  EXPECT_EQ(j["asset"], "1");
  EXPECT_EQ(j["scheduled"], 400);
  EXPECT_EQ(j["sent"], 398);
  EXPECT_EQ(j["ok"], 390);
  EXPECT_EQ(j["errors"],
            nlohmann::json({{"DEADLINE_EXCEEDED", 3}, {"UNAVAILABLE", 5}}));
  EXPECT_EQ(j["error_count"], 8);
  EXPECT_EQ(j["dropped"], 2);
  EXPECT_DOUBLE_EQ(j["throughput_rps"].get<double>(), 97.5);
  EXPECT_DOUBLE_EQ(j["max_send_lag_us"].get<double>(), 1.5);
  const nlohmann::json& l = j["latency_us"];
  EXPECT_EQ(l["samples"], 390);
  EXPECT_EQ(l["min"], 1);
  EXPECT_EQ(l["max"], 390);
  EXPECT_LE(l["min"].get<double>(), l["p50"].get<double>());
  EXPECT_LE(l["p50"].get<double>(), l["p90"].get<double>());
  EXPECT_LE(l["p90"].get<double>(), l["p99"].get<double>());
  EXPECT_LE(l["p99"].get<double>(), l["p999"].get<double>());
  EXPECT_LE(l["p999"].get<double>(), l["max"].get<double>());
}

TEST(LoadReport, JsonLatencyIsNullWithoutSamples) {
  LoadReport report;
  report.options.servers = {"h:1"};
  report.options.rate = 0;
  nlohmann::json j = nlohmann::json::parse(FormatJson(report));
  EXPECT_EQ(j["mode"], "closed_loop");
  EXPECT_EQ(j["errors"], nlohmann::json::object());
  EXPECT_EQ(j["latency_us"]["samples"], 0);
  EXPECT_TRUE(j["latency_us"]["p99"].is_null());
  EXPECT_TRUE(j["latency_us"]["max"].is_null());
}

TEST(LoadReport, JsonSurvivesInvalidUtf8InFlags) {
  LoadReport report;
  report.options.servers = {"h:1"};
  report.options.asset_id = "\xff\xfe";
  nlohmann::json j = nlohmann::json::parse(FormatJson(report));
  EXPECT_TRUE(j["asset"].is_string());
}

TEST(LoadReport, TextNamesModeCountsErrorsAndPercentiles) {
  const std::string text = FormatText(SampleReport());
  EXPECT_TRUE(absl::StrContains(text, "open loop at 200 req/s for 2s")) << text;
  EXPECT_TRUE(absl::StrContains(
      text, "scheduled 400  sent 398  ok 390  errors 8  dropped 2"))
      << text;
  EXPECT_TRUE(absl::StrContains(text, "throughput 97.5 req/s over 4.000s"))
      << text;
  EXPECT_TRUE(
      absl::StrContains(text, "errors: DEADLINE_EXCEEDED 3 UNAVAILABLE 5"))
      << text;
  EXPECT_TRUE(absl::StrContains(text, "p50 0.19")) << text;
  EXPECT_TRUE(absl::StrContains(text, "max 0.390")) << text;
}

}  // namespace
}  // namespace edgepass::load
