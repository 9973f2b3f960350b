// Two edgepass-server replicas sharing one real redis-server: state written
// on one is served by the other, edge-sync streams see changes made on any
// replica, and a Redis outage never turns a write into OK-then-lost.
// Label: integration.
#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "edgepass/v1/catalog.grpc.pb.h"
#include "edgepass/v1/edge_sync.grpc.pb.h"
#include "edgepass/v1/session.grpc.pb.h"
#include "gtest/gtest.h"
#include "tests/integration/server_process.h"
#include "tests/support/redis_server.h"
#include "tests/support/test_process.h"

namespace edgepass {
namespace {

using ::edgepass::testing::Context;
using ::edgepass::testing::RedisServer;
using ::edgepass::testing::ServerProcess;
using ::edgepass::testing::TempDir;

class FleetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(redis_.Start());
    // The replicas share the secrets store (the keyring file) like pods
    // mounting one secret; everything else is in Redis.
    const std::string data_dir = work_.path() + "/data";
    for (auto* replica : {&a_, &b_}) {
      *replica = std::make_unique<ServerProcess>(
          work_.path(), data_dir,
          std::vector<std::string>{"--redis-addr", redis_.address(), "--redis-timeout", "300ms"});
      ASSERT_TRUE((*replica)->WaitUntilServing());
    }
  }

  static grpc::Status Revoke(ServerProcess& replica, const std::string& id) {
    v1::RevokeSessionRequest request;
    request.set_session_id(id);
    v1::RevokedSession response;
    return v1::SessionService::NewStub(replica.channel())
        ->RevokeSession(Context().get(), request, &response);
  }

  static grpc::Status PutAsset(ServerProcess& replica, const std::string& id) {
    v1::PutAssetRequest request;
    v1::Asset* asset = request.mutable_asset();
    asset->set_id(id);
    asset->set_hostname("cdn.example.com");
    asset->set_url_path(absl::StrCat("/live/", id, "/index.m3u8"));
    asset->mutable_inline_policy()->add_paths(absl::StrCat("/live/", id, "/"));
    asset->mutable_inline_policy()->set_exp("+1h");
    v1::Asset response;
    return v1::CatalogService::NewStub(replica.channel())
        ->PutAsset(Context().get(), request, &response);
  }

  static grpc::Status Issue(ServerProcess& replica, const std::string& asset) {
    v1::IssuePlaybackRequest request;
    request.set_asset_id(asset);
    v1::IssuePlaybackResponse response;
    return replica.stub().IssuePlayback(Context().get(), request, &response);
  }

  // Polls `call` until it returns OK or `timeout` passes.
  template <typename F>
  static grpc::Status Eventually(F call, absl::Duration timeout = absl::Seconds(10)) {
    const absl::Time deadline = absl::Now() + timeout;
    grpc::Status status = call();
    while (!status.ok() && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(50));
      status = call();
    }
    return status;
  }

  TempDir work_;
  RedisServer redis_;
  std::unique_ptr<ServerProcess> a_;
  std::unique_ptr<ServerProcess> b_;
};

TEST_F(FleetTest, CatalogWrittenOnOneReplicaIsIssuedByTheOther) {
  ASSERT_TRUE(PutAsset(*a_, "ch1").ok());
  EXPECT_TRUE(Eventually([&] { return Issue(*b_, "ch1"); }, absl::Seconds(2)).ok());
  // The sample catalog was seeded once, not twice.
  v1::ListAssetsResponse listed;
  ASSERT_TRUE(v1::CatalogService::NewStub(b_->channel())
                  ->ListAssets(Context().get(), {}, &listed)
                  .ok());
  EXPECT_EQ(listed.assets_size(), 3);
}

TEST_F(FleetTest, RevokeOnOneReplicaReachesAValidatorStreamingFromTheOther) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  v1::SubscribeRequest subscribe;
  subscribe.set_validator_id("edge-1");
  auto stub = v1::EdgeSyncService::NewStub(a_->channel());
  auto stream = stub->Subscribe(&context, subscribe);
  v1::EdgeUpdate update;
  ASSERT_TRUE(stream->Read(&update));
  ASSERT_TRUE(update.snapshot());

  const absl::Time revoked_at = absl::Now();
  ASSERT_TRUE(Revoke(*b_, "revokedOnB1").ok());
  ASSERT_TRUE(stream->Read(&update));
  EXPECT_LT(absl::Now() - revoked_at, absl::Seconds(1));
  ASSERT_EQ(update.revoked_add_size(), 1);
  EXPECT_EQ(update.revoked_add(0).session_id(), "revokedOnB1");

  // Both replicas hand out the same version for the same state, so a
  // validator can resume on either.
  v1::ListValidatorsResponse on_a;
  v1::ListValidatorsResponse on_b;
  ASSERT_TRUE(stub->ListValidators(Context().get(), {}, &on_a).ok());
  ASSERT_TRUE(Eventually([&] {
                auto s = v1::EdgeSyncService::NewStub(b_->channel())
                             ->ListValidators(Context().get(), {}, &on_b);
                if (s.ok() && on_b.current_version() != update.version()) {
                  return grpc::Status(grpc::StatusCode::ABORTED, "not yet");
                }
                return s;
              }).ok());
  EXPECT_EQ(on_a.current_version(), update.version());
  context.TryCancel();
}

TEST_F(FleetTest, RedisOutageKeepsIssuingAndFailsWritesUntilItIsBack) {
  ASSERT_TRUE(Revoke(*a_, "beforeOutage").ok());
  redis_.Stop();

  // Issuing goes on from memory (catalog and keyring caches).
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(Issue(*a_, "1").ok());
  EXPECT_TRUE(Issue(*b_, "2").ok());

  // Writes fail with UNAVAILABLE: never OK-then-lost.
  grpc::Status revoke = Revoke(*b_, "duringOutage");
  EXPECT_EQ(revoke.error_code(), grpc::StatusCode::UNAVAILABLE) << revoke.error_message();
  grpc::Status put = PutAsset(*a_, "ch2");
  EXPECT_EQ(put.error_code(), grpc::StatusCode::UNAVAILABLE) << put.error_message();

  ASSERT_TRUE(redis_.Start());
  EXPECT_TRUE(Eventually([&] { return Revoke(*b_, "afterOutage1"); }).ok());
  EXPECT_TRUE(Eventually([&] { return PutAsset(*a_, "ch2"); }).ok());
  EXPECT_TRUE(Eventually([&] { return Issue(*b_, "ch2"); }).ok());

  v1::ListRevokedSessionsResponse listed;
  ASSERT_TRUE(v1::SessionService::NewStub(a_->channel())
                  ->ListRevokedSessions(Context().get(), {}, &listed)
                  .ok());
  std::vector<std::string> ids;
  for (const auto& s : listed.sessions()) ids.push_back(s.session_id());
  EXPECT_EQ(ids, (std::vector<std::string>{"afterOutage1", "beforeOutage"}));
}

}  // namespace
}  // namespace edgepass
