// The whole fleet on loopback: a real redis-server, two edgepass-server
// replicas on it, an edgepass-validator subscribed to both over the edge-sync
// stream, and a real nginx (the shipped config) in front of an HLS origin.
// Tokens come from the service; revocations on any replica reach the edge
// within a second; the validator survives losing its replica and every
// server. Label: integration.
#include <grpcpp/grpcpp.h>

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "edgepass/v1/catalog.grpc.pb.h"
#include "edgepass/v1/playback.grpc.pb.h"
#include "edgepass/v1/session.grpc.pb.h"
#include "gtest/gtest.h"
#include "http/http_test_client.h"
#include "tests/e2e/edge_stack.h"
#include "tests/integration/server_process.h"
#include "tests/support/redis_server.h"
#include "tests/support/test_process.h"

namespace edgepass {
namespace {

using ::edgepass::http::testing::Fetch;
using ::edgepass::http::testing::TestResponse;
using ::edgepass::testing::Context;
using ::edgepass::testing::EdgeNginx;
using ::edgepass::testing::HeaderOr;
using ::edgepass::testing::Nginx;
using ::edgepass::testing::NginxAvailable;
using ::edgepass::testing::RedisServer;
using ::edgepass::testing::ServerProcess;
using ::edgepass::testing::SettlesAt;
using ::edgepass::testing::Sidecar;
using ::edgepass::testing::TempDir;
using ::edgepass::testing::StartEdgeNginx;
using ::edgepass::testing::WriteHlsTree;

struct Playback {
  std::string token;
  std::string session_id;
};

class FleetE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!NginxAvailable()) FAIL() << "nginx is not installed (scripts/deps.sh installs it)";
    root_ = dir_.path();
    files_ = WriteHlsTree(root_);
    ASSERT_TRUE(redis_.Start());
    for (auto* replica : {&a_, &b_}) {
      *replica = std::make_unique<ServerProcess>(
          root_, root_ + "/data", std::vector<std::string>{"--redis-addr", redis_.address()});
      ASSERT_TRUE((*replica)->WaitUntilServing());
    }
    // The asset the origin tree holds, written through the control plane.
    v1::PutAssetRequest put;
    v1::Asset* asset = put.mutable_asset();
    asset->set_id("demo");
    asset->set_hostname("cdn.example.com");
    asset->set_url_path("/vod/demo/master.m3u8");
    asset->mutable_inline_policy()->add_paths("/vod/demo/");
    asset->mutable_inline_policy()->set_exp("+10m");
    asset->mutable_inline_policy()->set_ssn(true);
    asset->mutable_inline_policy()->set_ip(true);
    v1::Asset stored;
    ASSERT_TRUE(v1::CatalogService::NewStub(a_->channel())->PutAsset(Context().get(), put, &stored).ok());

    snapshot_ = root_ + "/validator.snapshot";
    StartSidecar("127.0.0.1:0");
    absl::StatusOr<EdgeNginx> edge = StartEdgeNginx(root_, sidecar_port_);
    ASSERT_TRUE(edge.ok()) << edge.status();
    nginx_ = std::move(edge->nginx);
    edge_port_ = edge->ports.edge;
  }

  void StartSidecar(const std::string& listen) {
    sidecar_ = std::make_unique<Sidecar>(
        root_, std::vector<std::string>{"--server", a_->address(), "--server", b_->address(),
                                        "--snapshot", snapshot_, "--listen", listen});
    sidecar_port_ = sidecar_->WaitListening();
    ASSERT_NE(sidecar_port_, 0) << sidecar_->log();
  }


  // Waits until the sidecar holds a keyring (from a server or its snapshot).
  ::testing::AssertionResult WaitSidecarReady() { return sidecar_->WaitReady(); }

  Playback Issue(ServerProcess& replica) {
    v1::IssuePlaybackRequest request;
    request.set_asset_id("demo");
    request.mutable_viewer()->set_ip("127.0.0.1");  // nginx sees the viewer on loopback
    v1::IssuePlaybackResponse response;
    // The replica's catalog cache may lag the write by a moment.
    grpc::Status status;
    for (int i = 0; i < 100; ++i) {
      status = replica.stub().IssuePlayback(Context().get(), request, &response);
      if (status.error_code() != grpc::StatusCode::NOT_FOUND) break;
      absl::SleepFor(absl::Milliseconds(20));
    }
    EXPECT_TRUE(status.ok()) << status.error_message();
    EXPECT_TRUE(absl::StrContains(response.playback_url(), "/" + response.token() + "/vod/demo/"));
    return {response.token(), response.session_id()};
  }

  TestResponse Get(const std::string& target) {
    std::optional<TestResponse> r = Fetch(edge_port_, "GET", target);
    EXPECT_TRUE(r.has_value()) << target;
    return r.value_or(TestResponse{});
  }

  int Status(const Playback& p, const std::string& path = "/vod/demo/720p/seg0.ts") {
    return Get("/" + p.token + path).status;
  }

  // Waits up to `timeout` until `p` is refused and stays refused (SettlesAt).
  bool RefusedFromNowOn(const Playback& p, absl::Duration timeout) {
    return SettlesAt(403, [&] { return Status(p); }, timeout);
  }

  static grpc::Status Revoke(ServerProcess& replica, const std::string& session_id) {
    v1::RevokeSessionRequest request;
    request.set_session_id(session_id);
    request.set_reason("e2e");
    v1::RevokedSession response;
    return v1::SessionService::NewStub(replica.channel())->RevokeSession(Context().get(), request, &response);
  }

  TempDir dir_;
  std::string root_, snapshot_;
  std::map<std::string, std::string> files_;
  RedisServer redis_;
  std::unique_ptr<ServerProcess> a_, b_;
  std::unique_ptr<Sidecar> sidecar_;
  std::unique_ptr<Nginx> nginx_;
  uint16_t sidecar_port_ = 0, edge_port_ = 0;
};

TEST_F(FleetE2eTest, IssuedTokenPlaysEveryFileAndBadTokensAreRefused) {
  ASSERT_TRUE(WaitSidecarReady());
  const Playback p = Issue(*a_);
  for (const auto& [path, bytes] : files_) {
    if (!absl::StartsWith(path, "/vod/demo/")) continue;
    TestResponse r = Get("/" + p.token + path);
    EXPECT_EQ(r.status, 200) << path << " " << HeaderOr(r, "X-Edgepass-Reason");
    EXPECT_TRUE(r.body == bytes) << path;
  }
  std::string tampered = p.token;
  tampered[tampered.size() - 3] = tampered[tampered.size() - 3] == 'A' ? 'B' : 'A';
  EXPECT_EQ(Get("/vod/demo/master.m3u8").status, 401);
  EXPECT_EQ(Get("/" + tampered + "/vod/demo/master.m3u8").status, 403);
  EXPECT_EQ(Get("/" + p.token + "/vod/free/clip.ts").status, 403);
}

TEST_F(FleetE2eTest, RevokeOnEitherReplicaIsEnforcedWithinASecond) {
  ASSERT_TRUE(WaitSidecarReady());
  const Playback victim = Issue(*a_);
  const Playback other = Issue(*b_);
  ASSERT_EQ(Status(victim), 200);
  ASSERT_EQ(Status(other), 200);

  // The sidecar streams from replica A (first --server); revoke on B.
  ASSERT_TRUE(Revoke(*b_, victim.session_id).ok());
  const absl::Time revoked_at = absl::Now();
  // Refused on every path: with the nginx module (EDGEPASS_E2E_NGINX=module)
  // each worker picks the new state up on its own, so one refusal does not
  // yet say that the next request, served by another worker, is refused too.
  auto refused_everywhere = [&] {
    return Status(victim) == 403 &&
           HeaderOr(Get("/" + victim.token + "/vod/demo/master.m3u8"), "X-Edgepass-Reason") == "revoked";
  };
  bool refused = refused_everywhere();
  while (!refused && absl::Now() - revoked_at < absl::Seconds(5)) {
    absl::SleepFor(absl::Milliseconds(10));
    refused = refused_everywhere();
  }
  const absl::Duration took = absl::Now() - revoked_at;
  EXPECT_TRUE(refused);
  EXPECT_LT(took, absl::Seconds(1)) << "revocation reached the edge after " << took;
  EXPECT_EQ(Status(other), 200);  // other sessions play on
}

TEST_F(FleetE2eTest, ValidatorMovesToTheOtherReplicaWithoutRefusingValidRequests) {
  ASSERT_TRUE(WaitSidecarReady());
  const Playback p = Issue(*b_);
  ASSERT_EQ(Status(p), 200);

  a_->process().Signal(SIGTERM);
  // While the validator reconnects, every valid request keeps playing.
  const absl::Time until = absl::Now() + absl::Seconds(3);
  int requests = 0;
  while (absl::Now() < until) {
    ASSERT_EQ(Status(p), 200) << "request " << requests << " refused during failover";
    ++requests;
  }
  EXPECT_GT(requests, 10);
  ASSERT_TRUE(a_->process().WaitForExit(absl::Seconds(10)).has_value());

  // Changes now arrive through replica B.
  const Playback victim = Issue(*b_);
  ASSERT_TRUE(Revoke(*b_, victim.session_id).ok());
  EXPECT_TRUE(RefusedFromNowOn(victim, absl::Seconds(10))) << sidecar_->log();
  EXPECT_EQ(Status(p), 200);
}

TEST_F(FleetE2eTest, RestartedValidatorWithEveryServerDownValidatesFromItsSnapshot) {
  ASSERT_TRUE(WaitSidecarReady());
  const Playback p = Issue(*a_);
  const Playback revoked = Issue(*a_);
  ASSERT_TRUE(Revoke(*a_, revoked.session_id).ok());
  ASSERT_TRUE(RefusedFromNowOn(revoked, absl::Seconds(5)));

  a_.reset();
  b_.reset();
  ASSERT_EQ(sidecar_->Stop(), 0);
  const uint16_t port = sidecar_port_;
  sidecar_ = std::make_unique<Sidecar>(
      root_, std::vector<std::string>{"--server", "127.0.0.1:1", "--snapshot", snapshot_, "--listen",
                                      absl::StrCat("127.0.0.1:", port)});
  ASSERT_EQ(sidecar_->WaitListening(), port) << sidecar_->log();
  EXPECT_EQ(Status(p), 200) << sidecar_->log();
  EXPECT_EQ(Status(revoked), 403);
}

}  // namespace
}  // namespace edgepass
