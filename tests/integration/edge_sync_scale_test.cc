// One replica holds 1,000 subscribed validators: a test process opens 1,000
// EdgeSync streams against a real edgepass-server, revokes a session, and
// every stream receives the revocation within 1 s, while the server's thread
// count stays bounded (the streams are callback reactors, not threads).
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "edgepass/v1/edge_sync.grpc.pb.h"
#include "edgepass/v1/session.grpc.pb.h"
#include "gtest/gtest.h"
#include "tests/integration/server_process.h"
#include "tests/support/test_process.h"

namespace edgepass::testing {
namespace {

constexpr int kValidators = 1000;
constexpr int kChannels = 10;  // 100 streams per connection
constexpr char kRevoked[] = "scaleTestSession1";

// Threads: of /proc/PID/status, or -1.
int ThreadCount(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(in, line)) {
    int n = 0;
    if (line.rfind("Threads:", 0) == 0 && absl::SimpleAtoi(line.substr(8), &n)) return n;
  }
  return -1;
}

// What the streams saw, shared by all of them.
class Tracker {
 public:
  void Synced() {
    absl::MutexLock lock(&mu_);
    ++synced_;
  }
  void GotRevocation(absl::Time at) {
    absl::MutexLock lock(&mu_);
    ++revoked_;
    latest_ = std::max(latest_, at);
  }
  void Done() {
    absl::MutexLock lock(&mu_);
    ++done_;
  }
  bool WaitFor(int* counter, int n, absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    struct Arg {
      int* counter;
      int n;
    } arg{counter, n};
    return mu_.AwaitWithTimeout(absl::Condition(+[](Arg* a) { return *a->counter >= a->n; }, &arg), timeout);
  }
  int* synced() { return &synced_; }
  int* revoked() { return &revoked_; }
  int* done() { return &done_; }
  int count(int* counter) {
    absl::MutexLock lock(&mu_);
    return *counter;
  }
  absl::Time latest() {
    absl::MutexLock lock(&mu_);
    return latest_;
  }

 private:
  absl::Mutex mu_;
  int synced_ ABSL_GUARDED_BY(mu_) = 0;
  int revoked_ ABSL_GUARDED_BY(mu_) = 0;
  int done_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time latest_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

// One validator's stream, read with the callback API (no thread of its own).
class Validator final : public grpc::ClientReadReactor<v1::EdgeUpdate> {
 public:
  Validator(v1::EdgeSyncService::Stub* stub, int n, Tracker* tracker) : tracker_(tracker) {
    request_.set_validator_id(absl::StrCat("scale-", n));
    stub->async()->Subscribe(&context_, &request_, this);
    StartRead(&update_);
    StartCall();
  }
  void Cancel() { context_.TryCancel(); }
  void OnReadDone(bool ok) override {
    if (!ok) return;
    if (update_.snapshot() && update_.complete()) tracker_->Synced();
    for (const v1::RevokedId& id : update_.revoked_add()) {
      if (id.session_id() == kRevoked) tracker_->GotRevocation(absl::Now());
    }
    StartRead(&update_);
  }
  void OnDone(const grpc::Status&) override { tracker_->Done(); }

 private:
  Tracker* const tracker_;
  grpc::ClientContext context_;
  v1::SubscribeRequest request_;
  v1::EdgeUpdate update_;
};

TEST(EdgeSyncScaleTest, ThousandValidatorsGetARevokeWithinASecond) {
  TempDir work;
  ServerProcess server(work.path(), work.path() + "/data");
  ASSERT_TRUE(server.WaitUntilServing());
  const pid_t pid = server.process().pid();
  const int threads_idle = ThreadCount(pid);

  std::vector<std::shared_ptr<grpc::Channel>> channels;
  std::vector<std::unique_ptr<v1::EdgeSyncService::Stub>> stubs;
  for (int i = 0; i < kChannels; ++i) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);  // a connection per channel
    args.SetInt("edgepass.test.channel", i);
    channels.push_back(grpc::CreateCustomChannel(server.address(), grpc::InsecureChannelCredentials(), args));
    stubs.push_back(v1::EdgeSyncService::NewStub(channels.back()));
  }
  Tracker tracker;
  std::vector<std::unique_ptr<Validator>> validators;
  for (int i = 0; i < kValidators; ++i) {
    validators.push_back(std::make_unique<Validator>(stubs[i % kChannels].get(), i, &tracker));
  }
  ASSERT_TRUE(tracker.WaitFor(tracker.synced(), kValidators, absl::Seconds(60)))
      << tracker.count(tracker.synced()) << " of " << kValidators << " streams got their snapshot";
  const int threads_streaming = ThreadCount(pid);

  auto sessions = v1::SessionService::NewStub(server.channel());
  v1::RevokeSessionRequest revoke;
  revoke.set_session_id(kRevoked);
  v1::RevokedSession reply;
  const absl::Time start = absl::Now();
  grpc::Status status = sessions->RevokeSession(Context().get(), revoke, &reply);
  ASSERT_TRUE(status.ok()) << status.error_message();
  const bool all = tracker.WaitFor(tracker.revoked(), kValidators, absl::Seconds(5));
  const absl::Duration slowest = tracker.latest() - start;
  EXPECT_TRUE(all) << tracker.count(tracker.revoked()) << " of " << kValidators << " streams got the revocation";
  EXPECT_LE(slowest, absl::Seconds(1)) << "the last stream got it after " << slowest;

  // Bounded: a thread per stream would be over 1,000.
  EXPECT_GT(threads_streaming, 0);
  EXPECT_LT(threads_streaming, 100) << "server threads with " << kValidators << " streams";
  ::testing::Test::RecordProperty("server_threads_idle", threads_idle);
  ::testing::Test::RecordProperty("server_threads_streaming", threads_streaming);
  ::testing::Test::RecordProperty("slowest_revoke_ms", absl::StrCat(absl::ToDoubleMilliseconds(slowest)));
  std::printf("edge sync scale: %d streams, server threads %d idle / %d streaming, last revoke after %.1f ms\n",
              kValidators, threads_idle, threads_streaming, absl::ToDoubleMilliseconds(slowest));

  for (auto& v : validators) v->Cancel();
  EXPECT_TRUE(tracker.WaitFor(tracker.done(), kValidators, absl::Seconds(30)));
}

}  // namespace
}  // namespace edgepass::testing
