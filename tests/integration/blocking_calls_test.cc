// Calls that wait on a store never hold up issuing: with Redis frozen
// (SIGSTOP), dozens of revocations wait out the Redis timeout on the server's
// blocking pool while IssuePlayback, served from memory, keeps answering
// at once on gRPC's callback threads, and over REST on the event loops. The
// two transports share that pool.
#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "edgepass/v1/playback.grpc.pb.h"
#include "edgepass/v1/session.grpc.pb.h"
#include "gtest/gtest.h"
#include "http/http_test_client.h"
#include "tests/integration/server_process.h"
#include "tests/support/redis_server.h"
#include "tests/support/test_process.h"

namespace edgepass::testing {
namespace {

constexpr int kWaitingRevokes = 48;

// `n` RevokeSession calls over gRPC, sessions <prefix>0..., all in flight
// at once (30 s deadline each).
class GrpcRevokes {
 public:
  GrpcRevokes(const std::shared_ptr<grpc::Channel>& channel, absl::string_view prefix, int n)
      : sessions_(v1::SessionService::NewStub(channel)) {
    for (int i = 0; i < n; ++i) {
      auto call = std::make_unique<Call>();
      call->context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
      call->request.set_session_id(absl::StrCat(prefix, i));
      sessions_->async()->RevokeSession(&call->context, &call->request, &call->reply,
                                        [this, c = call.get()](grpc::Status status) {
                                          absl::MutexLock lock(&mu_);
                                          c->status = std::move(status);
                                          c->ended = true;
                                          ++done_;
                                        });
      calls_.push_back(std::move(call));
    }
  }
  ~GrpcRevokes() { EXPECT_TRUE(AwaitAll(absl::Seconds(60))) << "gRPC revokes still in flight"; }
  // False when not every call has ended within `timeout`.
  bool AwaitAll(absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    auto all = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return done_ == calls_.size(); };
    return mu_.AwaitWithTimeout(absl::Condition(&all), timeout);
  }
  // False when fewer than `n` calls have ended with `code` within `timeout`.
  bool AwaitEnded(grpc::StatusCode code, size_t n, absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    auto enough = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      size_t ended = 0;
      for (const auto& call : calls_) ended += call->ended && call->status.error_code() == code ? 1 : 0;
      return ended >= n;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&enough), timeout);
  }
  // After AwaitAll(): each call's status.
  std::vector<grpc::Status> statuses() {
    absl::MutexLock lock(&mu_);
    std::vector<grpc::Status> out;
    for (const auto& call : calls_) out.push_back(call->status);
    return out;
  }

 private:
  struct Call {
    grpc::ClientContext context;
    v1::RevokeSessionRequest request;
    v1::RevokedSession reply;
    grpc::Status status;
    bool ended = false;  // guarded by mu_
  };
  std::unique_ptr<v1::SessionService::Stub> sessions_;
  std::vector<std::unique_ptr<Call>> calls_;
  absl::Mutex mu_;
  size_t done_ ABSL_GUARDED_BY(mu_) = 0;
};

// `n` REST revokes, sessions <prefix>0..., each on a connection of its own;
// read their answers from the connections.
std::vector<std::unique_ptr<http::testing::TestConnection>> SendRestRevokes(uint16_t port, absl::string_view prefix,
                                                                           int n) {
  std::vector<std::unique_ptr<http::testing::TestConnection>> revokes;
  for (int i = 0; i < n; ++i) {
    revokes.push_back(http::testing::TestConnection::Connect(port));
    EXPECT_NE(revokes.back(), nullptr);
    if (revokes.back() == nullptr) break;
    revokes.back()->Send(
        absl::StrCat("POST /v1/sessions/", prefix, i, "/revoke HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"));
  }
  return revokes;
}

TEST(BlockingCallsTest, RevokesWaitingOnAFrozenRedisNeverHoldUpIssuing) {
  ASSERT_TRUE(RedisServerAvailable()) << "redis-server is not installed (scripts/deps.sh installs it)";
  TempDir work;
  RedisServer redis;
  ASSERT_TRUE(redis.Start());
  ServerProcess server(work.path(), work.path() + "/data", {"--redis-addr", redis.address(), "--redis-timeout", "1s"});
  ASSERT_TRUE(server.WaitUntilServing());
  v1::IssuePlaybackRequest issue;
  issue.set_asset_id("1");
  v1::IssuePlaybackResponse issued;
  ASSERT_TRUE(server.stub().IssuePlayback(Context().get(), issue, &issued).ok());

  ASSERT_EQ(kill(redis.pid(), SIGSTOP), 0);
  GrpcRevokes revokes(server.channel(), "frozenRedis", kWaitingRevokes);
  absl::SleepFor(absl::Milliseconds(200));  // every revoke is waiting on Redis now

  absl::Duration slowest;
  for (int i = 0; i < 20; ++i) {
    const absl::Time start = absl::Now();
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(start + absl::Seconds(10)));
    grpc::Status status = server.stub().IssuePlayback(&context, issue, &issued);
    slowest = std::max(slowest, absl::Now() - start);
    EXPECT_TRUE(status.ok()) << status.error_message();
  }
  ASSERT_EQ(kill(redis.pid(), SIGCONT), 0);
  EXPECT_LT(slowest, absl::Milliseconds(300)) << "an IssuePlayback waited behind the revokes";
  EXPECT_TRUE(revokes.AwaitAll(absl::Seconds(60))) << "not every revoke was answered";
  std::printf("with %d revokes waiting on a frozen Redis, the slowest of 20 IssuePlayback calls took %.1f ms\n",
              kWaitingRevokes, absl::ToDoubleMilliseconds(slowest));
}

TEST(BlockingCallsTest, RestRevokesWaitingOnAFrozenRedisNeverHoldUpRestIssuing) {
  ASSERT_TRUE(RedisServerAvailable()) << "redis-server is not installed (scripts/deps.sh installs it)";
  TempDir work;
  RedisServer redis;
  ASSERT_TRUE(redis.Start());
  // Two event loops: without the blocking pool, the waiting revokes hold both.
  ServerProcess server(work.path(), work.path() + "/data",
                       {"--redis-addr", redis.address(), "--redis-timeout", "1s", "--rest-threads", "2"});
  ASSERT_TRUE(server.WaitUntilServing());
  std::optional<http::testing::TestResponse> issued =
      http::testing::Fetch(server.rest_port(), "POST", "/v1/assets/1/playback");
  ASSERT_TRUE(issued.has_value());
  ASSERT_EQ(issued->status, 200) << issued->body;

  ASSERT_EQ(kill(redis.pid(), SIGSTOP), 0);
  std::vector<std::unique_ptr<http::testing::TestConnection>> revokes =
      SendRestRevokes(server.rest_port(), "frozenRedisRest", kWaitingRevokes);
  ASSERT_EQ(revokes.size(), static_cast<size_t>(kWaitingRevokes));
  absl::SleepFor(absl::Milliseconds(200));  // every revoke is waiting on Redis now

  absl::Duration slowest;
  for (int i = 0; i < 20; ++i) {
    const absl::Time start = absl::Now();
    issued = http::testing::Fetch(server.rest_port(), "POST", "/v1/assets/1/playback", {}, absl::Seconds(10));
    slowest = std::max(slowest, absl::Now() - start);
    ASSERT_TRUE(issued.has_value());
    EXPECT_EQ(issued->status, 200) << issued->body;
  }
  ASSERT_EQ(kill(redis.pid(), SIGCONT), 0);
  EXPECT_LT(slowest, absl::Milliseconds(300)) << "a REST IssuePlayback waited behind the revokes";
  for (auto& revoke : revokes) {
    std::optional<http::testing::TestResponse> r = revoke->ReadResponse(absl::Seconds(60));
    ASSERT_TRUE(r.has_value()) << "a revoke was not answered";
    EXPECT_TRUE(r->status == 200 || r->status == 503) << r->status << " " << r->body;
  }
  std::printf("with %d REST revokes waiting on a frozen Redis, the slowest of 20 REST IssuePlayback calls took %.1f ms\n",
              kWaitingRevokes, absl::ToDoubleMilliseconds(slowest));
}

// Calls that wait share one pool across the transports, as many threads as
// Redis connections: with Redis frozen, 8 revokes over gRPC and 8 over REST
// (16 against a Redis pool of 8) all succeed once it thaws. With a pool per
// transport (8 threads each) 16 waited on Redis at once, and the 8 that
// found no free connection within 500 ms failed UNAVAILABLE.
TEST(BlockingCallsTest, WaitingCallsOfBothTransportsShareOnePoolAndQueueRatherThanFail) {
  ASSERT_TRUE(RedisServerAvailable()) << "redis-server is not installed (scripts/deps.sh installs it)";
  TempDir work;
  RedisServer redis;
  ASSERT_TRUE(redis.Start());
  ServerProcess server(work.path(), work.path() + "/data",
                       {"--redis-addr", redis.address(), "--redis-timeout", "20s", "--redis-pool-size", "8"});
  ASSERT_TRUE(server.WaitUntilServing());
  constexpr int kPerTransport = 8;

  ASSERT_EQ(kill(redis.pid(), SIGSTOP), 0);
  GrpcRevokes grpc_revokes(server.channel(), "sharedPoolGrpc", kPerTransport);
  std::vector<std::unique_ptr<http::testing::TestConnection>> rest =
      SendRestRevokes(server.rest_port(), "sharedPoolRest", kPerTransport);
  absl::SleepFor(absl::Milliseconds(1500));  // three times the wait for a free Redis connection
  ASSERT_EQ(kill(redis.pid(), SIGCONT), 0);

  for (auto& conn : rest) {
    std::optional<http::testing::TestResponse> r = conn->ReadResponse(absl::Seconds(30));
    ASSERT_TRUE(r.has_value()) << "a REST revoke was not answered";
    EXPECT_EQ(r->status, 200) << r->body;
  }
  ASSERT_TRUE(grpc_revokes.AwaitAll(absl::Seconds(30))) << "not every gRPC revoke was answered";
  for (const grpc::Status& status : grpc_revokes.statuses()) EXPECT_TRUE(status.ok()) << status.error_message();
}

// At most --max-waiting-calls calls wait per transport; one more is refused
// at once (gRPC UNAVAILABLE, REST 503 with Retry-After), so a burst cannot
// grow the pool's queue without bound. Those let in still succeed once
// Redis thaws. (gRPC's queue had no bound.)
TEST(BlockingCallsTest, CallsBeyondTheWaitingBoundAreRefusedAtOnce) {
  ASSERT_TRUE(RedisServerAvailable()) << "redis-server is not installed (scripts/deps.sh installs it)";
  TempDir work;
  RedisServer redis;
  ASSERT_TRUE(redis.Start());
  constexpr int kBound = 3, kSent = 8;
  ServerProcess server(work.path(), work.path() + "/data",
                       {"--redis-addr", redis.address(), "--redis-timeout", "20s", "--max-waiting-calls",
                        absl::StrCat(kBound)});
  ASSERT_TRUE(server.WaitUntilServing());

  ASSERT_EQ(kill(redis.pid(), SIGSTOP), 0);
  GrpcRevokes grpc_revokes(server.channel(), "boundGrpc", kSent);
  std::vector<std::unique_ptr<http::testing::TestConnection>> rest =
      SendRestRevokes(server.rest_port(), "boundRest", kSent);
  // The refusals come while Redis is still frozen.
  int rest_refused = 0;
  std::vector<http::testing::TestConnection*> rest_waiting;
  for (auto& conn : rest) {
    std::optional<http::testing::TestResponse> r = conn->ReadResponse(absl::Milliseconds(1500));
    if (!r.has_value()) {
      rest_waiting.push_back(conn.get());
      continue;
    }
    EXPECT_EQ(r->status, 503) << r->body;
    EXPECT_NE(r->body.find("too many requests waiting; retry"), std::string::npos) << r->body;
    ++rest_refused;
  }
  EXPECT_EQ(rest_refused, kSent - kBound);
  // gRPC's refusals: every call past the bound ends, with Redis still frozen.
  ASSERT_TRUE(grpc_revokes.AwaitEnded(grpc::StatusCode::UNAVAILABLE, kSent - kBound, absl::Seconds(5)));
  int refused = 0;
  for (const grpc::Status& s : grpc_revokes.statuses()) {
    if (s.error_code() != grpc::StatusCode::UNAVAILABLE) continue;
    EXPECT_EQ(s.error_message(), "too many calls waiting (3); retry");
    ++refused;
  }
  EXPECT_EQ(refused, kSent - kBound);
  ASSERT_EQ(kill(redis.pid(), SIGCONT), 0);

  for (http::testing::TestConnection* conn : rest_waiting) {
    std::optional<http::testing::TestResponse> r = conn->ReadResponse(absl::Seconds(30));
    ASSERT_TRUE(r.has_value()) << "a REST revoke let in was not answered";
    EXPECT_EQ(r->status, 200) << r->body;
  }
  ASSERT_TRUE(grpc_revokes.AwaitAll(absl::Seconds(30))) << "not every gRPC revoke was answered";
  int ok = 0;
  for (const grpc::Status& status : grpc_revokes.statuses()) ok += status.ok() ? 1 : 0;
  EXPECT_EQ(ok, kBound);
  // Once they are answered, calls are let in again.
  GrpcRevokes after(server.channel(), "boundAfter", 1);
  ASSERT_TRUE(after.AwaitAll(absl::Seconds(30)));
  EXPECT_TRUE(after.statuses()[0].ok()) << after.statuses()[0].error_message();
}

}  // namespace
}  // namespace edgepass::testing
