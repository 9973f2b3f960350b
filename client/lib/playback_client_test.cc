// PlaybackClient against an in-process fake PlaybackService on a free
// loopback port: responses pass through, gRPC errors keep code and message,
// the per-call deadline applies.
#include "client/lib/playback_client.h"

#include <memory>
#include <string>
#include <thread>

#include "client/lib/grpc_status.h"
#include "edgepass/v1/playback.grpc.pb.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "gtest/gtest.h"

namespace edgepass::client {
namespace {

class FakePlaybackService final
    : public edgepass::v1::PlaybackService::Service {
 public:
  grpc::Status IssuePlayback(
      grpc::ServerContext*, const edgepass::v1::IssuePlaybackRequest* req,
      edgepass::v1::IssuePlaybackResponse* resp) override {
    if (req->asset_id() == "missing") {
      return grpc::Status(grpc::StatusCode::NOT_FOUND,
                          "asset 'missing' not found");
    }
    if (req->asset_id() == "slow")
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    resp->set_playback_url("https://cdn.example.com/tok/" + req->asset_id() +
                           "/index.m3u8");
    resp->set_session_id(req->viewer().session_id());
    return grpc::Status::OK;
  }
  grpc::Status IssueToken(grpc::ServerContext*,
                          const edgepass::v1::IssueTokenRequest* req,
                          edgepass::v1::IssueTokenResponse* resp) override {
    if (req->policy().paths().empty()) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          "policy.paths: required");
    }
    resp->set_token("h.p.s");
    return grpc::Status::OK;
  }
};

class PlaybackClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                             &port_);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_GT(port_, 0);
  }
  void TearDown() override {
    if (server_) server_->Shutdown(std::chrono::system_clock::now());
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

  FakePlaybackService service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

TEST_F(PlaybackClientTest, IssuePlaybackReturnsResponse) {
  PlaybackClient client({.address = address()});
  edgepass::v1::IssuePlaybackRequest req;
  req.set_asset_id("a1");
  req.mutable_viewer()->set_session_id("sess1234");
  auto resp = client.IssuePlayback(req);
  ASSERT_TRUE(resp.ok()) << resp.status();
  EXPECT_EQ(resp->playback_url(), "https://cdn.example.com/tok/a1/index.m3u8");
  EXPECT_EQ(resp->session_id(), "sess1234");
}

TEST_F(PlaybackClientTest, KeepsCodeAndMessageOfErrors) {
  PlaybackClient client({.address = address()});
  edgepass::v1::IssuePlaybackRequest req;
  req.set_asset_id("missing");
  auto resp = client.IssuePlayback(req);
  EXPECT_EQ(resp.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(resp.status().message(), "asset 'missing' not found");

  auto tok = client.IssueToken(edgepass::v1::IssueTokenRequest());
  EXPECT_EQ(tok.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(tok.status().message(), "policy.paths: required");
}

TEST_F(PlaybackClientTest, AppliesPerCallDeadline) {
  PlaybackClient client(
      {.address = address(), .deadline = absl::Milliseconds(100)});
  edgepass::v1::IssuePlaybackRequest req;
  req.set_asset_id("slow");
  EXPECT_EQ(client.IssuePlayback(req).status().code(),
            absl::StatusCode::kDeadlineExceeded);
}

TEST(PlaybackClient, UnreachableServerIsUnavailable) {
  // Port 1 on loopback: nothing listens there.
  PlaybackClient client(
      {.address = "127.0.0.1:1", .deadline = absl::Seconds(2)});
  auto resp = client.IssuePlayback(edgepass::v1::IssuePlaybackRequest());
  EXPECT_EQ(resp.status().code(), absl::StatusCode::kUnavailable);
}

TEST(FromGrpcStatus, MapsEveryCanonicalCode) {
  EXPECT_TRUE(FromGrpcStatus(grpc::Status::OK).ok());
  for (int code = 1; code <= 16; ++code) {
    absl::Status s =
        FromGrpcStatus(grpc::Status(static_cast<grpc::StatusCode>(code), "m"));
    EXPECT_EQ(static_cast<int>(s.code()), code);
    EXPECT_EQ(s.message(), "m");
  }
  EXPECT_EQ(FromGrpcStatus(grpc::Status(static_cast<grpc::StatusCode>(99), "x"))
                .code(),
            absl::StatusCode::kUnknown);
}

}  // namespace
}  // namespace edgepass::client
