// A fleet on Redis Sentinel losing its primary: a redis-server primary, a
// replica and three redis-sentinel (tests/support/redis_sentinel_group.h),
// two edgepass-server replicas started with --redis-sentinels and
// --redis-wait-replicas 1, and an edgepass-validator subscribed to both. The
// primary is killed while issuing and revoking run continuously. Also: a
// server whose sentinels are all unreachable does not start. Label:
// integration.
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "edgepass/v1/catalog.grpc.pb.h"
#include "edgepass/v1/playback.grpc.pb.h"
#include "edgepass/v1/session.grpc.pb.h"
#include "gtest/gtest.h"
#include "http/http_test_client.h"
#include "tests/e2e/edge_stack.h"
#include "tests/integration/server_process.h"
#include "tests/support/redis_sentinel_group.h"
#include "tests/support/test_process.h"

namespace edgepass {
namespace {

using ::edgepass::http::testing::Fetch;
using ::edgepass::http::testing::TestResponse;
using ::edgepass::testing::Context;
using ::edgepass::testing::FreeLoopbackPort;
using ::edgepass::testing::HeaderOr;
using ::edgepass::testing::RedisSentinelGroup;
using ::edgepass::testing::RunProcess;
using ::edgepass::testing::RunResult;
using ::edgepass::testing::ServerProcess;
using ::edgepass::testing::Sidecar;
using ::edgepass::testing::TempDir;

constexpr char kServerPath[] = EDGEPASS_SERVER_PATH;
constexpr char kAsset[] = "/vod/demo/master.m3u8";

struct Playback {
  std::string token;
  std::string session_id;
};

TEST(SentinelStart, NoReachableSentinelStopsTheStartNamingTheOption) {
  TempDir dir;
  const std::string sentinels =
      absl::StrCat("127.0.0.1:", FreeLoopbackPort(), ",127.0.0.1:", FreeLoopbackPort());
  RunResult r = RunProcess({kServerPath, "--data-dir", dir.path() + "/data", "--grpc-addr", "127.0.0.1:0",
                            "--rest-addr", "127.0.0.1:0", "--metrics-addr", "", "--redis-sentinels", sentinels,
                            "--redis-timeout", "200ms"},
                           dir.path());
  EXPECT_NE(r.exit_code, 0) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "--redis-sentinels: redis master mymaster: no sentinel named a reachable "
                                       "primary"))
      << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "Connection refused")) << r.err;
  EXPECT_FALSE(absl::StrContains(r.err, "\"listening\"")) << r.err;
}

TEST(SentinelStart, MalformedSentinelListIsAConfigurationError) {
  TempDir dir;
  RunResult r = RunProcess({kServerPath, "--data-dir", dir.path() + "/data", "--redis-sentinels",
                            "127.0.0.1:26379;127.0.0.1:26380"},
                           dir.path());
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "redis_sentinels: \\\"127.0.0.1:26379;127.0.0.1:26380\\\" is not HOST:PORT"))
      << r.err;
}

class SentinelFailoverE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!edgepass::testing::RedisSentinelAvailable()) {
      FAIL() << "redis-server or redis-sentinel not installed (scripts/deps.sh installs them)";
    }
    root_ = dir_.path();
    ASSERT_TRUE(group_.Start());
    for (auto* replica : {&a_, &b_}) {
      *replica = std::make_unique<ServerProcess>(
          root_, root_ + "/data",
          std::vector<std::string>{"--redis-sentinels", group_.sentinels_flag(), "--redis-sentinel-master",
                                   group_.master_name(), "--redis-wait-replicas", "1", "--redis-wait-timeout",
                                   "1s", "--redis-timeout", "500ms"});
      ASSERT_TRUE((*replica)->WaitUntilServing()) << (*replica)->log();
    }
    v1::PutAssetRequest put;
    v1::Asset* asset = put.mutable_asset();
    asset->set_id("demo");
    asset->set_hostname("cdn.example.com");
    asset->set_url_path(kAsset);
    asset->mutable_inline_policy()->add_paths("/vod/demo/");
    asset->mutable_inline_policy()->set_exp("+10m");
    asset->mutable_inline_policy()->set_ssn(true);
    v1::Asset stored;
    grpc::Status s = v1::CatalogService::NewStub(a_->channel())->PutAsset(Context().get(), put, &stored);
    ASSERT_TRUE(s.ok()) << s.error_message();

    sidecar_ = std::make_unique<Sidecar>(
        root_, std::vector<std::string>{"--server", a_->address(), "--server", b_->address(), "--snapshot",
                                        root_ + "/validator.snapshot", "--listen", "127.0.0.1:0"});
    ASSERT_TRUE(sidecar_->WaitReady());
    sidecar_port_ = sidecar_->WaitListening();
  }

  // The sidecar's answer for `token` (0: no answer).
  int Auth(const std::string& token, std::string* reason = nullptr) {
    std::optional<TestResponse> r =
        Fetch(sidecar_port_, "GET", "/auth", {{"X-Original-URI", "/" + token + kAsset}}, absl::Seconds(5));
    if (!r.has_value()) return 0;
    if (reason != nullptr) *reason = HeaderOr(*r, "X-Edgepass-Reason");
    return r->status;
  }

  static grpc::Status Issue(ServerProcess& replica, Playback* out) {
    v1::IssuePlaybackRequest request;
    request.set_asset_id("demo");
    request.mutable_viewer()->set_ip("127.0.0.1");
    v1::IssuePlaybackResponse response;
    grpc::Status s = replica.stub().IssuePlayback(Context().get(), request, &response);
    *out = {response.token(), response.session_id()};
    return s;
  }

  static grpc::Status Revoke(ServerProcess& replica, const std::string& session_id) {
    v1::RevokeSessionRequest request;
    request.set_session_id(session_id);
    request.set_reason("failover e2e");
    v1::RevokedSession response;
    return v1::SessionService::NewStub(replica.channel())->RevokeSession(Context().get(), request, &response);
  }

  // Every page of the stored list. Right after a failover a replica may not
  // have reached the new primary yet (its Sentinel watcher polls; until then
  // a reconnect backoff may run), answering UNAVAILABLE meanwhile: a page is
  // asked again for up to 10 s.
  static std::set<std::string> Listed(ServerProcess& replica) {
    v1::ListRevokedSessionsRequest request;
    std::set<std::string> ids;
    do {
      v1::ListRevokedSessionsResponse response;
      auto stub = v1::SessionService::NewStub(replica.channel());
      const absl::Time deadline = absl::Now() + absl::Seconds(10);
      grpc::Status s;
      while ((s = stub->ListRevokedSessions(Context().get(), request, &response)).error_code() ==
                 grpc::StatusCode::UNAVAILABLE &&
             absl::Now() < deadline) {
        absl::SleepFor(absl::Milliseconds(100));
      }
      EXPECT_TRUE(s.ok()) << s.error_message();
      if (!s.ok()) break;
      for (const v1::RevokedSession& r : response.sessions()) ids.insert(r.session_id());
      request.set_page_token(response.next_page_token());
    } while (!request.page_token().empty());
    return ids;
  }

  TempDir dir_;
  std::string root_;
  RedisSentinelGroup group_;
  std::unique_ptr<ServerProcess> a_, b_;
  std::unique_ptr<Sidecar> sidecar_;
  uint16_t sidecar_port_ = 0;
};

TEST_F(SentinelFailoverE2eTest, KillingThePrimaryKeepsIssuingValidatingAndEveryAcknowledgedRevoke) {
  // Both replicas see the asset (the other one through the change feed).
  for (ServerProcess* replica : {a_.get(), b_.get()}) {
    Playback p;
    grpc::Status s;
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (!(s = Issue(*replica, &p)).ok() && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(20));
    ASSERT_TRUE(s.ok()) << s.error_message();
    ASSERT_EQ(Auth(p.token), 200);
  }

  std::atomic<bool> stop{false};
  absl::Mutex mu;
  int issued = 0;
  std::vector<std::string> issue_failures;
  int validated = 0;
  std::vector<std::string> validation_failures;
  std::vector<Playback> revoked;  // RevokeSession returned OK
  std::map<int, int> revoke_failures;  // gRPC code -> count

  // Issuing (alternating replicas), each token checked at the sidecar.
  std::thread issuer([&] {
    for (int i = 0; !stop.load(); ++i) {
      ServerProcess& replica = i % 2 == 0 ? *a_ : *b_;
      Playback p;
      grpc::Status s = Issue(replica, &p);
      std::string reason;
      const int auth = s.ok() ? Auth(p.token, &reason) : 0;
      absl::MutexLock lock(&mu);
      if (!s.ok()) {
        issue_failures.push_back(absl::StrCat(s.error_code(), " ", s.error_message()));
        continue;
      }
      ++issued;
      if (auth == 200) {
        ++validated;
      } else {
        validation_failures.push_back(absl::StrCat(auth, " ", reason));
      }
    }
  });
  // Revoking sessions issued by one replica through the other.
  std::thread revoker([&] {
    for (int i = 0; !stop.load(); ++i) {
      Playback p;
      if (grpc::Status issue = Issue(i % 2 == 0 ? *a_ : *b_, &p); !issue.ok()) {
        absl::MutexLock lock(&mu);
        issue_failures.push_back(absl::StrCat(issue.error_code(), " ", issue.error_message()));
        continue;
      }
      grpc::Status s = Revoke(i % 2 == 0 ? *b_ : *a_, p.session_id);
      absl::MutexLock lock(&mu);
      if (s.ok()) {
        revoked.push_back(p);
      } else {
        revoke_failures[s.error_code()]++;
        absl::SleepFor(absl::Milliseconds(20));
      }
    }
  });
  auto revoked_count = [&] {
    absl::MutexLock lock(&mu);
    return revoked.size();
  };
  auto stop_all = [&] {
    stop = true;
    issuer.join();
    revoker.join();
  };

  const absl::Time before = absl::Now();
  while (revoked_count() < 20 && absl::Now() - before < absl::Seconds(20)) absl::SleepFor(absl::Milliseconds(20));
  if (revoked_count() < 20) {
    stop_all();
    FAIL() << "revokes before the failover: " << revoked_count() << "\n" << a_->log();
  }
  const int old_primary = group_.primary_port();
  ::testing::AssertionResult failed_over = group_.KillPrimary();
  if (failed_over) failed_over = group_.WaitForNewPrimary(old_primary);
  // The new primary's replica: the old node, back (an operator or
  // Kubernetes restarts it); until then WAIT 1 fails every revoke.
  if (failed_over) failed_over = group_.RestartKilledAsReplica();
  const size_t at_restart = revoked_count();
  const absl::Time resumed_by = absl::Now() + absl::Seconds(30);
  while (failed_over && revoked_count() < at_restart + 20 && absl::Now() < resumed_by) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  stop_all();
  ASSERT_TRUE(failed_over);
  ASSERT_GE(revoked_count(), at_restart + 20) << "revokes never resumed after the failover\n" << a_->log();

  int failed_revokes = 0;
  for (const auto& [code, count] : revoke_failures) failed_revokes += count;
  std::cout << "issued " << issued << ", validated " << validated << ", revokes OK " << revoked.size()
            << ", revokes failed " << failed_revokes << "\n";
  // Issuing never stopped and the sidecar kept validating.
  EXPECT_TRUE(issue_failures.empty()) << issue_failures.size() << " failed, first: " << issue_failures.front();
  EXPECT_TRUE(validation_failures.empty())
      << validation_failures.size() << " refused, first: " << validation_failures.front();
  EXPECT_GT(issued, 50);
  // A revoke failed only as UNAVAILABLE: never a silent success, never a crash.
  for (const auto& [code, count] : revoke_failures) {
    EXPECT_EQ(code, grpc::StatusCode::UNAVAILABLE) << count << " revokes failed with code " << code;
  }
  // Every revoke that returned OK is on the list of both replicas, and the
  // sidecar refuses every one of those sessions.
  for (ServerProcess* replica : {a_.get(), b_.get()}) {
    const std::set<std::string> listed = Listed(*replica);
    for (const Playback& p : revoked) {
      EXPECT_TRUE(listed.count(p.session_id)) << p.session_id << " returned OK, then was lost";
    }
  }
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  for (const Playback& p : revoked) {
    std::string reason;
    int status = Auth(p.token, &reason);
    while (status == 200 && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(50));
      status = Auth(p.token, &reason);
    }
    EXPECT_EQ(status, 403) << p.session_id;
    EXPECT_EQ(reason, "revoked") << p.session_id;
  }
  // And fresh tokens still play.
  Playback fresh;
  ASSERT_TRUE(Issue(*b_, &fresh).ok());
  EXPECT_EQ(Auth(fresh.token), 200);

  // A catalog write on one replica (WAIT 1 on the new primary) reaches the
  // other through the change feed, which followed the failover.
  v1::PutAssetRequest put;
  put.mutable_asset()->set_id("after-failover");
  put.mutable_asset()->set_hostname("cdn.example.com");
  put.mutable_asset()->set_url_path(kAsset);
  put.mutable_asset()->mutable_inline_policy()->add_paths("/vod/demo/");
  put.mutable_asset()->mutable_inline_policy()->set_exp("+10m");
  v1::Asset stored;
  grpc::Status s = v1::CatalogService::NewStub(b_->channel())->PutAsset(Context().get(), put, &stored);
  ASSERT_TRUE(s.ok()) << s.error_message();
  v1::IssuePlaybackRequest request;
  request.set_asset_id("after-failover");
  v1::IssuePlaybackResponse response;
  const absl::Time catalog_deadline = absl::Now() + absl::Seconds(5);
  while (!(s = a_->stub().IssuePlayback(Context().get(), request, &response)).ok() &&
         absl::Now() < catalog_deadline) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_TRUE(s.ok()) << s.error_message();
}

}  // namespace
}  // namespace edgepass
