// Key rotation with the whole fleet on loopback: a real redis-server, two
// edgepass-server replicas on it, an edgepass-validator streaming from them
// and a real nginx (the shipped config) in front of an HLS origin, while a
// load thread issues tokens on both replicas and plays them through nginx.
// Rotations run back to back, replicas are killed after each rotation step,
// a validator is held back: no valid request is ever refused. Label
// integration.
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <csignal>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "edgepass/v1/catalog.grpc.pb.h"
#include "edgepass/v1/keys.grpc.pb.h"
#include "edgepass/v1/playback.grpc.pb.h"
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

constexpr char kSegment[] = "/vod/demo/720p/seg0.ts";

// Tokens live 20 s, longer than the rotations are apart; keys retire for
// max-token-ttl + key-cache-ttl = 35 s, so retired keys also go during a run.
const std::vector<std::string> kReplicaArgs = {"--max-token-ttl", "30s", "--default-token-ttl", "20s", "--key-cache-ttl", "5s",
                                               "--key-rotation-ack-deadline", "5s"};

std::unique_ptr<grpc::ClientContext> Context(absl::Duration timeout = absl::Seconds(10)) {
  auto c = std::make_unique<grpc::ClientContext>();
  c->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  return c;
}

struct Token {
  std::string token;
  absl::Time expires_at;
};

class RotationE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!NginxAvailable()) FAIL() << "nginx is not installed (scripts/deps.sh installs it)";
    root_ = dir_.path();
    WriteHlsTree(root_);
    ASSERT_TRUE(redis_.Start());
    a_ = StartReplica();
    b_ = StartReplica();
    ASSERT_TRUE(a_ && b_);
    v1::PutAssetRequest put;
    v1::Asset* asset = put.mutable_asset();
    asset->set_id("demo");
    asset->set_hostname("cdn.example.com");
    asset->set_url_path("/vod/demo/master.m3u8");
    asset->mutable_inline_policy()->add_paths("/vod/demo/");
    asset->mutable_inline_policy()->set_exp("+20s");
    asset->mutable_inline_policy()->set_ip(true);
    v1::Asset stored;
    ASSERT_TRUE(v1::CatalogService::NewStub(a_->channel())->PutAsset(Context().get(), put, &stored).ok());

    sidecar_ = StartSidecar("edge-1");
    ASSERT_NE(sidecar_port_, 0);
    absl::StatusOr<EdgeNginx> edge = StartEdgeNginx(root_, sidecar_port_);
    ASSERT_TRUE(edge.ok()) << edge.status();
    nginx_ = std::move(edge->nginx);
    edge_port_ = edge->ports.edge;
    ASSERT_TRUE(sidecar_->WaitReady());
  }

  void TearDown() override { StopLoad(); }

  std::unique_ptr<ServerProcess> StartReplica(std::vector<std::string> env = {}) {
    std::vector<std::string> args = {"--redis-addr", redis_.address()};
    args.insert(args.end(), kReplicaArgs.begin(), kReplicaArgs.end());
    auto replica = std::make_unique<ServerProcess>(root_, root_ + "/data", args, std::move(env));
    if (!replica->WaitUntilServing()) {
      ADD_FAILURE() << "replica did not start: " << replica->log();
      return nullptr;
    }
    return replica;
  }

  std::unique_ptr<Sidecar> StartSidecar(const std::string& id) {
    auto sidecar = std::make_unique<Sidecar>(
        root_,
        std::vector<std::string>{"--server", a_->address(), "--server", b_->address(), "--snapshot",
                                 absl::StrCat(root_, "/", id, ".snapshot"), "--listen", "127.0.0.1:0"},
        std::vector<std::string>{"EDGEPASS_VALIDATOR_ID=" + id});
    const uint16_t port = sidecar->WaitListening();
    if (sidecar_port_ == 0) sidecar_port_ = port;
    EXPECT_NE(port, 0) << sidecar->log();
    return sidecar;
  }

  static std::optional<Token> Issue(ServerProcess& replica) {
    v1::IssuePlaybackRequest request;
    request.set_asset_id("demo");
    request.mutable_viewer()->set_ip("127.0.0.1");  // nginx sees the viewer on loopback
    v1::IssuePlaybackResponse response;
    if (!replica.stub().IssuePlayback(Context().get(), request, &response).ok()) return std::nullopt;
    return Token{response.token(), absl::FromUnixSeconds(response.expires_at().seconds())};
  }

  int Play(const Token& t, std::string* reason) {
    std::optional<TestResponse> r = Fetch(edge_port_, "GET", "/" + t.token + kSegment);
    if (!r.has_value()) return -1;
    *reason = HeaderOr(*r, "X-Edgepass-Reason");
    return r->status;
  }

  // Issues on both replicas (whichever answer) and plays every token issued
  // so far until its expiry (less a second of clock margin), recording any
  // refusal of a valid token.
  void StartLoad() {
    load_ = std::thread([this] {
      std::vector<Token> live;
      int turn = 0;
      while (!stop_load_.load()) {
        ServerProcess* replica = nullptr;
        {
          absl::MutexLock lock(&replicas_mu_);
          replica = (++turn % 2 == 0 || b_ == nullptr) ? a_.get() : b_.get();
          if (replica == nullptr) replica = b_.get();
          if (std::optional<Token> t = replica != nullptr ? Issue(*replica) : std::nullopt; t.has_value()) {
            live.push_back(*t);
            ++issued_;
          }
        }
        const absl::Time now = absl::Now();
        std::erase_if(live, [&](const Token& t) { return t.expires_at - absl::Seconds(1) <= now; });
        // The newest token every round, each older one every tenth round.
        for (size_t i = 0; i < live.size(); ++i) {
          if (i + 1 != live.size() && (turn + i) % 10 != 0) continue;
          std::string reason;
          const int status = Play(live[i], &reason);
          ++played_;
          if (status != 200) {
            absl::MutexLock lock(&failures_mu_);
            failures_.push_back(absl::StrCat("HTTP ", status, " reason ", reason, " for a token expiring in ",
                                             absl::FormatDuration(live[i].expires_at - now)));
          }
        }
        absl::SleepFor(absl::Milliseconds(5));
      }
    });
  }

  void StopLoad() {
    stop_load_ = true;
    if (load_.joinable()) load_.join();
  }

  std::vector<std::string> Failures() {
    absl::MutexLock lock(&failures_mu_);
    return failures_;
  }

  static grpc::Status Rotate(ServerProcess& replica, v1::RotateKeysResponse* response,
                             absl::Duration timeout = absl::Seconds(30)) {
    v1::RotateKeysRequest request;
    return v1::KeyService::NewStub(replica.channel())->RotateKeys(Context(timeout).get(), request, response);
  }

  static absl::StatusOr<v1::KeyStatus> KeyStatus(ServerProcess& replica) {
    v1::GetKeyStatusRequest request;
    v1::KeyStatus status;
    grpc::Status s = v1::KeyService::NewStub(replica.channel())->GetKeyStatus(Context().get(), request, &status);
    if (!s.ok()) return absl::UnavailableError(s.error_message());
    return status;
  }

  // Key ids by state, e.g. {"PRIMARY": ["20261206_..."], ...}.
  static std::map<std::string, std::vector<std::string>> ByState(const v1::KeyStatus& status) {
    std::map<std::string, std::vector<std::string>> out;
    for (const v1::SigningKeyInfo& k : status.keys()) out[v1::KeyState_Name(k.state())].push_back(k.id());
    return out;
  }

  TempDir dir_;
  std::string root_;
  RedisServer redis_;
  absl::Mutex replicas_mu_;
  std::unique_ptr<ServerProcess> a_, b_;
  std::unique_ptr<Sidecar> sidecar_;
  std::unique_ptr<Nginx> nginx_;
  uint16_t sidecar_port_ = 0, edge_port_ = 0;
  std::thread load_;
  std::atomic<bool> stop_load_ = false;
  std::atomic<int> issued_ = 0, played_ = 0;
  absl::Mutex failures_mu_;
  std::vector<std::string> failures_;
};

TEST_F(RotationE2eTest, FiftyRotationsUnderLoadRefuseNoValidRequest) {
  // Tokens issued before any rotation must keep playing until they expire.
  std::vector<Token> early;
  for (int i = 0; i < 4; ++i) {
    std::optional<Token> t = Issue(i % 2 == 0 ? *a_ : *b_);
    ASSERT_TRUE(t.has_value());
    early.push_back(*t);
  }
  const std::string first_primary = ByState(*KeyStatus(*a_))["PRIMARY"].at(0);
  StartLoad();
  const absl::Time start = absl::Now();
  absl::Duration longest_wait;
  std::set<std::string> primaries = {first_primary};
  int rotations = 0;
  for (int i = 0; i < 50; ++i) {
    v1::RotateKeysResponse response;
    grpc::Status s = Rotate(i % 2 == 0 ? *a_ : *b_, &response);
    ASSERT_TRUE(s.ok()) << "rotation " << i << ": " << s.error_message();
    EXPECT_EQ(response.validators(), 1u) << "the sidecar acknowledged every new key";
    EXPECT_TRUE(primaries.insert(response.new_primary()).second);
    longest_wait = std::max(longest_wait, absl::Seconds(response.acknowledgement_wait().seconds()) +
                                              absl::Nanoseconds(response.acknowledgement_wait().nanos()));
    ++rotations;
    // Every early token plays until its own expiry, whichever key signs now.
    for (const Token& t : early) {
      if (t.expires_at - absl::Seconds(1) <= absl::Now()) continue;
      std::string reason;
      EXPECT_EQ(Play(t, &reason), 200) << "early token refused after rotation " << i << ": " << reason;
    }
  }
  const absl::Duration took = absl::Now() - start;
  absl::SleepFor(absl::Seconds(2));  // the load plays on with the last key
  StopLoad();

  const std::vector<std::string> failures = Failures();
  EXPECT_TRUE(failures.empty()) << failures.size() << " valid requests refused, first: " << failures.front();
  EXPECT_EQ(rotations, 50);
  EXPECT_GT(issued_.load(), 100);
  absl::StatusOr<v1::KeyStatus> status = KeyStatus(*b_);
  ASSERT_TRUE(status.ok());
  auto by_state = ByState(*status);
  EXPECT_EQ(by_state["PRIMARY"].size(), 1u);
  EXPECT_EQ(by_state["PENDING"].size() + by_state["DISTRIBUTED"].size(), 0u);
  EXPECT_EQ(by_state["SECONDARY"].size(), 1u);
  // Keys retired for more than 35 s are gone; the keyring does not grow
  // with the number of rotations.
  if (took > absl::Seconds(40)) EXPECT_LT(status->keys_size(), 50);
  std::cout << "rotation under load: " << rotations << " rotations in " << absl::FormatDuration(took)
            << ", longest acknowledgement wait " << absl::FormatDuration(longest_wait) << ", " << issued_.load()
            << " tokens issued, " << played_.load() << " requests played, " << failures.size()
            << " refused; keyring holds " << status->keys_size() << " keys" << std::endl;
}

TEST_F(RotationE2eTest, AReplicaKilledAfterAnyRotationStepIsResumedByAnother) {
  StartLoad();
  for (const char* step : {"stored_pending", "distributed", "promoted"}) {
    SCOPED_TRACE(step);
    std::unique_ptr<ServerProcess> doomed =
        StartReplica({absl::StrCat("EDGEPASS_TEST_EXIT_AFTER_ROTATION_STEP=", step)});
    ASSERT_NE(doomed, nullptr);
    const std::string before = ByState(*KeyStatus(*a_))["PRIMARY"].at(0);
    v1::RotateKeysResponse response;
    grpc::Status s = Rotate(*doomed, &response);
    EXPECT_FALSE(s.ok()) << "the replica should have died after " << step;
    ASSERT_TRUE(doomed->process().WaitForExit(absl::Seconds(10)).has_value());

    // Another replica's scheduler finds the unfinished rotation once the
    // dead one's lease expired, and finishes it with the same key.
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    std::map<std::string, std::vector<std::string>> by_state;
    while (absl::Now() < deadline) {
      absl::StatusOr<v1::KeyStatus> status = KeyStatus(*a_);
      ASSERT_TRUE(status.ok());
      by_state = ByState(*status);
      ASSERT_EQ(by_state["PRIMARY"].size(), 1u) << "never two primaries, never none";
      if (by_state["PRIMARY"][0] != before && by_state["PENDING"].empty() && by_state["DISTRIBUTED"].empty()) break;
      absl::SleepFor(absl::Milliseconds(100));
    }
    EXPECT_NE(by_state["PRIMARY"][0], before) << "the rotation was not finished";
    EXPECT_TRUE(by_state["PENDING"].empty() && by_state["DISTRIBUTED"].empty());
    ASSERT_EQ(by_state["SECONDARY"].size(), 1u);
    EXPECT_EQ(by_state["SECONDARY"][0], before) << "the old primary validates on";
  }
  absl::SleepFor(absl::Seconds(1));
  StopLoad();
  const std::vector<std::string> failures = Failures();
  EXPECT_TRUE(failures.empty()) << failures.size() << " valid requests refused, first: " << failures.front();
  EXPECT_GT(played_.load(), 50);
}

TEST_F(RotationE2eTest, AHeldBackValidatorBlocksPromotionUntilTheDeadlineAndANewOneGetsThePendingKey) {
  const std::string before = ByState(*KeyStatus(*a_))["PRIMARY"].at(0);
  ASSERT_TRUE(sidecar_->process().Signal(SIGSTOP));
  // The stopped validator's stream stays open: the replica still lists it.
  std::unique_ptr<Sidecar> late;
  std::thread joiner([&] {
    absl::SleepFor(absl::Seconds(1));  // joins while the new key waits
    late = StartSidecar("edge-late");
  });
  v1::RotateKeysResponse response;
  const absl::Time started = absl::Now();
  grpc::Status s = Rotate(*a_, &response);
  joiner.join();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << s.error_message();
  EXPECT_GE(absl::Now() - started, absl::Seconds(5));
  EXPECT_TRUE(absl::StrContains(s.error_message(), "edge-1")) << s.error_message();
  EXPECT_FALSE(absl::StrContains(s.error_message(), "edge-late"))
      << "the validator that joined mid-rotation got the pending key: " << s.error_message();
  absl::StatusOr<v1::KeyStatus> status = KeyStatus(*a_);
  ASSERT_TRUE(status.ok());
  auto by_state = ByState(*status);
  EXPECT_EQ(by_state["PRIMARY"], std::vector<std::string>{before}) << "nothing was promoted";
  ASSERT_EQ(by_state["PENDING"].size(), 1u);
  EXPECT_TRUE(status->rotation().stalled());
  EXPECT_EQ(status->rotation().last_outcome(), "deadline_exceeded");
  std::optional<TestResponse> scrape = Fetch(a_->metrics_port(), "GET", "/metrics");
  ASSERT_TRUE(scrape.has_value());
  EXPECT_TRUE(absl::StrContains(scrape->body, "edgepass_key_rotation_stalled 1")) << scrape->body;
  EXPECT_TRUE(absl::StrContains(scrape->body, "edgepass_key_rotations_total{outcome=\"deadline_exceeded\"} 1"));

  // Back in time: the next rotation resumes the same key and promotes it.
  ASSERT_TRUE(sidecar_->process().Signal(SIGCONT));
  const std::string pending = by_state["PENDING"][0];
  grpc::Status resumed = Rotate(*b_, &response);
  ASSERT_TRUE(resumed.ok()) << resumed.error_message();
  EXPECT_TRUE(response.resumed());
  EXPECT_EQ(response.new_primary(), pending);
  EXPECT_EQ(response.validators(), 2u);
}

TEST_F(RotationE2eTest, ARevokedKeyIsRefusedAtTheEdgeAtOnceWhileNewTokensPlay) {
  std::optional<Token> old = Issue(*a_);
  ASSERT_TRUE(old.has_value());
  std::string reason;
  ASSERT_EQ(Play(*old, &reason), 200);
  const std::string compromised = ByState(*KeyStatus(*a_))["PRIMARY"].at(0);

  v1::RevokeKeyRequest request;
  request.set_key_id(compromised);
  v1::KeyStatus status;
  auto keys = v1::KeyService::NewStub(b_->channel());
  grpc::Status refused = keys->RevokeKey(Context().get(), request, &status);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << refused.error_message();
  EXPECT_TRUE(absl::StrContains(refused.error_message(), "confirm_tokens_refused"));
  EXPECT_EQ(Play(*old, &reason), 200) << "nothing changed without the confirmation";

  request.set_confirm_tokens_refused(true);
  ASSERT_TRUE(keys->RevokeKey(Context().get(), request, &status).ok());
  ASSERT_EQ(ByState(status)["PRIMARY"].size(), 1u);
  EXPECT_NE(ByState(status)["PRIMARY"][0], compromised);
  for (const v1::SigningKeyInfo& k : status.keys()) EXPECT_NE(k.id(), compromised);

  const absl::Time revoked_at = absl::Now();
  int code = Play(*old, &reason);
  while (code == 200 && absl::Now() - revoked_at < absl::Seconds(10)) {
    absl::SleepFor(absl::Milliseconds(20));
    code = Play(*old, &reason);
  }
  const absl::Duration took = absl::Now() - revoked_at;
  EXPECT_EQ(code, 403) << reason;
  EXPECT_EQ(reason, "unknown_kid");
  std::cout << "revoked key refused at the edge after " << absl::FormatDuration(took) << " (reason " << reason
            << ")" << std::endl;
  // Announced on the change feed, not picked up by the next 1 s keyring poll
  // (about 20 ms through the sidecar, 160 ms through the module here).
  EXPECT_LT(took, absl::Milliseconds(750));
  EXPECT_TRUE(SettlesAt(403, [&] { return Play(*old, &reason); }, absl::Seconds(5))) << reason;
  // Both replicas sign with the replacement, and the edge accepts it from now
  // on (with the nginx module, in every worker: SettlesAt).
  for (ServerProcess* replica : {a_.get(), b_.get()}) {
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    bool plays = false;
    while (!plays && absl::Now() < deadline) {
      std::optional<Token> fresh = Issue(*replica);
      ASSERT_TRUE(fresh.has_value());
      plays = SettlesAt(200, [&] { return Play(*fresh, &reason); }, absl::Seconds(1));
    }
    EXPECT_TRUE(plays) << reason;
  }
}

}  // namespace
}  // namespace edgepass
