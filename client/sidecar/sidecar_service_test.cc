#include "client/sidecar/sidecar_service.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "client/sidecar/auth_mapping.h"
#include "client/sidecar/sidecar_test_util.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace edgepass::sidecar {
namespace {

using testing::kNow;
using testing::TestKeys;

class SidecarServiceTest : public ::testing::Test {
 protected:
  void Start(std::vector<RouteMode> routes = {
                 {"/", EnforcementMode::kEnforce}}) {
    service_ = std::make_unique<SidecarService>(
        &validator_, &sink_, *RouteModes::Create(std::move(routes)), &stats_,
        [this](absl::string_view line) { logged_.emplace_back(line); });
  }
  void Load() {
    ValidatorState state;
    state.version = 3;
    state.keyring = keys_.keyring;
    core::RevocationSet revoked;
    revoked.Add("sessREVOKED1");
    state.revoked =
        client::RevokedSessions::Share(std::move(revoked));
    ASSERT_TRUE(sink_.ApplyState(std::move(state)).ok());
  }
  http::Response Auth(const std::string& uri, absl::Time now = kNow) {
    http::Request r;
    r.method = "GET";
    r.target = "/auth";
    r.headers.Add("X-Original-URI", uri);
    r.headers.Add("X-Real-IP", "127.0.0.1");
    return service_->Handle(r, now);
  }
  static std::string Header(const http::Response& r, absl::string_view name) {
    const std::string* v = r.headers.Find(name);
    return v ? *v : "<none>";
  }

  TestKeys keys_;
  client::EdgeValidator validator_{core::Keyring{}};
  StateSink sink_{&validator_, nullptr};
  SidecarStats stats_;
  std::vector<std::string> logged_;
  std::unique_ptr<SidecarService> service_;
};

TEST_F(SidecarServiceTest, HealthzWaitsForAKeyring) {
  Start();
  http::Request health{.method = "GET", .target = "/healthz"};
  EXPECT_EQ(service_->Handle(health, kNow).status, 503);
  Load();
  http::Response r = service_->Handle(health, kNow);
  EXPECT_EQ(r.status, 200);
  nlohmann::json body = nlohmann::json::parse(r.body);
  EXPECT_EQ(body["status"], "ok");
  EXPECT_EQ(body["version"], 3);
  EXPECT_EQ(body["revoked"], 1);
}

TEST_F(SidecarServiceTest, EnforceAllowsAndStripsTheToken) {
  Start();
  Load();
  http::Response r =
      Auth(keys_.Uri({"/v/1/"}, "/v/1/a.ts", kNow, "sessGOOD1") + "?cid=1");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(Header(r, kPathHeader), "/v/1/a.ts");
  EXPECT_EQ(Header(r, kSessionHeader), "sessGOOD1");
  EXPECT_EQ(stats_.allowed(), 1u);
}

TEST_F(SidecarServiceTest, EnforceDeniesWithReason) {
  Start();
  Load();
  struct Case {
    std::string uri;
    int status;
    std::string reason;
  };
  std::string good = keys_.Uri({"/v/1/"}, "/v/1/a.ts");
  std::string tampered = good;
  tampered[good.find("/v/1/") - 3] ^= 1;  // a signature character
  for (const Case& c : std::vector<Case>{
           {"/v/1/a.ts", 401, "missing_token"},
           {"/", 401, "missing_token"},
           {tampered, 403, "bad_signature"},
           {keys_.Uri({"/v/1/"}, "/v/1/a.ts", kNow - absl::Hours(2)), 403,
            "expired"},
           {keys_.Uri({"/v/1/"}, "/v/2/a.ts"), 403, "path_not_allowed"},
           {keys_.Uri({"/v/1/"}, "/v/1/../2/a.ts"), 403, "unsafe_path"},
           {keys_.Uri({"/v/1/"}, "/v/1/a.ts", kNow, "sessREVOKED1"), 403,
            "revoked"},
       }) {
    http::Response r = Auth(c.uri);
    EXPECT_EQ(r.status, c.status) << c.uri;
    EXPECT_EQ(Header(r, kReasonHeader), c.reason) << c.uri;
    EXPECT_EQ(r.headers.Find(kPathHeader), nullptr);
  }
  EXPECT_EQ(stats_.denied(core::Reason::kExpired), 1u);
  EXPECT_EQ(stats_.denied(core::Reason::kMissingToken), 2u);
  EXPECT_TRUE(logged_.empty());
}

TEST_F(SidecarServiceTest, LogOnlyLetsThroughButCountsAndLogs) {
  Start({{"/", EnforcementMode::kEnforce},
         {"/live/", EnforcementMode::kLogOnly}});
  Load();
  std::string expired =
      keys_.Uri({"/live/"}, "/live/a.ts", kNow - absl::Hours(2), "sessOLD01");
  http::Response r = Auth(expired);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(Header(r, kPathHeader), "/live/a.ts");
  EXPECT_EQ(Header(r, kWouldDenyHeader), "expired");
  EXPECT_EQ(stats_.would_deny(core::Reason::kExpired), 1u);
  ASSERT_EQ(logged_.size(), 1u);
  nlohmann::json line = nlohmann::json::parse(logged_[0]);
  EXPECT_EQ(line["event"], "would_deny");
  EXPECT_EQ(line["reason"], "expired");
  EXPECT_EQ(line["path"], "/live/a.ts");
  EXPECT_EQ(line["session_id"], "sessOLD01");
  // Nothing of the token itself is logged.
  const std::string token = expired.substr(1, expired.find("/live/") - 1);
  EXPECT_EQ(logged_[0].find(token.substr(token.rfind('.') + 1)),
            std::string::npos);
  EXPECT_EQ(logged_[0].find(token.substr(10, 20)), std::string::npos);

  // No token at all: passes with the path as it is.
  r = Auth("/live/b.ts");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(Header(r, kPathHeader), "/live/b.ts");
  EXPECT_EQ(Header(r, kWouldDenyHeader), "missing_token");
  // A good token passes without a would-deny header.
  r = Auth(keys_.Uri({"/live/"}, "/live/c.ts"));
  EXPECT_EQ(Header(r, kWouldDenyHeader), "<none>");
  // Outside the log-only route, enforced.
  EXPECT_EQ(Auth(keys_.Uri({"/v/"}, "/v/a.ts", kNow - absl::Hours(2))).status,
            403);
}

TEST_F(SidecarServiceTest, OffChecksNothingButUnsafePathsAreAlwaysDenied) {
  Start({{"/", EnforcementMode::kOff}});
  // No keyring at all: off does not need one.
  http::Response r = Auth("/eyJx.y.z/free/a.ts");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(Header(r, kPathHeader), "/free/a.ts");
  EXPECT_EQ(Auth("/free/a.ts").status, 200);
  EXPECT_EQ(stats_.unchecked(), 2u);
  r = Auth("/free/../paid/a.ts");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(Header(r, kReasonHeader), "unsafe_path");
  EXPECT_EQ(Auth("/free/%2e%2e/paid/a.ts").status, 403);
}

// Paths a servlet-style origin or a second decoder would resolve to another
// route are refused in every mode, before the route is even chosen.
TEST_F(SidecarServiceTest, SemicolonAndDoubleEncodedDotSegmentsDeniedInEveryMode) {
  Start({{"/", EnforcementMode::kEnforce},
         {"/free/", EnforcementMode::kOff},
         {"/live/", EnforcementMode::kLogOnly}});
  Load();
  for (const char* path :
       {"/free/..;/paid/a.ts", "/free/.;/a.ts", "/free/..;jsessionid=x/paid/a.ts",
        "/free/%252e%252e/paid/a.ts", "/free/%u002e%u002e/paid/a.ts",
        "/free/%c0%ae%c0%ae/paid/a.ts", "/live/..;/paid/a.ts", "/live/%252e%252e/x.ts"}) {
    http::Response r = Auth(path);
    EXPECT_EQ(r.status, 403) << path;
    EXPECT_EQ(Header(r, kReasonHeader), "unsafe_path") << path;
    r = Auth(keys_.Uri({"/live/"}, path));
    EXPECT_EQ(r.status, 403) << path;
    EXPECT_EQ(Header(r, kReasonHeader), "unsafe_path") << path;
  }
  EXPECT_EQ(Auth("/free/a.ts;v=1").status, 200);
}

TEST_F(SidecarServiceTest, BadSubrequestsAre4xx) {
  Start();
  Load();
  http::Request none{.method = "GET", .target = "/auth"};
  http::Response r = service_->Handle(none, kNow);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(nlohmann::json::parse(r.body)["error"], "X-Original-URI: missing");
  EXPECT_EQ(Auth("/" + std::string(20000, 'a')).status, 414);
  EXPECT_EQ(Auth("/a\r\nX-Edgepass-Path: /evil").status, 400);
  EXPECT_EQ(stats_.bad_request(), 3u);
}

TEST_F(SidecarServiceTest, StatsCountByReason) {
  Start();
  Load();
  Auth("/v/1/a.ts");
  Auth(keys_.Uri({"/v/1/"}, "/v/1/a.ts"));
  http::Response r =
      service_->Handle({.method = "GET", .target = "/stats"}, kNow);
  EXPECT_EQ(r.status, 200);
  nlohmann::json body = nlohmann::json::parse(r.body);
  EXPECT_EQ(body["version"], 3);
  EXPECT_EQ(body["decisions"]["allowed"], 1);
  EXPECT_EQ(body["decisions"]["denied"]["missing_token"], 1);
  EXPECT_TRUE(body["decisions"]["would_deny"].empty());
}

}  // namespace
}  // namespace edgepass::sidecar
