// SidecarMetrics after driving the real SidecarService: the same counters
// /stats serves, in the text a Prometheus scrape would return.
#include "client/sidecar/sidecar_metrics.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "client/sidecar/sidecar_service.h"
#include "client/sidecar/sidecar_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "obs/metrics_text.h"

namespace edgepass::sidecar {
namespace {

using ::testing::HasSubstr;
using testing::kNow;
using ::testing::Not;
using testing::TestKeys;

class SidecarMetricsTest : public ::testing::Test {
 protected:
  SidecarMetricsTest()
      : service_(&validator_, &sink_,
                 *RouteModes::Create({{"/", EnforcementMode::kEnforce},
                                      {"/live/", EnforcementMode::kLogOnly},
                                      {"/free/", EnforcementMode::kOff}}),
                 &stats_, nullptr) {}

  void Load() {
    ValidatorState state;
    state.version = 7;
    state.keyring = keys_.keyring;
    core::RevocationSet revoked;
    revoked.Add("sessREVOKED1");
    revoked.Add("sessREVOKED2");
    state.revoked =
        client::RevokedSessions::Share(std::move(revoked));
    ASSERT_TRUE(sink_.ApplyState(std::move(state)).ok());
  }
  http::Response Get(const std::string& target, const std::string& uri = "") {
    http::Request r;
    r.method = "GET";
    r.target = target;
    if (!uri.empty()) r.headers.Add("X-Original-URI", uri);
    r.headers.Add("X-Real-IP", "127.0.0.1");
    return service_.Handle(r, kNow);
  }
  std::string Text(std::function<bool()> connected = nullptr) {
    return obs::MetricsText(
        {SidecarMetrics(&stats_, &sink_, std::move(connected))});
  }

  TestKeys keys_;
  client::EdgeValidator validator_{core::Keyring{}};
  StateSink sink_{&validator_, nullptr};
  SidecarStats stats_;
  SidecarService service_;
};

TEST_F(SidecarMetricsTest, ValidationsByOutcomeAndReason) {
  Load();
  EXPECT_EQ(Get("/auth", keys_.Uri({"/v/1/"}, "/v/1/a.ts")).status, 200);
  EXPECT_EQ(Get("/auth", keys_.Uri({"/v/1/"}, "/v/1/b.ts")).status, 200);
  EXPECT_EQ(Get("/auth", "/v/1/a.ts").status, 401);  // no token
  EXPECT_EQ(
      Get("/auth", keys_.Uri({"/v/1/"}, "/v/1/a.ts", kNow - absl::Hours(2)))
          .status,
      403);                                           // expired
  EXPECT_EQ(Get("/auth", "/live/a.ts").status, 200);  // log-only, would deny
  EXPECT_EQ(Get("/auth", "/free/a.ts").status, 200);  // off
  EXPECT_EQ(Get("/auth").status, 400);                // no X-Original-URI

  const std::string text = Text();
  EXPECT_THAT(
      text, HasSubstr("# TYPE edgepass_validator_validations_total counter\n"));
  EXPECT_THAT(text, HasSubstr("edgepass_validator_validations_total{outcome="
                              "\"allowed\",reason=\"ok\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("edgepass_validator_validations_total{outcome="
                              "\"denied\",reason=\"missing_token\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("edgepass_validator_validations_total{outcome="
                              "\"denied\",reason=\"expired\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("edgepass_validator_validations_total{outcome="
                              "\"would_deny\",reason=\"missing_token\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("edgepass_validator_validations_total{outcome="
                              "\"unchecked\",reason=\"none\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("edgepass_validator_validations_total{outcome="
                              "\"bad_request\",reason=\"none\"} 1\n"));
  // Every deny reason is present from the start, at 0.
  EXPECT_THAT(text, HasSubstr("edgepass_validator_validations_total{outcome="
                              "\"denied\",reason=\"binding_mismatch\"} 0\n"));

  // One counting system: /stats shows the same numbers.
  nlohmann::json stats = nlohmann::json::parse(Get("/stats").body);
  EXPECT_EQ(stats["decisions"]["allowed"], 2);
  EXPECT_EQ(stats["decisions"]["denied"]["expired"], 1);
}

TEST_F(SidecarMetricsTest, HttpRequestsByRouteAndCode) {
  EXPECT_EQ(Get("/healthz").status, 503);  // no keyring yet
  Load();
  EXPECT_EQ(Get("/healthz").status, 200);
  EXPECT_EQ(Get("/stats").status, 200);
  EXPECT_EQ(Get("/auth", "/v/1/a.ts").status, 401);
  EXPECT_EQ(Get("/other/path", "/v/1/a.ts").status,
            401);  // any other path is the auth check

  const std::string text = Text();
  EXPECT_THAT(text, HasSubstr("edgepass_validator_http_requests_total{code="
                              "\"503\",route=\"/healthz\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("edgepass_validator_http_requests_total{code="
                              "\"200\",route=\"/healthz\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("edgepass_validator_http_requests_total{code="
                              "\"200\",route=\"/stats\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("edgepass_validator_http_requests_total{code="
                              "\"401\",route=\"/auth\"} 2\n"));
  EXPECT_THAT(text, Not(HasSubstr("/other/path")));
  EXPECT_THAT(text,
              Not(HasSubstr("code=\"404\"")));  // only codes that occurred
}

TEST_F(SidecarMetricsTest, HeldState) {
  std::string text = Text();
  EXPECT_THAT(text, HasSubstr("edgepass_validator_ready 0\n"));
  EXPECT_THAT(text, HasSubstr("edgepass_validator_keys 0\n"));
  EXPECT_THAT(text,
              Not(HasSubstr(
                  "edgepass_validator_edge_sync_connected")));  // no subscriber

  Load();
  bool connected = true;
  text = Text([&connected] { return connected; });
  EXPECT_THAT(text, HasSubstr("# TYPE edgepass_validator_ready "
                              "gauge\nedgepass_validator_ready 1\n"));
  EXPECT_THAT(text, HasSubstr("edgepass_validator_state_version 7\n"));
  EXPECT_THAT(text, HasSubstr("edgepass_validator_revoked_sessions 2\n"));
  EXPECT_THAT(text, HasSubstr("edgepass_validator_keys 1\n"));
  EXPECT_THAT(text, HasSubstr("edgepass_validator_edge_sync_connected 1\n"));
  connected = false;
  EXPECT_THAT(Text([&connected] { return connected; }),
              HasSubstr("edgepass_validator_edge_sync_connected 0\n"));
}

}  // namespace
}  // namespace edgepass::sidecar
