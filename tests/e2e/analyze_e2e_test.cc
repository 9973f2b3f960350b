// `edgepass analyze --report` end to end: a real edgepass-server, a real
// edgepass-validator streaming from it and a real nginx (the shipped config,
// whose access log is the edgepass_json format) in front of an HLS origin.
// Sessions issued by the service are played through nginx (their log lines
// must parse, with the sidecar's session id) and appear, with synthetic
// timing, in a CloudFront log; the real `edgepass` binary reports the shared
// ones. They must land on the list as AUTO with their score and components,
// after the MANUAL entries, a MANUAL one must stay MANUAL, a second run must
// change nothing, and nginx must refuse the reported sessions while the
// others play on. Label: integration.
#include <grpcpp/grpcpp.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "client/analyze/synthetic_logs.h"
#include "edgepass/v1/catalog.grpc.pb.h"
#include "edgepass/v1/playback.grpc.pb.h"
#include "edgepass/v1/session.grpc.pb.h"
#include "gtest/gtest.h"
#include "http/http_test_client.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/edge_stack.h"
#include "tests/integration/server_process.h"
#include "tests/support/test_process.h"

namespace edgepass {
namespace {

using ::edgepass::http::testing::Fetch;
using ::edgepass::http::testing::TestResponse;
using ::edgepass::testing::Context;
using ::edgepass::testing::EdgeNginx;
using ::edgepass::testing::Nginx;
using ::edgepass::testing::NginxAvailable;
using ::edgepass::testing::RunProcess;
using ::edgepass::testing::RunResult;
using ::edgepass::testing::ServerProcess;
using ::edgepass::testing::Sidecar;
using ::edgepass::testing::TempDir;
using ::edgepass::testing::StartEdgeNginx;
using ::edgepass::testing::WriteFileOrDie;
using ::edgepass::testing::WriteHlsTree;

constexpr char kNow[] = "1796544600";  // end of the synthetic log's 10 minutes

struct Playback {
  std::string token;
  std::string session_id;
};

class AnalyzeE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!NginxAvailable()) FAIL() << "nginx is not installed (scripts/deps.sh installs it)";
    root_ = dir_.path();
    WriteHlsTree(root_);
    server_ = std::make_unique<ServerProcess>(root_, root_ + "/data");
    ASSERT_TRUE(server_->WaitUntilServing());
    v1::PutAssetRequest put;
    v1::Asset* asset = put.mutable_asset();
    asset->set_id("demo");
    asset->set_hostname("cdn.example.com");
    asset->set_url_path("/vod/demo/master.m3u8");
    asset->mutable_inline_policy()->add_paths("/vod/demo/");
    asset->mutable_inline_policy()->set_exp("+10m");
    asset->mutable_inline_policy()->set_ssn(true);
    v1::Asset stored;
    ASSERT_TRUE(v1::CatalogService::NewStub(server_->channel())->PutAsset(Context().get(), put, &stored).ok());

    sidecar_ = std::make_unique<Sidecar>(
        root_, std::vector<std::string>{"--server", server_->address(), "--listen", "127.0.0.1:0"});
    const uint16_t sidecar_port = sidecar_->WaitListening();
    ASSERT_NE(sidecar_port, 0) << sidecar_->log();
    absl::StatusOr<EdgeNginx> edge = StartEdgeNginx(root_, sidecar_port);
    ASSERT_TRUE(edge.ok()) << edge.status();
    nginx_ = std::move(edge->nginx);
    edge_port_ = edge->ports.edge;
    const absl::Time deadline = absl::Now() + absl::Seconds(15);
    while (absl::Now() < deadline) {
      std::optional<TestResponse> r = Fetch(sidecar_port, "GET", "/healthz");
      if (r.has_value() && r->status == 200) break;
      absl::SleepFor(absl::Milliseconds(20));
    }
  }

  Playback Issue() {
    v1::IssuePlaybackRequest request;
    request.set_asset_id("demo");
    v1::IssuePlaybackResponse response;
    grpc::Status status = server_->stub().IssuePlayback(Context().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    EXPECT_FALSE(response.session_id().empty());
    return {response.token(), response.session_id()};
  }

  int Status(const Playback& p, const std::string& path = "/vod/demo/720p/seg1.ts") {
    std::optional<TestResponse> r = Fetch(edge_port_, "GET", "/" + p.token + path);
    EXPECT_TRUE(r.has_value());
    return r.has_value() ? r->status : 0;
  }

  RunResult Analyze(std::vector<std::string> args) {
    args.insert(args.begin(), {EDGEPASS_CLI_PATH, "analyze"});
    return RunProcess(args, root_, absl::Seconds(30));
  }

  v1::ListRevokedSessionsResponse List(bool compiled) {
    v1::ListRevokedSessionsRequest request;
    request.set_compiled(compiled);
    v1::ListRevokedSessionsResponse response;
    grpc::Status s =
        v1::SessionService::NewStub(server_->channel())->ListRevokedSessions(Context().get(), request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return response;
  }

  TempDir dir_;
  std::string root_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<Sidecar> sidecar_;
  std::unique_ptr<Nginx> nginx_;
  uint16_t edge_port_ = 0;
};

TEST_F(AnalyzeE2eTest, ReportedSessionsArriveAsAutoAfterManualAndAreRefusedAtTheEdge) {
  // Three shared sessions (one already revoked by hand), three ordinary ones.
  std::vector<Playback> shared = {Issue(), Issue(), Issue()};
  std::vector<Playback> ordinary = {Issue(), Issue(), Issue()};
  for (const Playback& p : shared) ASSERT_EQ(Status(p), 200);
  for (const Playback& p : ordinary) ASSERT_EQ(Status(p), 200);

  // nginx logged those requests in the shipped JSON format, with the session
  // ids the sidecar returned: they parse, nothing is skipped.
  RunResult own = Analyze({root_ + "/logs/access.log", "--json", "--lookback", "1h", "--all"});
  ASSERT_EQ(own.exit_code, 0) << own.err;
  const nlohmann::json own_doc = nlohmann::json::parse(own.out);
  EXPECT_EQ(own_doc["input"]["records"], 6) << own.out;
  EXPECT_EQ(own_doc["input"]["kept"], 6) << own.out;
  EXPECT_TRUE(own_doc["input"]["skipped"].empty()) << own.out;
  EXPECT_EQ(own_doc["sessions_in_window"], 6) << own.out;

  // A MANUAL revocation of one of the shared sessions, before the analysis.
  {
    v1::RevokeSessionRequest request;
    request.set_session_id(shared[2].session_id);
    request.set_reason("by hand");
    v1::RevokedSession response;
    ASSERT_TRUE(
        v1::SessionService::NewStub(server_->channel())->RevokeSession(Context().get(), request, &response).ok());
  }

  // The same sessions with realistic timing in a CloudFront log.
  analyze::SyntheticLog log = analyze::GenerateSyntheticLog({.ordinary = 3, .shared = 3, .short_shared = 0});
  std::map<std::string, std::string> rename;
  for (size_t i = 0; i < 3; ++i) rename[log.shared_ids[i]] = shared[i].session_id;
  {
    std::set<std::string> ordinary_ids;
    for (const auto& r : log.requests) {
      if (!rename.contains(r.session_id)) ordinary_ids.insert(r.session_id);
    }
    size_t i = 0;
    for (const std::string& id : ordinary_ids) rename[id] = ordinary[i++].session_id;
  }
  for (analyze::SyntheticRequest& r : log.requests) {
    r.uri = absl::StrReplaceAll(r.uri, {{"/" + r.session_id + ".", "/" + rename[r.session_id] + "."}});
    r.session_id = rename[r.session_id];
  }
  const std::string cf = root_ + "/cloudfront.log";
  WriteFileOrDie(cf, analyze::CloudFrontW3c(log.requests));

  RunResult report = Analyze({cf, "--now", kNow, "--json", "--report", server_->address()});
  ASSERT_EQ(report.exit_code, 0) << report.err;
  const nlohmann::json doc = nlohmann::json::parse(report.out);
  EXPECT_EQ(doc["suspects"].size(), 3u) << report.out;
  EXPECT_EQ(doc["report"]["reported"], 2) << report.out;
  EXPECT_EQ(doc["report"]["already_manual"], 1) << report.out;

  // Compiled list: MANUAL first, then AUTO by score with the components.
  const v1::ListRevokedSessionsResponse compiled = List(true);
  ASSERT_EQ(compiled.sessions_size(), 3) << compiled.DebugString();
  EXPECT_EQ(compiled.sessions(0).session_id(), shared[2].session_id);
  EXPECT_EQ(compiled.sessions(0).type(), v1::MANUAL);
  EXPECT_EQ(compiled.sessions(0).reason(), "by hand");
  std::set<std::string> auto_ids;
  for (int i = 1; i < 3; ++i) {
    const v1::RevokedSession& e = compiled.sessions(i);
    EXPECT_EQ(e.type(), v1::AUTO);
    EXPECT_GT(e.score(), 2.2);
    EXPECT_EQ(e.score_components().at("multiple_ips"), 1.0);
    EXPECT_GT(e.score_components().at("rate"), 1.0);  // half the sessions are shared: median between
    EXPECT_TRUE(absl::StartsWith(e.reason(), "auto: score")) << e.reason();
    auto_ids.insert(e.session_id());
    for (const auto& s : doc["suspects"]) {
      if (s["session_id"] == e.session_id()) EXPECT_NEAR(s["score"].get<double>(), e.score(), 1e-9);
    }
  }
  EXPECT_EQ(auto_ids, (std::set<std::string>{shared[0].session_id, shared[1].session_id}));
  EXPECT_GE(compiled.sessions(1).score(), compiled.sessions(2).score());

  // Again: nothing new, nothing replaced.
  RunResult again = Analyze({cf, "--now", kNow, "--json", "--report", server_->address()});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  const nlohmann::json again_doc = nlohmann::json::parse(again.out);
  EXPECT_EQ(again_doc["report"]["reported"], 0);
  EXPECT_EQ(again_doc["report"]["already_auto"], 2);
  EXPECT_EQ(again_doc["report"]["already_manual"], 1);
  const v1::ListRevokedSessionsResponse stored = List(false);
  EXPECT_EQ(stored.sessions_size(), 3);
  EXPECT_EQ(stored.version(), List(false).version());

  // The edge refuses the reported sessions (within a second) and plays the rest.
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (absl::Now() < deadline && (Status(shared[0]) == 200 || Status(shared[1]) == 200)) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  for (const Playback& p : shared) EXPECT_EQ(Status(p), 403) << p.session_id;
  for (const Playback& p : ordinary) EXPECT_EQ(Status(p), 200) << p.session_id;
}

}  // namespace
}  // namespace edgepass
