// ServerMetrics driven through the real services: the playback service on
// the embedded file stores, an in-process gRPC server with the metrics
// interceptor, and the edge-sync registry; checked in the text a scrape
// would return.
#include "server/app/server_metrics.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>

#include <filesystem>
#include <future>
#include <memory>
#include <string>

#include "core/random.h"
#include "edgepass/v1/edge_sync.grpc.pb.h"
#include "edgepass/v1/playback.grpc.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "obs/metrics_text.h"
#include "server/adapters/cached_keyring_source.h"
#include "server/adapters/file_catalog_store.h"
#include "server/adapters/file_secret_store.h"
#include "server/adapters/file_session_store.h"
#include "server/adapters/local_change_feed.h"
#include "server/api/grpc_metrics_interceptor.h"
#include "server/api/grpc_services.h"
#include "server/app/catalog_editor.h"
#include "server/app/edge_sync_hub.h"
#include "server/app/live_state.h"
#include "server/app/playback_issuer.h"
#include "server/app/revocation_pruner.h"
#include "tests/support/temp_dir.h"

namespace edgepass::server {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const absl::Time kNow = absl::FromUnixSeconds(1767225600);

class ServerMetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    secrets_ = std::make_unique<FileSecretStore>(dir_ + "/keyring.json");
    ASSERT_TRUE(secrets_->LoadOrCreate(kNow - absl::Hours(1), random_).ok());  // key age 3600 s
    keys_ = std::make_unique<CachedKeyringSource>(*secrets_, &feed_);
    catalogs_ = std::make_unique<FileCatalogStore>(dir_ + "/catalog.json", &feed_);
    ASSERT_TRUE(SeedSampleCatalog(*catalogs_).ok());  // the sample: assets "1" and "2"
    sessions_ = std::make_unique<FileSessionStore>(dir_ + "/revocations.json", &feed_);
    for (const char* id : {"pTq3ZkW8sN1x", "aB3dE5gH7jK9"}) {
      ASSERT_TRUE(sessions_
                      ->Put({.session_id = id, .added_at = kNow - absl::Minutes(1),
                             .expires_at = kNow + absl::Hours(1)})
                      .ok());
    }
    live_ = std::make_unique<LiveState>(catalogs_.get(), sessions_.get(), keys_.get(), &feed_,
                                        [] { return kNow; }, LiveStateOptions{});
    ASSERT_TRUE(live_->Start().ok());
    issuer_ = std::make_unique<PlaybackIssuer>([this] { return live_->catalog(); }, keys_.get(), &random_,
                                               [] { return kNow; }, PlaybackIssuerOptions{.metrics = &metrics_});
    playback_ = std::make_unique<PlaybackApi>(issuer_.get(), absl::Hours(1));
  }
  void TearDown() override {
    playback_.reset();
    issuer_.reset();
    live_.reset();
  }

  absl::Status IssuePlayback(const std::string& asset_id) {
    v1::IssuePlaybackRequest request;
    request.set_asset_id(asset_id);
    v1::IssuePlaybackResponse response;
    return playback_->IssuePlayback(request, &response);
  }

  std::string Text() { return obs::MetricsText(metrics_.collectables()); }

  ::edgepass::testing::TempDir tmp_;  // declared first: removed after the stores close
  const std::string dir_ = tmp_.path();
  core::SecureRandom random_;
  LocalChangeFeed feed_;
  ServerMetrics metrics_{[] { return kNow; }};
  std::unique_ptr<FileSecretStore> secrets_;
  std::unique_ptr<CachedKeyringSource> keys_;
  std::unique_ptr<FileCatalogStore> catalogs_;
  std::unique_ptr<FileSessionStore> sessions_;
  std::unique_ptr<LiveState> live_;
  std::unique_ptr<PlaybackIssuer> issuer_;
  std::unique_ptr<PlaybackApi> playback_;
};

TEST_F(ServerMetricsTest, CountsIssuedTokensByAssetSchemeAndOutcome) {
  ASSERT_TRUE(IssuePlayback("1").ok());
  ASSERT_TRUE(IssuePlayback("1").ok());
  ASSERT_TRUE(IssuePlayback("2").ok());
  ASSERT_EQ(IssuePlayback("no-such-asset").code(), absl::StatusCode::kNotFound);
  ASSERT_EQ(IssuePlayback("").code(), absl::StatusCode::kInvalidArgument);
  {
    v1::IssueTokenRequest request;
    request.mutable_policy()->add_paths("/v/1/");
    v1::IssueTokenResponse response;
    ASSERT_TRUE(playback_->IssueToken(request, &response).ok());
  }

  const std::string text = Text();
  EXPECT_THAT(text, HasSubstr("# TYPE edgepass_tokens_issued_total counter\n"));
  EXPECT_THAT(text, HasSubstr(
      "edgepass_tokens_issued_total{asset=\"1\",outcome=\"ok\",scheme=\"smd-token\"} 2\n"));
  EXPECT_THAT(text, HasSubstr(
      "edgepass_tokens_issued_total{asset=\"2\",outcome=\"ok\",scheme=\"smd-token\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("edgepass_tokens_issued_total{asset=\"(unknown)\","
                              "outcome=\"not_found\",scheme=\"smd-token\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("edgepass_tokens_issued_total{asset=\"(unknown)\","
                              "outcome=\"invalid_argument\",scheme=\"smd-token\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("edgepass_tokens_issued_total{asset=\"(inline)\","
                              "outcome=\"ok\",scheme=\"smd-token\"} 1\n"));
  EXPECT_THAT(text, Not(HasSubstr("no-such-asset")));  // request ids never become labels
  EXPECT_THAT(text, HasSubstr("edgepass_token_issue_duration_seconds_count 6\n"));
  EXPECT_THAT(text, HasSubstr("edgepass_token_issue_duration_seconds_bucket{le=\"+Inf\"} 6\n"));
}

TEST_F(ServerMetricsTest, ReadsStateAtScrapeTime) {
  metrics_.WatchLiveState(live_.get());
  metrics_.WatchSecretStore(secrets_.get());
  metrics_.WatchRedis([] { return CallCounts{.calls = 12, .errors = 3}; });
  metrics_.WatchRedisFailovers([] { return int64_t{1}; });

  std::string text = Text();
  EXPECT_THAT(text, HasSubstr("# TYPE edgepass_revocation_list_entries gauge\n"
                              "edgepass_revocation_list_entries 2\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE edgepass_signing_key_age_seconds gauge\n"
                              "edgepass_signing_key_age_seconds 3600\n"));
  EXPECT_THAT(text, HasSubstr("edgepass_edge_version "));
  EXPECT_THAT(text, HasSubstr("# TYPE edgepass_revocation_resyncs_total counter\n"
                              "edgepass_revocation_resyncs_total 0\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE edgepass_redis_commands_total counter\n"
                              "edgepass_redis_commands_total 12\n"));
  EXPECT_THAT(text, HasSubstr("edgepass_redis_errors_total 3\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE edgepass_redis_failovers_total counter\n"
                              "edgepass_redis_failovers_total 1\n"));
  // LoadOrCreate and the cache's first read.
  EXPECT_THAT(text, HasSubstr("edgepass_secret_store_reads_total 2\n"));
  EXPECT_THAT(text, HasSubstr("edgepass_secret_store_read_errors_total 0\n"));

  // A keyring file that no longer parses: the next read fails and counts.
  std::filesystem::resize_file(secrets_->path(), 10);
  EXPECT_FALSE(secrets_->ReadKeyring().ok());
  text = Text();
  EXPECT_THAT(text, HasSubstr("edgepass_secret_store_reads_total 3\n"));
  EXPECT_THAT(text, HasSubstr("edgepass_secret_store_read_errors_total 1\n"));
}

TEST_F(ServerMetricsTest, CountsPrunedRevocations) {
  RevocationPruner pruner(sessions_.get(), [] { return kNow; }, {.grace = absl::Hours(1)});
  metrics_.WatchRevocationPruner(&pruner);
  EXPECT_THAT(Text(), HasSubstr("# TYPE edgepass_revocations_pruned_total counter\n"
                                "edgepass_revocations_pruned_total 0\n"));
  for (const char* id : {"expired0001", "expired0002"}) {
    ASSERT_TRUE(sessions_
                    ->Put({.session_id = id, .added_at = kNow - absl::Hours(4),
                           .expires_at = kNow - absl::Hours(2)})
                    .ok());
  }
  ASSERT_EQ(pruner.PruneOnce().value(), 2u);
  EXPECT_EQ(pruner.PruneOnce().value(), 0u);
  EXPECT_THAT(Text(), HasSubstr("edgepass_revocations_pruned_total 2\n"));
}

TEST_F(ServerMetricsTest, HttpRequestsByRouteTemplateAndCode) {
  metrics_.RecordHttpRequest("/v1/assets/{id}", 200, absl::Milliseconds(2));
  metrics_.RecordHttpRequest("/v1/assets/{id}", 200, absl::Milliseconds(30));
  metrics_.RecordHttpRequest("/v1/assets/{id}", 404, absl::Milliseconds(1));
  metrics_.RecordHttpRequest("(unmatched)", 404, absl::Milliseconds(1));
  metrics_.RecordHttpRequest("/v1/x", 42, absl::Milliseconds(1));

  const std::string text = Text();
  EXPECT_THAT(text, HasSubstr("edgepass_http_requests_total{code=\"200\",route=\"/v1/assets/{id}\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("edgepass_http_requests_total{code=\"404\",route=\"/v1/assets/{id}\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("edgepass_http_requests_total{code=\"404\",route=\"(unmatched)\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("edgepass_http_requests_total{code=\"(invalid)\",route=\"/v1/x\"} 1\n"));
  EXPECT_THAT(text, HasSubstr(
      "edgepass_http_request_duration_seconds_bucket{route=\"/v1/assets/{id}\",le=\"0.005\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("edgepass_http_request_duration_seconds_count{route=\"/v1/assets/{id}\"} 3\n"));
}

TEST_F(ServerMetricsTest, KeyRotationsAppearWithTheFirstRotation) {
  EXPECT_THAT(Text(), Not(HasSubstr("edgepass_key_rotations_total{")));
  metrics_.RecordKeyRotation(absl::OkStatus());
  metrics_.RecordKeyRotation(absl::UnavailableError("secrets store down"));
  const std::string text = Text();
  EXPECT_THAT(text, HasSubstr("edgepass_key_rotations_total{outcome=\"ok\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("edgepass_key_rotations_total{outcome=\"unavailable\"} 1\n"));
}

TEST(OutcomeName, LowerCaseCodeNames) {
  EXPECT_EQ(OutcomeName(absl::StatusCode::kOk), "ok");
  EXPECT_EQ(OutcomeName(absl::StatusCode::kFailedPrecondition), "failed_precondition");
  EXPECT_EQ(OutcomeName(static_cast<absl::StatusCode>(99)), "unknown");
}

// The interceptor and the edge-sync registry over a real in-process server.
TEST_F(ServerMetricsTest, GrpcCallsAndConnectedValidators) {
  EdgeSyncHub edge_sync(live_.get(), [] { return kNow; });
  edge_sync.Start();
  EdgeSyncApi edge_sync_api(&edge_sync);
  metrics_.WatchLiveState(live_.get());
  metrics_.WatchEdgeSync(&edge_sync, live_.get());
  const AccessPolicy open = AccessPolicy::Open();
  GrpcAccess access(&open);
  GrpcServices services(
      {.playback = playback_.get(), .edge_sync = &edge_sync_api, .hub = &edge_sync, .metrics = &metrics_}, &access);
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  services.RegisterWith(builder);
  builder.experimental().SetInterceptorCreators(GrpcMetricsInterceptors(&metrics_));
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);
  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                                     grpc::InsecureChannelCredentials());

  auto playback = v1::PlaybackService::NewStub(channel);
  for (const char* id : {"1", "1", "nope"}) {
    grpc::ClientContext context;
    v1::IssuePlaybackRequest request;
    request.set_asset_id(id);
    v1::IssuePlaybackResponse response;
    (void)playback->IssuePlayback(&context, request, &response);
  }
  {  // a method no service has
    grpc::GenericStub generic(channel);
    grpc::ClientContext context;
    grpc::ByteBuffer request(nullptr, 0), response;
    std::promise<grpc::Status> done;
    generic.UnaryCall(&context, "/edgepass.v1.PlaybackService/NoSuchMethod", grpc::StubOptions(),
                      &request, &response, [&done](grpc::Status s) { done.set_value(std::move(s)); });
    EXPECT_EQ(done.get_future().get().error_code(), grpc::StatusCode::UNIMPLEMENTED);
  }
  {  // bytes that are no IssuePlayback request: recorded by the adapter too
    grpc::GenericStub generic(channel);
    grpc::ClientContext context;
    grpc::Slice garbage(std::string("\xff\xff\xff"));
    grpc::ByteBuffer request(&garbage, 1), response;
    std::promise<grpc::Status> done;
    generic.UnaryCall(&context, "/edgepass.v1.PlaybackService/IssuePlayback", grpc::StubOptions(), &request,
                      &response, [&done](grpc::Status s) { done.set_value(std::move(s)); });
    EXPECT_EQ(done.get_future().get().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  }

  // One validator subscribes and acknowledges a version behind the edge's.
  const uint64_t edge_version = live_->edge()->version;
  ASSERT_GT(edge_version, 1u);  // two revocations were stored
  auto sync = v1::EdgeSyncService::NewStub(channel);
  grpc::ClientContext stream_context;
  v1::SubscribeRequest subscribe;
  subscribe.set_validator_id("edge-1");
  auto reader = sync->Subscribe(&stream_context, subscribe);
  v1::EdgeUpdate update;
  ASSERT_TRUE(reader->Read(&update));
  {
    grpc::ClientContext context;
    v1::AcknowledgeRequest ack;
    ack.set_validator_id("edge-1");
    ack.set_version(edge_version - 1);
    v1::AcknowledgeResponse response;
    ASSERT_TRUE(sync->Acknowledge(&context, ack, &response).ok());
  }

  std::string text = Text();
  EXPECT_THAT(text, HasSubstr("edgepass_grpc_requests_total{code=\"OK\","
                              "method=\"/edgepass.v1.PlaybackService/IssuePlayback\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("edgepass_grpc_requests_total{code=\"NOT_FOUND\","
                              "method=\"/edgepass.v1.PlaybackService/IssuePlayback\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("edgepass_grpc_requests_total{code=\"INVALID_ARGUMENT\","
                              "method=\"/edgepass.v1.PlaybackService/IssuePlayback\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("edgepass_grpc_requests_total{code=\"UNIMPLEMENTED\","
                              "method=\"(unknown)\"} 1\n"));
  EXPECT_THAT(text, Not(HasSubstr("NoSuchMethod")));
  EXPECT_THAT(text, HasSubstr("edgepass_grpc_requests_total{code=\"OK\","
                              "method=\"/edgepass.v1.EdgeSyncService/Acknowledge\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("edgepass_grpc_request_duration_seconds_count{"
                              "method=\"/edgepass.v1.PlaybackService/IssuePlayback\"} 4\n"));
  EXPECT_THAT(text, HasSubstr("edgepass_edge_validators_connected 1\n"));
  EXPECT_THAT(text, HasSubstr("edgepass_edge_validators_behind 1\n"));
  EXPECT_THAT(text, HasSubstr("edgepass_edge_validator_lag_versions_max 1\n"));

  // Caught up.
  {
    grpc::ClientContext context;
    v1::AcknowledgeRequest ack;
    ack.set_validator_id("edge-1");
    ack.set_version(edge_version);
    v1::AcknowledgeResponse response;
    ASSERT_TRUE(sync->Acknowledge(&context, ack, &response).ok());
  }
  text = Text();
  EXPECT_THAT(text, HasSubstr("edgepass_edge_validators_behind 0\n"));
  EXPECT_THAT(text, HasSubstr("edgepass_edge_validator_lag_versions_max 0\n"));

  stream_context.TryCancel();
  (void)reader->Finish();
  edge_sync.Stop();
  server->Shutdown(absl::ToChronoTime(absl::Now() + absl::Seconds(2)));
  server->Wait();
  // The stream's end is counted, without a latency (not unary).
  text = Text();
  EXPECT_THAT(text, HasSubstr("method=\"/edgepass.v1.EdgeSyncService/Subscribe\"} 1\n"));
  EXPECT_THAT(text, Not(HasSubstr("edgepass_grpc_request_duration_seconds_count{"
                                  "method=\"/edgepass.v1.EdgeSyncService/Subscribe\"}")));
  EXPECT_THAT(text, HasSubstr("edgepass_edge_validators_connected 0\n"));
}

}  // namespace
}  // namespace edgepass::server
