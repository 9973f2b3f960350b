#include "tests/load/load_report.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "nlohmann/json.hpp"

namespace edgepass::load {
namespace {

struct Percentile {
  const char* name;
  double value;
};
constexpr Percentile kPercentiles[] = {
    {"p50", 50}, {"p90", 90}, {"p99", 99}, {"p999", 99.9}};

bool ClosedLoop(const LoadReport& report) { return report.options.rate == 0; }

}  // namespace

double Throughput(const LoadReport& report) {
  const double seconds = absl::ToDoubleSeconds(report.elapsed);
  return seconds > 0 ? static_cast<double>(report.ok) / seconds : 0;
}

int64_t ErrorCount(const LoadReport& report) {
  int64_t total = 0;
  for (const auto& [code, n] : report.errors) total += n;
  return total;
}

std::string FormatText(const LoadReport& report) {
  const LoadOptions& o = report.options;
  std::string out = absl::StrCat(
      "edgepass-load: ",
      ClosedLoop(report)
          ? absl::StrCat("closed loop, ", o.concurrency, " in flight")
          : absl::StrFormat("open loop at %g req/s", o.rate),
      " for ", absl::FormatDuration(o.duration), ", asset ", o.asset_id, ", ",
      o.connections, " connection(s) to ", absl::StrJoin(o.servers, ","), "\n");
  absl::StrAppend(&out, "scheduled ", report.scheduled, "  sent ", report.sent,
                  "  ok ", report.ok, "  errors ", ErrorCount(report),
                  "  dropped ", report.dropped, "\n");
  absl::StrAppendFormat(&out, "throughput %.1f req/s over %.3fs",
                        Throughput(report),
                        absl::ToDoubleSeconds(report.elapsed));
  if (!ClosedLoop(report)) {
    absl::StrAppendFormat(&out, " (max send lag %.3f ms)",
                          report.max_send_lag_ns / 1e6);
  }
  out += "\n";
  if (!report.errors.empty()) {
    out += "errors:";
    for (const auto& [code, n] : report.errors)
      absl::StrAppend(&out, " ", code, " ", n);
    out += "\n";
  }
  const LatencyHistogram& h = report.latency_ns;
  absl::StrAppend(&out, "latency ms (", h.count(), " ok calls, from ",
                  ClosedLoop(report) ? "send" : "scheduled send", " time):");
  if (h.count() == 0) return out + " none\n";
  absl::StrAppendFormat(&out, " min %.3f  mean %.3f", h.min() / 1e6,
                        h.mean() / 1e6);
  for (const Percentile& p : kPercentiles) {
    absl::StrAppendFormat(&out, "  %s %.3f", p.name,
                          h.ValueAtPercentile(p.value) / 1e6);
  }
  absl::StrAppendFormat(&out, "  max %.3f\n", h.max() / 1e6);
  return out;
}

std::string FormatJson(const LoadReport& report) {
  const LoadOptions& o = report.options;
  const LatencyHistogram& h = report.latency_ns;
  auto micros = [&h](double ns) -> nlohmann::json {
    if (h.count() == 0) return nullptr;
    return ns / 1e3;
  };
  nlohmann::json latency = {{"samples", h.count()},
                            {"min", micros(h.min())},
                            {"mean", micros(h.mean())}};
  for (const Percentile& p : kPercentiles)
    latency[p.name] = micros(h.ValueAtPercentile(p.value));
  latency["max"] = micros(h.max());
  nlohmann::json errors = nlohmann::json::object();
  for (const auto& [code, n] : report.errors) errors[code] = n;
  nlohmann::json out = {
      {"mode", ClosedLoop(report) ? "closed_loop" : "open_loop"},
      {"target_rate", o.rate},
      {"duration_s", absl::ToDoubleSeconds(o.duration)},
      {"elapsed_s", absl::ToDoubleSeconds(report.elapsed)},
      {"servers", o.servers},
      {"asset", o.asset_id},
      {"connections", o.connections},
      {"concurrency", o.concurrency},
      {"scheduled", report.scheduled},
      {"sent", report.sent},
      {"ok", report.ok},
      {"errors", std::move(errors)},
      {"error_count", ErrorCount(report)},
      {"dropped", report.dropped},
      {"throughput_rps", Throughput(report)},
      {"max_send_lag_us", report.max_send_lag_ns / 1e3},
      {"latency_us", std::move(latency)},
  };
  // Replace, not throw, if a flag value was not valid UTF-8.
  return out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
         "\n";
}

}  // namespace edgepass::load
