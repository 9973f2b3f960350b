// A real prometheus server (Debian's `prometheus`) started by a test on a
// free loopback port, scraping loopback targets every second and evaluating
// rule files every second; killed when the object goes, even when the test
// fails. Queries go through its HTTP API, so an expression it refuses is
// reported as such (the same parser as any Prometheus).
//
//   PrometheusProcess prometheus(dir.path());
//   ASSERT_TRUE(prometheus.Start({{"edgepass-server", "127.0.0.1:9464"}}, {rules_path}));
//   absl::StatusOr<nlohmann::json> r = prometheus.Query("sum(up)");
#ifndef EDGEPASS_TESTS_PROMETHEUS_PROMETHEUS_PROCESS_H_
#define EDGEPASS_TESTS_PROMETHEUS_PROMETHEUS_PROCESS_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/support/test_process.h"

namespace edgepass::testing {

// True when the prometheus binary the build found is executable.
bool PrometheusAvailable();

class PrometheusProcess {
 public:
  // Files (config, TSDB, logs) go under `dir`.
  explicit PrometheusProcess(std::string dir) : dir_(std::move(dir)) {}
  ~PrometheusProcess();

  // Starts it scraping `targets` (job -> HOST:PORT) with `rule_files`, and
  // waits until its API answers.
  ::testing::AssertionResult Start(const std::vector<std::pair<std::string, std::string>>& targets,
                                   const std::vector<std::string>& rule_files = {});

  // GET /api/v1/query: the "data" object, or the error Prometheus gave
  // (INVALID_ARGUMENT for a bad expression, UNAVAILABLE when unreachable).
  absl::StatusOr<nlohmann::json> Query(absl::string_view expr);

  // Polls ALERTS{alertname=NAME,alertstate="firing"} until it has a series
  // (bounded by `timeout`); `tick` runs between polls (e.g. to cause errors).
  ::testing::AssertionResult WaitForFiring(absl::string_view alert, absl::Duration timeout,
                                           const std::function<void()>& tick = nullptr);
  // The same, until no series is firing.
  ::testing::AssertionResult WaitForResolved(absl::string_view alert, absl::Duration timeout);

  std::string log() const;

 private:
  ::testing::AssertionResult WaitFor(absl::string_view alert, bool firing, absl::Duration timeout,
                                     const std::function<void()>& tick);

  std::string dir_;
  uint16_t port_ = 0;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace edgepass::testing

#endif  // EDGEPASS_TESTS_PROMETHEUS_PROMETHEUS_PROCESS_H_
