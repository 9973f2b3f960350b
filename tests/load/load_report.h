// The outcome of one `edgepass-load` run and its two renderings: a short text
// summary for people and one JSON object for scripts.
//
//   LoadReport report = *RunLoad(options);
//   std::cout << (options.json ? FormatJson(report) : FormatText(report));
//   double rps = Throughput(report);
#ifndef EDGEPASS_TESTS_LOAD_LOAD_REPORT_H_
#define EDGEPASS_TESTS_LOAD_LOAD_REPORT_H_

#include <cstdint>
#include <map>
#include <string>

#include "absl/time/time.h"
#include "tests/load/latency_histogram.h"
#include "tests/load/load_options.h"

namespace edgepass::load {

struct LoadReport {
  LoadOptions options;
  // From the first scheduled send to the last response (at least the
  // configured duration).
  absl::Duration elapsed;
  // Calls due by the schedule (open loop) or started (closed loop).
  int64_t scheduled = 0;
  // Calls actually started; scheduled = sent + dropped.
  int64_t sent = 0;
  int64_t ok = 0;
  // Failed calls by gRPC code name ("UNAVAILABLE", "DEADLINE_EXCEEDED", ...).
  std::map<std::string, int64_t> errors;
  // Scheduled calls not sent because `concurrency` calls were in flight.
  int64_t dropped = 0;
  // Largest delay between a call's scheduled time and its actual start: when
  // large, the generator itself could not keep up with the rate.
  int64_t max_send_lag_ns = 0;
  // Nanoseconds from each successful call's scheduled send time (open loop)
  // or start (closed loop) to its response.
  LatencyHistogram latency_ns;
};

// Successful calls per second of elapsed time; 0 when nothing elapsed.
double Throughput(const LoadReport& report);
// Sum of `errors`.
int64_t ErrorCount(const LoadReport& report);

// A few lines of text, latency in milliseconds.
std::string FormatText(const LoadReport& report);
// One JSON object and a newline. Keys: mode ("open_loop"|"closed_loop"),
// target_rate, duration_s, elapsed_s, servers, asset, connections,
// concurrency, scheduled, sent, ok, errors {CODE: n}, error_count, dropped,
// throughput_rps, max_send_lag_us, latency_us {samples, min, mean, p50, p90,
// p99, p999, max} (values null when there are no samples).
std::string FormatJson(const LoadReport& report);

}  // namespace edgepass::load

#endif  // EDGEPASS_TESTS_LOAD_LOAD_REPORT_H_
