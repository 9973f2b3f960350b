// The control plane (CatalogService, SessionService, KeyService rotation) and
// the edge sync stream of a real edgepass-server on its embedded data dir,
// over real gRPC.
// Label: integration.
#include <grpcpp/grpcpp.h>

#include <sys/stat.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/strings/str_replace.h"
#include "core/keyring.h"
#include "edgepass/v1/catalog.grpc.pb.h"
#include "edgepass/v1/edge_sync.grpc.pb.h"
#include "edgepass/v1/keys.grpc.pb.h"
#include "edgepass/v1/session.grpc.pb.h"
#include "gtest/gtest.h"
#include "files/atomic_file.h"
#include "http/http_test_client.h"
#include "tests/integration/server_process.h"
#include "tests/support/test_process.h"

namespace edgepass {
namespace {

using ::edgepass::testing::Context;
using ::edgepass::testing::ReadFileOrEmpty;
using ::edgepass::testing::ServerProcess;
using ::edgepass::testing::TempDir;

class ControlPlaneTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_dir_ = work_.path() + "/data";
    server_ = std::make_unique<ServerProcess>(work_.path(), data_dir_);
    ASSERT_TRUE(server_->WaitUntilServing());
    catalog_ = v1::CatalogService::NewStub(server_->channel());
    sessions_ = v1::SessionService::NewStub(server_->channel());
    edge_ = v1::EdgeSyncService::NewStub(server_->channel());
  }

  v1::TokenPolicy Policy(const std::string& prefix) {
    v1::TokenPolicy p;
    p.add_paths(prefix);
    p.set_exp("+30m");
    p.set_ssn(true);
    return p;
  }

  grpc::Status PutPolicy(const std::string& name, const v1::TokenPolicy& policy) {
    v1::PutPolicyRequest request;
    request.mutable_policy()->set_name(name);
    *request.mutable_policy()->mutable_policy() = policy;
    v1::NamedPolicy response;
    return catalog_->PutPolicy(Context().get(), request, &response);
  }

  grpc::Status PutAsset(const v1::Asset& asset) {
    v1::PutAssetRequest request;
    *request.mutable_asset() = asset;
    v1::Asset response;
    return catalog_->PutAsset(Context().get(), request, &response);
  }

  grpc::Status Revoke(const std::string& id, v1::RevokedSession* out = nullptr) {
    v1::RevokeSessionRequest request;
    request.set_session_id(id);
    request.set_reason("test");
    v1::RevokedSession response;
    return sessions_->RevokeSession(Context().get(), request, out ? out : &response);
  }

  // IssuePlayback of `asset`, retried for a few seconds while the replica's
  // cache catches up with a catalog write.
  grpc::Status IssueEventually(const std::string& asset, v1::IssuePlaybackResponse* response) {
    v1::IssuePlaybackRequest request;
    request.set_asset_id(asset);
    grpc::Status status;
    for (int i = 0; i < 100; ++i) {
      status = server_->stub().IssuePlayback(Context().get(), request, response);
      if (status.error_code() != grpc::StatusCode::NOT_FOUND) return status;
      absl::SleepFor(absl::Milliseconds(50));
    }
    return status;
  }

  TempDir work_;
  std::string data_dir_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<v1::CatalogService::Stub> catalog_;
  std::unique_ptr<v1::SessionService::Stub> sessions_;
  std::unique_ptr<v1::EdgeSyncService::Stub> edge_;
};

TEST_F(ControlPlaneTest, AssetWrittenThroughTheCatalogIsIssuedAndListed) {
  ASSERT_TRUE(PutPolicy("movies", Policy("/movies/")).ok());
  v1::Asset asset;
  asset.set_id("m-42");
  asset.set_hostname("cdn.example.com");
  asset.set_url_path("/movies/42/index.m3u8");
  asset.set_policy_name("movies");
  ASSERT_TRUE(PutAsset(asset).ok());

  v1::IssuePlaybackResponse issued;
  grpc::Status status = IssueEventually("m-42", &issued);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(absl::EndsWith(issued.playback_url(), "/movies/42/index.m3u8"));
  EXPECT_FALSE(issued.session_id().empty());

  v1::GetAssetRequest get;
  get.set_id("m-42");
  v1::Asset got;
  ASSERT_TRUE(catalog_->GetAsset(Context().get(), get, &got).ok());
  EXPECT_EQ(got.policy_name(), "movies");

  v1::ListAssetsRequest list;
  list.set_page_size(2);
  v1::ListAssetsResponse page;
  ASSERT_TRUE(catalog_->ListAssets(Context().get(), list, &page).ok());
  ASSERT_EQ(page.assets_size(), 2);  // "1", "2" (sample), then "m-42"
  EXPECT_EQ(page.assets(0).id(), "1");
  list.set_page_token(page.next_page_token());
  ASSERT_TRUE(catalog_->ListAssets(Context().get(), list, &page).ok());
  ASSERT_EQ(page.assets_size(), 1);
  EXPECT_EQ(page.assets(0).id(), "m-42");
  EXPECT_EQ(page.next_page_token(), "");

  // The catalog file holds it after a restart.
  server_.reset();
  server_ = std::make_unique<ServerProcess>(work_.path(), data_dir_);
  ASSERT_TRUE(server_->WaitUntilServing());
  EXPECT_TRUE(IssueEventually("m-42", &issued).ok());
}

TEST_F(ControlPlaneTest, BadCatalogWritesNameTheFieldAndStoreNothing) {
  const std::string before = ReadFileOrEmpty(data_dir_ + "/catalog.json");
  ASSERT_FALSE(before.empty());

  v1::Asset asset;
  asset.set_id("bad");
  asset.set_hostname("cdn.example.com");
  asset.set_url_path("no-slash");
  *asset.mutable_inline_policy() = Policy("/x/");
  grpc::Status status = PutAsset(asset);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "asset.url_path: must start with '/'");

  asset.set_url_path("/x/index.m3u8");
  asset.mutable_inline_policy()->set_paths(0, "relative/");
  status = PutAsset(asset);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StartsWith(status.error_message(), "asset.inline_policy.paths[0]: "))
      << status.error_message();

  asset.set_policy_name("no-such-policy");
  status = PutAsset(asset);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "asset.token_policy: unknown policy \"no-such-policy\"");

  v1::TokenPolicy no_exp = Policy("/x/");
  no_exp.clear_exp();
  status = PutPolicy("p", no_exp);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "policy.policy.exp: required");

  v1::DeletePolicyRequest in_use;
  in_use.set_name("session-2h");  // the sample asset "1" uses it
  google::protobuf::Empty empty;
  status = catalog_->DeletePolicy(Context().get(), in_use, &empty);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(status.error_message(), "name: policy \"session-2h\" is used by asset \"1\"");

  v1::DeleteAssetRequest unknown;
  unknown.set_id("nope");
  EXPECT_EQ(catalog_->DeleteAsset(Context().get(), unknown, &empty).error_code(),
            grpc::StatusCode::NOT_FOUND);

  EXPECT_EQ(ReadFileOrEmpty(data_dir_ + "/catalog.json"), before);
}

TEST_F(ControlPlaneTest, RevocationsAreListedCompiledAndRestored) {
  v1::RevokedSession revoked;
  ASSERT_TRUE(Revoke("manualOne1", &revoked).ok());
  EXPECT_EQ(revoked.type(), v1::MANUAL);
  EXPECT_TRUE(revoked.has_expires_at());

  v1::ReportSessionRequest report;
  report.set_session_id("autoHigh01");
  report.set_score(7.5);
  (*report.mutable_score_components())["rate_ratio"] = 5.5;
  (*report.mutable_score_components())["ip_penalty"] = 1;
  ASSERT_TRUE(sessions_->ReportSession(Context().get(), report, &revoked).ok());
  report.set_session_id("autoLow001");
  report.set_score(2.3);
  ASSERT_TRUE(sessions_->ReportSession(Context().get(), report, &revoked).ok());
  absl::SleepFor(absl::Seconds(1));  // added_at has one-second resolution
  ASSERT_TRUE(Revoke("manualTwo2").ok());

  v1::ListRevokedSessionsRequest list;
  list.set_compiled(true);
  v1::ListRevokedSessionsResponse listed;
  ASSERT_TRUE(sessions_->ListRevokedSessions(Context().get(), list, &listed).ok());
  std::vector<std::string> ids;
  for (const auto& s : listed.sessions()) ids.push_back(s.session_id());
  EXPECT_EQ(ids, (std::vector<std::string>{"manualTwo2", "manualOne1", "autoHigh01", "autoLow001"}));
  EXPECT_EQ(listed.sessions(2).score_components().at("rate_ratio"), 5.5);

  v1::RestoreSessionRequest restore;
  restore.set_session_id("manualOne1");
  google::protobuf::Empty empty;
  ASSERT_TRUE(sessions_->RestoreSession(Context().get(), restore, &empty).ok());
  EXPECT_EQ(sessions_->RestoreSession(Context().get(), restore, &empty).error_code(),
            grpc::StatusCode::NOT_FOUND);

  // Stored durably: a restarted server lists the same entries.
  server_.reset();
  server_ = std::make_unique<ServerProcess>(work_.path(), data_dir_);
  ASSERT_TRUE(server_->WaitUntilServing());
  sessions_ = v1::SessionService::NewStub(server_->channel());
  list.set_compiled(false);
  ASSERT_TRUE(sessions_->ListRevokedSessions(Context().get(), list, &listed).ok());
  ASSERT_EQ(listed.sessions_size(), 3);
  EXPECT_EQ(listed.sessions(0).session_id(), "autoHigh01");
}

TEST_F(ControlPlaneTest, ReportSessionsStoresABatchAtomicallyAndKeepsManual) {
  ASSERT_TRUE(Revoke("manualOne1").ok());
  v1::ReportSessionsRequest bulk;
  for (const char* id : {"autoBulk01", "manualOne1", "autoBulk02"}) {
    v1::ReportSessionRequest* r = bulk.add_sessions();
    r->set_session_id(id);
    r->set_score(4.5);
    (*r->mutable_score_components())["rate"] = 3.5;
  }
  v1::ReportSessionsResponse out;
  ASSERT_TRUE(sessions_->ReportSessions(Context().get(), bulk, &out).ok());
  ASSERT_EQ(out.outcomes_size(), 3);
  EXPECT_EQ(out.outcomes(0), v1::REPORT_STORED);
  EXPECT_EQ(out.outcomes(1), v1::REPORT_ALREADY_MANUAL);
  EXPECT_EQ(out.sessions(1).type(), v1::MANUAL);
  EXPECT_EQ(out.sessions(2).type(), v1::AUTO);
  const uint64_t version = out.version();
  ASSERT_TRUE(sessions_->ReportSessions(Context().get(), bulk, &out).ok());  // again: nothing new
  EXPECT_EQ(out.version(), version);
  EXPECT_EQ(out.outcomes(0), v1::REPORT_ALREADY_AUTO);

  bulk.mutable_sessions(1)->set_session_id("newOne0001");
  bulk.mutable_sessions(2)->set_score(-1);
  grpc::Status bad = sessions_->ReportSessions(Context().get(), bulk, &out);
  EXPECT_EQ(bad.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(bad.error_message(), "sessions[2].score: must be a finite number >= 0");
  v1::ListRevokedSessionsRequest list;
  v1::ListRevokedSessionsResponse listed;
  ASSERT_TRUE(sessions_->ListRevokedSessions(Context().get(), list, &listed).ok());
  EXPECT_EQ(listed.sessions_size(), 3);  // newOne0001 was not stored
  EXPECT_EQ(listed.version(), version);
}

TEST_F(ControlPlaneTest, BadSessionRequestsNameTheField) {
  v1::RevokedSession out;
  grpc::Status status = Revoke("has space", &out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "session_id: must be 1 to 64 characters of [A-Za-z0-9_-]");

  v1::RevokeSessionRequest past;
  past.set_session_id("abcdefgh");
  past.mutable_expires_at()->set_seconds(1000);
  status = sessions_->RevokeSession(Context().get(), past, &out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "expires_at: must be in the future");

  v1::ReportSessionRequest report;
  report.set_session_id("abcdefgh");
  report.set_score(-1);
  status = sessions_->ReportSession(Context().get(), report, &out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "score: must be a finite number >= 0");

  v1::ListRevokedSessionsRequest list;
  v1::ListRevokedSessionsResponse listed;
  ASSERT_TRUE(sessions_->ListRevokedSessions(Context().get(), list, &listed).ok());
  EXPECT_EQ(listed.sessions_size(), 0);
}

TEST_F(ControlPlaneTest, EdgeSyncSendsSnapshotThenChangesAndTracksAcks) {
  ASSERT_TRUE(Revoke("beforeSub1").ok());
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  v1::SubscribeRequest subscribe;
  subscribe.set_validator_id("edge-a");
  auto stream = edge_->Subscribe(&context, subscribe);

  // The snapshot: the data dir's keyring and the revoked session.
  v1::EdgeUpdate update;
  ASSERT_TRUE(stream->Read(&update));
  EXPECT_TRUE(update.snapshot());
  EXPECT_TRUE(update.complete());
  absl::StatusOr<core::Keyring> keyring =
      core::ParseKeyringJson(ReadFileOrEmpty(data_dir_ + "/keyring.json"));
  ASSERT_TRUE(keyring.ok());
  ASSERT_EQ(update.keys_size(), 1);
  EXPECT_EQ(update.keys(0).id(), keyring->Primary()->id);
  EXPECT_EQ(update.keys(0).value(), keyring->Primary()->value);
  EXPECT_EQ(update.keys(0).state(), v1::PRIMARY);
  EXPECT_FALSE(update.keys(0).has_not_after());  // validates without limit
  EXPECT_TRUE(update.keys(0).has_created_at());
  ASSERT_EQ(update.revoked_add_size(), 1);
  EXPECT_EQ(update.revoked_add(0).session_id(), "beforeSub1");
  const uint64_t first_version = update.version();
  const std::string fingerprint = update.keyring_fingerprint();

  // A revoke reaches the stream as a delta within a second or so.
  const absl::Time revoked_at = absl::Now();
  ASSERT_TRUE(Revoke("afterSub01").ok());
  ASSERT_TRUE(stream->Read(&update));
  EXPECT_LT(absl::Now() - revoked_at, absl::Seconds(2));
  EXPECT_FALSE(update.snapshot());
  EXPECT_GT(update.version(), first_version);
  EXPECT_EQ(update.keys_size(), 0);
  ASSERT_EQ(update.revoked_add_size(), 1);
  EXPECT_EQ(update.revoked_add(0).session_id(), "afterSub01");

  v1::RestoreSessionRequest restore;
  restore.set_session_id("beforeSub1");
  google::protobuf::Empty empty;
  ASSERT_TRUE(sessions_->RestoreSession(Context().get(), restore, &empty).ok());
  ASSERT_TRUE(stream->Read(&update));
  ASSERT_EQ(update.revoked_remove_size(), 1);
  EXPECT_EQ(update.revoked_remove(0), "beforeSub1");

  v1::AcknowledgeRequest ack;
  ack.set_validator_id("edge-a");
  ack.set_version(update.version());
  ack.set_keyring_fingerprint(fingerprint);
  v1::AcknowledgeResponse ack_response;
  ASSERT_TRUE(edge_->Acknowledge(Context().get(), ack, &ack_response).ok());
  v1::ListValidatorsResponse validators;
  ASSERT_TRUE(edge_->ListValidators(Context().get(), {}, &validators).ok());
  ASSERT_EQ(validators.validators_size(), 1);
  EXPECT_EQ(validators.validators(0).validator_id(), "edge-a");
  EXPECT_TRUE(validators.validators(0).connected());
  EXPECT_EQ(validators.validators(0).acked_version(), update.version());
  EXPECT_EQ(validators.current_version(), update.version());

  // Resuming at the current version sends a marker, not a snapshot.
  grpc::ClientContext resume_context;
  subscribe.set_validator_id("edge-b");
  subscribe.set_have_version(update.version());
  subscribe.set_have_keyring_fingerprint(fingerprint);
  auto resumed = edge_->Subscribe(&resume_context, subscribe);
  v1::EdgeUpdate marker;
  ASSERT_TRUE(resumed->Read(&marker));
  EXPECT_FALSE(marker.snapshot());
  EXPECT_TRUE(marker.complete());
  EXPECT_EQ(marker.keys_size(), 0);
  EXPECT_EQ(marker.revoked_add_size(), 0);
  EXPECT_EQ(marker.version(), update.version());
  resume_context.TryCancel();
  context.TryCancel();
}

TEST_F(ControlPlaneTest, BadEdgeSyncRequestsAreRefused) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  v1::SubscribeRequest subscribe;
  subscribe.set_validator_id("bad id/with spaces");
  auto stream = edge_->Subscribe(&context, subscribe);
  v1::EdgeUpdate update;
  EXPECT_FALSE(stream->Read(&update));
  grpc::Status status = stream->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StartsWith(status.error_message(), "validator_id: ")) << status.error_message();

  v1::AcknowledgeRequest ack;
  ack.set_validator_id("never-subscribed");
  v1::AcknowledgeResponse response;
  EXPECT_EQ(edge_->Acknowledge(Context().get(), ack, &response).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(ControlPlaneTest, RotationOverABrokenKeyringFileWritesNothingAndIssuingGoesOn) {
  auto keys = v1::KeyService::NewStub(server_->channel());
  const std::string file = data_dir_ + "/keyring.json";
  v1::RotateKeysResponse rotated;
  ASSERT_TRUE(keys->RotateKeys(Context().get(), v1::RotateKeysRequest(), &rotated).ok());
  EXPECT_FALSE(rotated.previous_primary().empty());
  EXPECT_NE(rotated.new_primary(), rotated.previous_primary());
  struct stat st;
  ASSERT_EQ(stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  const std::string good = ReadFileOrEmpty(file);
  EXPECT_FALSE(absl::StrContains(good, "pending"));

  v1::IssuePlaybackResponse issued;
  ASSERT_TRUE(IssueEventually("1", &issued).ok());
  // The status lists ids, states and dates, never a key value.
  v1::KeyStatus status;
  ASSERT_TRUE(keys->GetKeyStatus(Context().get(), v1::GetKeyStatusRequest(), &status).ok());
  ASSERT_EQ(status.keys_size(), 2);
  absl::StatusOr<core::Keyring> stored = core::ParseKeyringJson(good);
  ASSERT_TRUE(stored.ok());
  for (const core::SigningKey& k : stored->keys()) EXPECT_FALSE(absl::StrContains(status.DebugString(), k.value));

  const std::string wrong_length = absl::StrReplaceAll(good, {{stored->Primary()->value, "abcd"}});
  for (const std::string& broken : {good.substr(0, good.size() / 2), wrong_length, std::string("not json")}) {
    ASSERT_TRUE(files::WriteFileAtomically(file, broken).ok());
    v1::RotateKeysResponse refused;
    grpc::Status s = keys->RotateKeys(Context().get(), v1::RotateKeysRequest(), &refused);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << s.error_message();
    EXPECT_EQ(ReadFileOrEmpty(file), broken) << "a broken keyring file is never overwritten";
    // Issuing goes on with the keyring in memory.
    v1::IssuePlaybackRequest request;
    request.set_asset_id("1");
    EXPECT_TRUE(server_->stub().IssuePlayback(Context().get(), request, &issued).ok());
  }
  std::optional<http::testing::TestResponse> scrape =
      http::testing::Fetch(server_->metrics_port(), "GET", "/metrics");
  ASSERT_TRUE(scrape.has_value());
  EXPECT_TRUE(absl::StrContains(scrape->body, "edgepass_key_rotations_total{outcome=\"failed_precondition\"} 3"))
      << scrape->body;
  EXPECT_FALSE(absl::StrContains(scrape->body, "edgepass_secret_store_read_errors_total 0\n"));

  ASSERT_TRUE(files::WriteFileAtomically(file, good).ok());
  ASSERT_TRUE(keys->RotateKeys(Context().get(), v1::RotateKeysRequest(), &rotated).ok());
}

}  // namespace
}  // namespace edgepass
