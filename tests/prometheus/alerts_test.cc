// The shipped alert rules (deploy/prometheus/edgepass-rules.yaml) on a real
// prometheus scraping a real edgepass-server (fleet mode, real redis-server)
// and a real edgepass-validator streaming from it, all on loopback. The
// test's copy of the rules has every `for:` cut to 1s; otherwise the
// expressions are the shipped text. Faults are real: the validator is held
// back with SIGSTOP while a revocation is published (EdgepassValidatorsLagging
// fires, and resolves after SIGCONT), then Redis is killed while revokes are
// attempted (EdgepassRedisErrors fires). Skipped only when Debian's
// prometheus or redis-server is not installed (scripts/deps.sh installs
// both). Label: integration.
#include <signal.h>

#include <regex>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "edgepass/v1/session.grpc.pb.h"
#include "gtest/gtest.h"
#include "http/http_test_client.h"
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
using ::edgepass::testing::WriteFileOrDie;

constexpr char kRulesFile[] = EDGEPASS_RULES_FILE;
const absl::Duration kAlertWait = absl::Seconds(60);

// The shipped rules with every `for:` set to 1s (evaluation every second).
std::string TestCopyOfRules(const std::string& dir) {
  const std::string text = ReadFileOrEmpty(kRulesFile);
  const std::string path = dir + "/edgepass-rules.yaml";
  WriteFileOrDie(path, std::regex_replace(text, std::regex(R"(for: [0-9a-z]+)"), "for: 1s"));
  return text.empty() ? "" : path;
}

grpc::Status Revoke(v1::SessionService::Stub& sessions, const std::string& id) {
  v1::RevokeSessionRequest request;
  request.set_session_id(id);
  request.set_reason("alerts test");
  v1::RevokedSession response;
  return sessions.RevokeSession(Context().get(), request, &response);
}

TEST(EdgepassAlerts, ValidatorLagAndRedisErrorsFire) {
  if (!PrometheusAvailable() || !RedisServerAvailable()) {
    GTEST_SKIP() << "Debian's prometheus and redis-server are needed; scripts/deps.sh installs them";
  }
  TempDir dir;
  const std::string rules = TestCopyOfRules(dir.path());
  ASSERT_FALSE(rules.empty()) << "cannot read " << kRulesFile;

  RedisServer redis;
  ASSERT_TRUE(redis.Start());
  ServerProcess server(dir.path(), dir.path() + "/data", {"--redis-addr", redis.address()});
  ASSERT_TRUE(server.WaitUntilServing());
  Sidecar sidecar(dir.path(), {"--server", server.address(), "--listen", "127.0.0.1:0"});
  const uint16_t sidecar_port = sidecar.WaitListening();
  ASSERT_NE(sidecar_port, 0) << sidecar.log();
  const absl::Time ready_by = absl::Now() + absl::Seconds(15);
  while (Fetch(sidecar_port, "GET", "/healthz")->status != 200) {
    ASSERT_LT(absl::Now(), ready_by) << sidecar.log();
    absl::SleepFor(absl::Milliseconds(50));
  }

  PrometheusProcess prometheus(dir.path());
  ASSERT_TRUE(prometheus.Start(
      {{"edgepass-server", server.metrics_address()},
       {"edgepass-validator", absl::StrCat("127.0.0.1:", sidecar.MetricsPort())}},
      {rules}));
  // Both targets scraped, the rules loaded, nothing firing while all is well.
  const absl::Time up_by = absl::Now() + kAlertWait;
  while (true) {
    absl::StatusOr<nlohmann::json> up = prometheus.Query("sum(up)");
    if (up.ok() && !(*up)["result"].empty() && (*up)["result"][0]["value"][1] == "2") break;
    ASSERT_LT(absl::Now(), up_by) << "targets not up: " << prometheus.log();
    absl::SleepFor(absl::Milliseconds(250));
  }
  absl::SleepFor(absl::Seconds(3));  // a few evaluations
  absl::StatusOr<nlohmann::json> firing = prometheus.Query("ALERTS{alertstate=\"firing\"}");
  ASSERT_TRUE(firing.ok()) << firing.status();
  EXPECT_TRUE((*firing)["result"].empty()) << (*firing)["result"].dump();

  auto sessions = v1::SessionService::NewStub(server.channel());

  // Fault 1: the validator is held back; a revocation makes a new edge
  // version it never acknowledges.
  ASSERT_TRUE(::kill(sidecar.pid(), SIGSTOP) == 0);
  ASSERT_TRUE(Revoke(*sessions, "AlertsTestSession1").ok());
  EXPECT_TRUE(prometheus.WaitForFiring("EdgepassValidatorsLagging", kAlertWait));
  ::kill(sidecar.pid(), SIGCONT);
  EXPECT_TRUE(prometheus.WaitForResolved("EdgepassValidatorsLagging", kAlertWait));

  // Fault 2: Redis is gone; revokes fail (UNAVAILABLE) and are counted.
  redis.Stop();
  int unavailable = 0;
  EXPECT_TRUE(prometheus.WaitForFiring("EdgepassRedisErrors", kAlertWait, [&] {
    grpc::Status s = Revoke(*sessions, "AlertsTestSession2");
    unavailable += s.error_code() == grpc::StatusCode::UNAVAILABLE;
  }));
  EXPECT_GT(unavailable, 0);
}

}  // namespace
}  // namespace edgepass
