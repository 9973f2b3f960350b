#include "client/sidecar/sidecar_metrics.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "obs/callback_collector.h"

namespace edgepass::sidecar {
namespace {

using obs::Sample;

std::vector<Sample> Validations(const SidecarStats& stats) {
  std::vector<Sample> samples;
  samples.reserve(3 + 2 * (kReasonCount - 1));
  auto add = [&samples](absl::string_view outcome, absl::string_view reason,
                        uint64_t n) {
    samples.push_back(
        {{{"outcome", std::string(outcome)}, {"reason", std::string(reason)}},
         static_cast<double>(n)});
  };
  add("allowed", core::ReasonName(core::Reason::kOk), stats.allowed());
  for (size_t i = 1; i < kReasonCount; ++i) {  // every deny reason, even at 0
    const auto reason = static_cast<core::Reason>(i);
    add("denied", core::ReasonName(reason), stats.denied(reason));
  }
  for (size_t i = 1; i < kReasonCount; ++i) {
    const auto reason = static_cast<core::Reason>(i);
    add("would_deny", core::ReasonName(reason), stats.would_deny(reason));
  }
  add("unchecked", "none", stats.unchecked());
  add("bad_request", "none", stats.bad_request());
  return samples;
}

std::vector<Sample> HttpRequests(const SidecarStats& stats) {
  std::vector<Sample> samples;
  for (size_t e = 0; e < kEndpointCount; ++e) {
    const auto endpoint = static_cast<SidecarEndpoint>(e);
    auto add = [&](int status, std::string code) {
      const uint64_t n = stats.responses(endpoint, status);
      if (n == 0) return;  // only codes that occurred: 1,500 pairs otherwise
      samples.push_back({{{"route", std::string(EndpointName(endpoint))},
                          {"code", std::move(code)}},
                         static_cast<double>(n)});
    };
    for (int status = kMinCountedStatus; status <= kMaxCountedStatus;
         ++status) {
      add(status, absl::StrCat(status));
    }
    add(kOtherStatus, "other");
  }
  return samples;
}

}  // namespace

std::shared_ptr<prometheus::Collectable> SidecarMetrics(
    const SidecarStats* stats, const StateSink* sink,
    std::function<bool()> connected) {
  auto metrics = std::make_shared<obs::CallbackCollector>();
  metrics->AddFamily("edgepass_validator_validations_total",
                     "Auth checks, by outcome and deny reason.",
                     prometheus::MetricType::Counter,
                     [stats] { return Validations(*stats); });
  metrics->AddFamily("edgepass_validator_http_requests_total",
                     "HTTP responses sent, by endpoint and status code.",
                     prometheus::MetricType::Counter,
                     [stats] { return HttpRequests(*stats); });
  metrics->AddGauge("edgepass_validator_ready",
                    "1 once a keyring with at least one key is held (and, with --module-state, written there).",
                    [sink] { return sink->ready() ? 1.0 : 0.0; });
  metrics->AddGauge(
      "edgepass_validator_state_version",
      "Edge-sync version of the state applied (0 for static files).",
      [sink] { return static_cast<double>(sink->version()); });
  metrics->AddGauge(
      "edgepass_validator_revoked_sessions", "Revoked session ids held.",
      [sink] { return static_cast<double>(sink->revoked_count()); });
  metrics->AddGauge("edgepass_validator_keys", "Signing keys held.",
                    [sink] { return static_cast<double>(sink->key_count()); });
  if (connected) {
    metrics->AddGauge(
        "edgepass_validator_edge_sync_connected",
        "1 while an edge-sync stream to a server is open.",
        [connected = std::move(connected)] { return connected() ? 1.0 : 0.0; });
  }
  return metrics;
}

}  // namespace edgepass::sidecar
