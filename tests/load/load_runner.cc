#include "tests/load/load_runner.h"

#include <grpc/grpc.h>
#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>
#include <grpcpp/completion_queue.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <memory>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "client/channel/api_key.h"
#include "client/channel/grpc_channel_tls.h"
#include "edgepass/v1/playback.grpc.pb.h"

namespace edgepass::load {
namespace {

using Clock = std::chrono::steady_clock;

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             Clock::now().time_since_epoch())
      .count();
}

void SleepUntilNs(int64_t t) {
  std::this_thread::sleep_until(Clock::time_point(std::chrono::nanoseconds(t)));
}

// How long each channel may take to become READY before anything is sent.
constexpr absl::Duration kConnectTimeout = absl::Seconds(10);

// gRPC codes are 0..16; anything else is counted under its number.
constexpr int kKnownCodes = 17;

// Owned by one polling thread; merged after the threads are joined.
struct ThreadStats {
  int64_t ok = 0;
  std::array<int64_t, kKnownCodes> errors{};
  int64_t unknown_code_errors = 0;
  int64_t last_done_ns = 0;
  LatencyHistogram latency_ns;
};

// One IssuePlayback call in flight; its address is the completion-queue tag.
struct Call {
  grpc::ClientContext context;
  v1::IssuePlaybackResponse response;
  grpc::Status status;
  std::unique_ptr<grpc::ClientAsyncResponseReader<v1::IssuePlaybackResponse>>
      reader;
  int64_t start_ns = 0;
};

class LoadEngine {
 public:
  explicit LoadEngine(const LoadOptions& options) : options_(options) {
    request_.set_asset_id(options.asset_id);
    if (!options.viewer_ip.empty())
      request_.mutable_viewer()->set_ip(options.viewer_ip);
  }

  // Reads the API key and the CA file, when given.
  absl::Status LoadCredentials() {
    if (!options_.api_key_file.empty()) {
      absl::StatusOr<std::string> key =
          client::ReadApiKeyFile(options_.api_key_file);
      if (!key.ok()) {
        return absl::Status(
            key.status().code(),
            absl::StrCat("--api-key-file: ", key.status().message()));
      }
      api_key_ = *std::move(key);
    }
    credentials_ = grpc::InsecureChannelCredentials();
    if (!options_.server_ca_file.empty()) {
      absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> tls =
          client::MakeGrpcChannelCredentials(
              {.ca_file = options_.server_ca_file});
      if (!tls.ok()) {
        return absl::Status(
            tls.status().code(),
            absl::StrCat("--server-ca: ", tls.status().message()));
      }
      credentials_ = *std::move(tls);
    }
    return absl::OkStatus();
  }

  // Opens the channels and waits until every one is READY.
  absl::Status Connect() {
    const auto deadline = std::chrono::system_clock::now() +
                          absl::ToChronoNanoseconds(kConnectTimeout);
    for (int i = 0; i < options_.connections; ++i) {
      const std::string& address =
          options_.servers[i % options_.servers.size()];
      grpc::ChannelArguments args;
      // Distinct arguments and a private subchannel pool: a TCP connection
      // per channel, not one shared by all channels to the same address.
      args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
      args.SetInt("edgepass.load.channel", i);
      std::shared_ptr<grpc::Channel> channel =
          grpc::CreateCustomChannel(address, credentials_, args);
      for (;;) {
        grpc_connectivity_state state =
            channel->GetState(/*try_to_connect=*/true);
        if (state == GRPC_CHANNEL_READY) break;
        if (state == GRPC_CHANNEL_TRANSIENT_FAILURE ||
            state == GRPC_CHANNEL_SHUTDOWN) {
          return absl::UnavailableError(
              absl::StrCat("cannot connect to ", address));
        }
        if (!channel->WaitForStateChange(state, deadline)) {
          return absl::UnavailableError(
              absl::StrCat("cannot connect to ", address, " within ",
                           absl::FormatDuration(kConnectTimeout)));
        }
      }
      stubs_.push_back(v1::PlaybackService::NewStub(channel));
      channels_.push_back(std::move(channel));
    }
    return absl::OkStatus();
  }

  LoadReport Run() {
    for (int i = 0; i < options_.poll_threads; ++i) {
      cqs_.push_back(std::make_unique<grpc::CompletionQueue>());
    }
    stats_.resize(cqs_.size());
    closed_loop_ = options_.rate == 0;
    const int64_t start_ns = NowNs();
    end_ns_ = start_ns + absl::ToInt64Nanoseconds(options_.duration);
    std::vector<std::thread> pollers;
    for (size_t i = 0; i < cqs_.size(); ++i)
      pollers.emplace_back([this, i] { Poll(i); });

    LoadReport report;
    if (closed_loop_) {
      for (int i = 0; i < options_.concurrency && NowNs() < end_ns_; ++i) {
        in_flight_.fetch_add(1);
        Issue(NowNs(), i % cqs_.size());
      }
      SleepUntilNs(end_ns_);
    } else {
      SendOnSchedule(start_ns, &report);
    }
    // A closed-loop answer starts its successor before it leaves the count,
    // so zero in flight after the end means nothing more will be started.
    // Every call has a deadline, so this ends.
    while (in_flight_.load() > 0 || NowNs() < end_ns_) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    for (auto& cq : cqs_) cq->Shutdown();
    for (auto& t : pollers) t.join();

    report.options = options_;
    report.sent = sent_.load();
    if (closed_loop_) report.scheduled = report.sent;
    int64_t last_done_ns = end_ns_;
    for (const ThreadStats& s : stats_) {
      report.ok += s.ok;
      for (int code = 1; code < kKnownCodes; ++code) {
        if (s.errors[code] == 0) continue;
        report.errors[absl::StatusCodeToString(
            static_cast<absl::StatusCode>(code))] += s.errors[code];
      }
      if (s.unknown_code_errors > 0)
        report.errors["OTHER"] += s.unknown_code_errors;
      last_done_ns = std::max(last_done_ns, s.last_done_ns);
      report.latency_ns.Merge(s.latency_ns);
    }
    report.elapsed = absl::Nanoseconds(last_done_ns - start_ns);
    return report;
  }

 private:
  // Open loop: call i is due at start + i / rate, whatever the answers.
  void SendOnSchedule(int64_t start_ns, LoadReport* report) {
    const double interval_ns = 1e9 / options_.rate;
    const double window_ns = static_cast<double>(end_ns_ - start_ns);
    for (int64_t i = 0;; ++i) {
      const double offset_ns = std::floor(static_cast<double>(i) * interval_ns);
      if (offset_ns >= window_ns) break;
      const int64_t due_ns = start_ns + static_cast<int64_t>(offset_ns);
      int64_t now_ns = NowNs();
      if (now_ns < due_ns) {
        SleepUntilNs(due_ns);
        now_ns = NowNs();
      }
      report->max_send_lag_ns =
          std::max(report->max_send_lag_ns, now_ns - due_ns);
      ++report->scheduled;
      // Only this thread adds to in_flight_, so the check cannot go stale
      // upwards.
      if (in_flight_.load() >= options_.concurrency) {
        ++report->dropped;
        continue;
      }
      in_flight_.fetch_add(1);
      Issue(due_ns, i % cqs_.size());
    }
  }

  // Starts one call measured from `start_ns` on queue `cq_index`. The caller
  // has counted it in in_flight_.
  void Issue(int64_t start_ns, size_t cq_index) {
    const int64_t n = sent_.fetch_add(1);
    auto call = std::make_unique<Call>();
    call->start_ns = start_ns;
    call->context.set_deadline(std::chrono::system_clock::now() +
                               absl::ToChronoNanoseconds(options_.timeout));
    client::AddApiKey(api_key_, &call->context);
    call->reader = stubs_[n % stubs_.size()]->PrepareAsyncIssuePlayback(
        &call->context, request_, cqs_[cq_index].get());
    call->reader->StartCall();
    Call* tag = call.release();
    tag->reader->Finish(&tag->response, &tag->status, tag);
  }

  void Poll(size_t index) {
    ThreadStats& stats = stats_[index];
    void* tag = nullptr;
    bool ok = false;
    while (cqs_[index]->Next(&tag, &ok)) {
      std::unique_ptr<Call> call(static_cast<Call*>(tag));
      const int64_t now_ns = NowNs();
      const int code = call->status.error_code();
      if (code == grpc::StatusCode::OK) {
        ++stats.ok;
        stats.latency_ns.Record(now_ns - call->start_ns);
      } else if (code > 0 && code < kKnownCodes) {
        ++stats.errors[code];
      } else {
        ++stats.unknown_code_errors;
      }
      stats.last_done_ns = now_ns;
      if (closed_loop_ && now_ns < end_ns_) {
        Issue(now_ns, index);  // takes over this call's place in in_flight_
      } else {
        in_flight_.fetch_sub(1);
      }
    }
  }

  const LoadOptions options_;
  std::string api_key_;
  std::shared_ptr<grpc::ChannelCredentials> credentials_;
  v1::IssuePlaybackRequest request_;
  std::vector<std::shared_ptr<grpc::Channel>> channels_;
  std::vector<std::unique_ptr<v1::PlaybackService::Stub>> stubs_;
  std::vector<std::unique_ptr<grpc::CompletionQueue>> cqs_;
  std::vector<ThreadStats> stats_;
  bool closed_loop_ = false;
  int64_t end_ns_ = 0;
  std::atomic<int64_t> sent_{0};
  std::atomic<int> in_flight_{0};
};

}  // namespace

absl::StatusOr<LoadReport> RunLoad(const LoadOptions& options) {
  LoadEngine engine(options);
  if (absl::Status s = engine.LoadCredentials(); !s.ok()) return s;
  if (absl::Status s = engine.Connect(); !s.ok()) return s;
  return engine.Run();
}

}  // namespace edgepass::load
