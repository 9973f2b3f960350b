#include "server/app/server_metrics.h"

#include <algorithm>
#include <array>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "core/keyring.h"
#include "obs/bounded_family.h"
#include "obs/callback_collector.h"
#include "obs/striped_family.h"
#include "prometheus/counter.h"
#include "prometheus/registry.h"
#include "server/app/edge_sync_hub.h"
#include "server/app/key_rotator.h"
#include "server/app/live_state.h"
#include "server/app/revocation_pruner.h"
#include "server/state/secret_store.h"

namespace edgepass::server {
namespace {

using prometheus::Counter;

constexpr int kMaxStatusCode = 16;  // UNAUTHENTICATED; absl and gRPC number codes alike

// Caps on label sets per family (see obs::LabelSetIndex).
constexpr size_t kMaxTokenLabelSets = 2000;  // assets x outcomes
constexpr size_t kMaxGrpcLabelSets = 400;    // methods x codes
constexpr size_t kMaxGrpcMethods = 64;
constexpr size_t kMaxHttpLabelSets = 400;    // routes x codes
constexpr size_t kMaxHttpRoutes = 64;

// 50 us to 1 s: signing is tens of microseconds, a cold keyring read more.
const std::vector<double> kIssueBuckets = {0.00005, 0.0001, 0.00025, 0.0005, 0.001,
                                           0.0025,  0.005,  0.01,    0.025,  0.05,
                                           0.1,     0.25,   0.5,     1};
// 0.5 ms to 10 s for whole requests.
const std::vector<double> kRequestBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01,
                                             0.025,  0.05,  0.1,    0.25,  0.5,
                                             1,      2.5,   5,      10};

// Names of codes 0..16, built once: "OK", "NOT_FOUND", ...
const std::array<std::string, kMaxStatusCode + 1>& CodeNames() {
  static const auto* names = [] {
    auto* n = new std::array<std::string, kMaxStatusCode + 1>;
    for (int i = 0; i <= kMaxStatusCode; ++i) {
      (*n)[i] = absl::StatusCodeToString(static_cast<absl::StatusCode>(i));
    }
    return n;
  }();
  return *names;
}

const std::array<std::string, kMaxStatusCode + 1>& OutcomeNames() {
  static const auto* names = [] {
    auto* n = new std::array<std::string, kMaxStatusCode + 1>;
    for (int i = 0; i <= kMaxStatusCode; ++i) (*n)[i] = absl::AsciiStrToLower(CodeNames()[i]);
    return n;
  }();
  return *names;
}

absl::string_view GrpcCodeName(int code) {
  return code >= 0 && code <= kMaxStatusCode ? absl::string_view(CodeNames()[code]) : "UNKNOWN";
}

double Seconds(absl::Duration d) { return absl::ToDoubleSeconds(d); }

}  // namespace

absl::string_view OutcomeName(absl::StatusCode code) {
  const int i = static_cast<int>(code);
  return i >= 0 && i <= kMaxStatusCode ? absl::string_view(OutcomeNames()[i]) : "unknown";
}

// The six families every call records are striped (obs/striped_family.h):
// prometheus-cpp's children would make all serving threads write one atomic
// per counter and take a mutex per histogram observation. The rare ones stay
// in the prometheus-cpp registry.
struct ServerMetrics::Families {
  std::shared_ptr<obs::StripedCounterFamily> tokens_issued =
      std::make_shared<obs::StripedCounterFamily>(
          "edgepass_tokens_issued_total",
          "IssuePlayback and IssueToken calls, by asset, token scheme and outcome.",
          std::vector<std::string>{"asset", "scheme", "outcome"}, kMaxTokenLabelSets);
  std::shared_ptr<obs::StripedHistogramFamily> issue_seconds =
      std::make_shared<obs::StripedHistogramFamily>(
          "edgepass_token_issue_duration_seconds",
          "Time the playback service spent per issue call (lookup, keyring, signing).",
          std::vector<std::string>{}, 1, kIssueBuckets);
  obs::StripedHistogram& issue_seconds_child = issue_seconds->Get({});
  std::shared_ptr<obs::StripedCounterFamily> grpc_requests =
      std::make_shared<obs::StripedCounterFamily>(
          "edgepass_grpc_requests_total", "gRPC calls served, by full method name and status code.",
          std::vector<std::string>{"method", "code"}, kMaxGrpcLabelSets);
  std::shared_ptr<obs::StripedHistogramFamily> grpc_seconds =
      std::make_shared<obs::StripedHistogramFamily>(
          "edgepass_grpc_request_duration_seconds",
          "Time from a unary gRPC call's start to its status, by method.",
          std::vector<std::string>{"method"}, kMaxGrpcMethods, kRequestBuckets);
  std::shared_ptr<obs::StripedCounterFamily> http_requests =
      std::make_shared<obs::StripedCounterFamily>(
          "edgepass_http_requests_total", "HTTP requests served, by route template and status code.",
          std::vector<std::string>{"route", "code"}, kMaxHttpLabelSets);
  std::shared_ptr<obs::StripedHistogramFamily> http_seconds =
      std::make_shared<obs::StripedHistogramFamily>(
          "edgepass_http_request_duration_seconds",
          "Time to serve an HTTP request, by route template.",
          std::vector<std::string>{"route"}, kMaxHttpRoutes, kRequestBuckets);
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  obs::BoundedFamily<Counter> key_rotations{
      prometheus::BuildCounter()
          .Name("edgepass_key_rotations_total")
          .Help("Signing key rotations, by outcome.")
          .Register(*registry),
      {"outcome"}, kMaxStatusCode + 1};
};

ServerMetrics::ServerMetrics(Clock clock)
    : clock_(std::move(clock)),
      families_(std::make_unique<Families>()),
      state_(std::make_shared<obs::CallbackCollector>()) {}

ServerMetrics::~ServerMetrics() = default;

std::vector<std::shared_ptr<prometheus::Collectable>> ServerMetrics::collectables() const {
  // The order a registry of all of them gave (counters, then histograms), so
  // the scrape reads as before.
  return {families_->tokens_issued, families_->grpc_requests, families_->http_requests,
          families_->registry,      families_->issue_seconds, families_->grpc_seconds,
          families_->http_seconds,  state_};
}

void ServerMetrics::RecordTokenIssue(absl::string_view asset, absl::string_view scheme,
                                     const absl::Status& outcome, absl::Duration elapsed) {
  families_->tokens_issued->Get({asset, scheme, OutcomeName(outcome.code())}).Increment();
  families_->issue_seconds_child.Observe(Seconds(elapsed));
}

void ServerMetrics::RecordGrpcRequest(absl::string_view method, int code, absl::Duration elapsed,
                                      bool unary) {
  families_->grpc_requests->Get({method, GrpcCodeName(code)}).Increment();
  if (unary) families_->grpc_seconds->Get({method}).Observe(Seconds(elapsed));
}

void ServerMetrics::RecordHttpRequest(absl::string_view route, int status, absl::Duration elapsed) {
  const std::string code = status >= 100 && status <= 599 ? absl::StrCat(status) : "(invalid)";
  families_->http_requests->Get({route, code}).Increment();
  families_->http_seconds->Get({route}).Observe(Seconds(elapsed));
}

void ServerMetrics::RecordKeyRotation(const absl::Status& outcome) {
  families_->key_rotations.Get({OutcomeName(outcome.code())}).Increment();
}

void ServerMetrics::WatchLiveState(const LiveState* live) {
  state_->AddGauge("edgepass_revocation_list_entries",
                   "Revoked sessions on the compiled list sent to validators.",
                   [live] { return static_cast<double>(live->edge()->revoked.size()); });
  state_->AddGauge("edgepass_edge_version", "Edge-sync version validators are sent.",
                   [live] { return static_cast<double>(live->edge()->version); });
  state_->AddCounter("edgepass_revocation_resyncs_total",
                     "Full reloads of the revocation list after a consistency check found it out of step "
                     "with the store.",
                     [live] { return static_cast<double>(live->resyncs()); });
  state_->AddFamily(
      "edgepass_signing_key_age_seconds",
      "Seconds since the primary signing key was created (absent without a primary key).",
      prometheus::MetricType::Gauge, [live, clock = clock_]() -> std::vector<obs::Sample> {
        std::shared_ptr<const EdgeSnapshot> edge = live->edge();
        const core::SigningKey* primary = edge->keyring ? edge->keyring->Primary() : nullptr;
        if (primary == nullptr) return {};
        return {{{}, Seconds(clock() - primary->created_at)}};
      });
}

void ServerMetrics::WatchKeyRotator(const KeyRotator* rotator) {
  state_->AddGauge("edgepass_key_rotation_stalled",
                   "1 while the last key rotation stopped on its acknowledgement deadline.",
                   [rotator] { return rotator->state().stalled ? 1.0 : 0.0; });
  state_->AddGauge("edgepass_key_rotation_in_progress", "1 while this replica rotates the keys.",
                   [rotator] { return rotator->state().in_progress ? 1.0 : 0.0; });
  state_->AddFamily("edgepass_key_rotation_last_success_timestamp_seconds",
                    "Unix time of this replica's last successful key rotation (absent before one).",
                    prometheus::MetricType::Gauge, [rotator]() -> std::vector<obs::Sample> {
                      const absl::Time t = rotator->state().last_success;
                      if (t == absl::InfinitePast()) return {};
                      return {{{}, absl::ToDoubleSeconds(t - absl::UnixEpoch())}};
                    });
}

void ServerMetrics::WatchRevocationPruner(const RevocationPruner* pruner) {
  state_->AddCounter("edgepass_revocations_pruned_total",
                     "Revoked sessions this replica dropped from the store after they expired "
                     "(--revocation-prune-interval).",
                     [pruner] { return static_cast<double>(pruner->pruned()); });
}

void ServerMetrics::WatchEdgeSync(const EdgeSyncHub* edge_sync, const LiveState* live) {
  auto summary = [edge_sync, live] { return edge_sync->Summarize(live->edge()->version); };
  state_->AddGauge("edgepass_edge_validators_connected",
                   "Edge validators with an open edge-sync stream to this replica.",
                   [summary] { return static_cast<double>(summary().connected); });
  state_->AddGauge("edgepass_edge_validators_behind",
                   "Connected validators whose acknowledged version is below the edge version.",
                   [summary] { return static_cast<double>(summary().behind); });
  state_->AddGauge("edgepass_edge_validator_lag_versions_max",
                   "Largest edge version minus acknowledged version among connected validators.",
                   [summary] { return static_cast<double>(summary().max_lag); });
}

void ServerMetrics::WatchSecretStore(const SecretStore* store) {
  state_->AddCounter("edgepass_secret_store_reads_total",
                     "Keyring reads from the secrets store, successful or not.",
                     [store] { return static_cast<double>(store->read_count()); });
  state_->AddCounter("edgepass_secret_store_read_errors_total",
                     "Keyring reads from the secrets store that failed.",
                     [store] { return static_cast<double>(store->read_error_count()); });
}

void ServerMetrics::WatchRedis(std::function<CallCounts()> counts) {
  state_->AddCounter("edgepass_redis_commands_total", "Commands sent to Redis.",
                     [counts] { return static_cast<double>(counts().calls); });
  state_->AddCounter("edgepass_redis_errors_total",
                     "Redis calls that failed (connect, I/O, timeout, pool exhausted).",
                     [counts] { return static_cast<double>(counts().errors); });
}

void ServerMetrics::WatchRedisFailovers(std::function<int64_t()> failovers) {
  state_->AddCounter("edgepass_redis_failovers_total",
                     "Sentinel mode: times this replica moved to a new Redis primary (a followed failover).",
                     [failovers] { return static_cast<double>(failovers()); });
}

}  // namespace edgepass::server
