// edgepass-validator's Prometheus metrics, read at every scrape from what the
// sidecar keeps anyway (SidecarStats, the StateSink, the edge-sync
// subscriber), so decisions are counted in one place for both /stats and
// /metrics. Served on its own port (--metrics-addr) by obs::MetricsEndpoint.
//
//   auto metrics = SidecarMetrics(&stats, &sink, [&sync] {
//     return !sync.connected_server().empty(); });
//   auto endpoint = obs::MetricsEndpoint::Start("127.0.0.1:9465", {metrics});
//
// Families (all label values from fixed sets):
//   edgepass_validator_validations_total{outcome,reason}  counter: auth
//     checks. outcome allowed (reason "ok"), denied / would_deny (reason:
//     core::ReasonName, e.g. "expired"; every pair is always present),
//     unchecked (mode off) and bad_request (reason "none").
//   edgepass_validator_http_requests_total{route,code}  counter: responses.
//     route "/auth" (every path but the two below), "/healthz", "/stats";
//     code the HTTP status ("other" outside 100-599). Requests the HTTP
//     layer refuses before the handler (malformed, oversized) are not counted.
//   edgepass_validator_ready             gauge: 1 once ready (StateSink::ready)
//   edgepass_validator_state_version     gauge: edge-sync version applied
//   edgepass_validator_revoked_sessions  gauge: revoked session ids held
//   edgepass_validator_keys              gauge: keys held
//   edgepass_validator_edge_sync_connected  gauge: 1 while streaming from a
//     server (only when edge sync is configured)
#ifndef EDGEPASS_CLIENT_SIDECAR_SIDECAR_METRICS_H_
#define EDGEPASS_CLIENT_SIDECAR_SIDECAR_METRICS_H_

#include <functional>
#include <memory>

#include "client/sidecar/sidecar_stats.h"
#include "client/sidecar/state_sink.h"
#include "prometheus/collectable.h"

namespace edgepass::sidecar {

// A collectable over `stats` and `sink`, which must outlive every scrape (the
// endpoint serving it). `connected` tells whether the edge-sync subscriber
// has a stream open; pass nullptr when there is no subscriber. Thread-safe.
std::shared_ptr<prometheus::Collectable> SidecarMetrics(
    const SidecarStats* stats, const StateSink* sink,
    std::function<bool()> connected);

}  // namespace edgepass::sidecar

#endif  // EDGEPASS_CLIENT_SIDECAR_SIDECAR_METRICS_H_
