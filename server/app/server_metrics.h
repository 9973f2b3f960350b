// edgepass-server's Prometheus metrics: every family's name (below, in one
// place), the calls the services make when something happens, and the state
// read when /metrics is scraped. Served on its own port (--metrics-addr) by
// an obs::MetricsEndpoint.
//
//   ServerMetrics metrics;
//   metrics.WatchLiveState(&live);
//   auto endpoint = obs::MetricsEndpoint::Start("127.0.0.1:9464", metrics.collectables());
//   metrics.RecordHttpRequest("/v1/assets/{id}", 200, absl::Milliseconds(3));
//
// Families (label values in brackets):
//   edgepass_tokens_issued_total{asset,scheme,outcome}   counter: IssuePlayback and IssueToken
//       calls. asset: the catalog id, "(unknown)" when the request named no
//       known asset, "(inline)" for IssueToken; scheme: "smd-token"; outcome:
//       "ok" or the status code in lower case ("not_found", "unavailable", ...).
//   edgepass_token_issue_duration_seconds                histogram: the service's work per call
//   edgepass_grpc_requests_total{method,code}            counter: every gRPC call; method
//       "/package.Service/Method" (unknown methods: "(unknown)"), code "OK", "NOT_FOUND", ...
//   edgepass_grpc_request_duration_seconds{method}       histogram: unary calls only
//   edgepass_http_requests_total{route,code}             counter: RecordHttpRequest
//   edgepass_http_request_duration_seconds{route}        histogram: RecordHttpRequest
//   edgepass_key_rotations_total{outcome}                counter: rotations this replica ran
//       (it held the lock), outcome "ok", "deadline_exceeded", ...; appears with the first one
//   edgepass_key_rotation_stalled                        gauge: 1 while the last rotation stopped
//       on its acknowledgement deadline (until one succeeds)
//   edgepass_key_rotation_in_progress                    gauge: 1 while this replica rotates
//   edgepass_key_rotation_last_success_timestamp_seconds gauge: this replica's last good
//       rotation (absent before one)
//   edgepass_secret_store_reads_total                    counter: secrets-store reads
//   edgepass_secret_store_read_errors_total              counter: failed secrets-store reads
//   edgepass_redis_commands_total                        counter: commands sent to Redis
//   edgepass_redis_errors_total                          counter: failed Redis calls
//   edgepass_redis_failovers_total                       counter: Sentinel mode: primary changes followed
//   edgepass_revocation_list_entries                     gauge: sessions on the compiled list
//   edgepass_edge_version                                gauge: version validators are sent
//   edgepass_revocation_resyncs_total                    counter: full reloads of the revocation
//       list because the periodic check found it out of step with the store
//   edgepass_revocations_pruned_total                    counter: expired revoked sessions this
//       replica's prunes dropped from the store
//   edgepass_signing_key_age_seconds                     gauge: since the primary key's creation
//   edgepass_edge_validators_connected                   gauge: validators with an open stream
//   edgepass_edge_validators_behind                      gauge: connected, acked < edge version
//   edgepass_edge_validator_lag_versions_max             gauge: largest edge version - acked
// Every labelled family has a cap on its label sets; sets past it are counted
// under "(other)" (obs::LabelSetIndex), so a scrape stays bounded.
#ifndef EDGEPASS_SERVER_APP_SERVER_METRICS_H_
#define EDGEPASS_SERVER_APP_SERVER_METRICS_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "prometheus/collectable.h"

namespace edgepass::obs {
class CallbackCollector;
}  // namespace edgepass::obs

namespace edgepass::server {

class EdgeSyncHub;
class KeyRotator;
class LiveState;
class RevocationPruner;
class SecretStore;

inline constexpr absl::string_view kInlinePolicyAsset = "(inline)";
inline constexpr absl::string_view kUnknownAsset = "(unknown)";
inline constexpr absl::string_view kUnknownGrpcMethod = "(unknown)";

// Calls to a dependency so far, and how many of them failed.
struct CallCounts {
  int64_t calls = 0;
  int64_t errors = 0;
};

// Thread-safe. The Record* calls are cheap (a hash lookup without a lock,
// then relaxed adds on the calling thread's stripe of each child; no mutex)
// and may be made from any thread.
class ServerMetrics {
 public:
  using Clock = std::function<absl::Time()>;

  // `clock` dates the key age at scrape time (tests pass a fixed one).
  explicit ServerMetrics(Clock clock = [] { return absl::Now(); });
  ~ServerMetrics();
  ServerMetrics(const ServerMetrics&) = delete;
  ServerMetrics& operator=(const ServerMetrics&) = delete;

  // What a MetricsEndpoint serves (and obs::MetricsText reads in tests).
  std::vector<std::shared_ptr<prometheus::Collectable>> collectables() const;

  // One IssuePlayback / IssueToken call: `asset` is the catalog id (or
  // kUnknownAsset / kInlinePolicyAsset), `scheme` the asset's token scheme,
  // `outcome` what the call returned, `elapsed` the time it took.
  void RecordTokenIssue(absl::string_view asset, absl::string_view scheme,
                        const absl::Status& outcome, absl::Duration elapsed);

  // One finished gRPC call (the interceptor of grpc_metrics_interceptor.h
  // calls this, and GrpcServices for the methods it records itself).
  // `method` is "/package.Service/Method" of a registered method, or
  // kUnknownGrpcMethod; `code` a grpc::StatusCode value. The
  // latency histogram gets `elapsed` only when `unary` (a stream's lifetime
  // is not a latency).
  void RecordGrpcRequest(absl::string_view method, int code, absl::Duration elapsed, bool unary);

  // One HTTP request served (for the REST gateway). `route` MUST be the
  // route's template as registered, e.g. "/v1/assets/{id}", never the raw
  // request path (ids in paths would make one series per id; the cap would
  // then fold every route into "(other)"). Requests that match no route:
  // pass "(unmatched)". `status` is the HTTP status code sent.
  void RecordHttpRequest(absl::string_view route, int status, absl::Duration elapsed);

  // One key rotation and how it ended ("ok" or the lower-case code name).
  void RecordKeyRotation(const absl::Status& outcome);

  // Sources read at scrape time. Each must stay valid while an endpoint
  // serves collectables() (destroy the endpoint first). Call each once,
  // before the endpoint starts.
  // Revocation list entries, edge version and signing key age.
  void WatchLiveState(const LiveState* live);
  // Connected validators and their lag behind live's edge version.
  void WatchEdgeSync(const EdgeSyncHub* edge_sync, const LiveState* live);
  // Whether rotation stalled, runs, and last succeeded.
  void WatchKeyRotator(const KeyRotator* rotator);
  // Revoked sessions this replica pruned.
  void WatchRevocationPruner(const RevocationPruner* pruner);
  // Secrets-store reads and failed reads.
  void WatchSecretStore(const SecretStore* store);
  // Redis commands and failed calls (RedisClient::command_count() /
  // error_count(); a function, so this library needs no Redis).
  void WatchRedis(std::function<CallCounts()> counts);
  // Sentinel mode: times the client moved to a new primary
  // (RedisClient::failover_count()).
  void WatchRedisFailovers(std::function<int64_t()> failovers);

 private:
  struct Families;

  const Clock clock_;
  std::unique_ptr<Families> families_;
  std::shared_ptr<obs::CallbackCollector> state_;
};

// "ok", or the status code's name in lower case ("not_found", ...).
absl::string_view OutcomeName(absl::StatusCode code);

}  // namespace edgepass::server

#endif  // EDGEPASS_SERVER_APP_SERVER_METRICS_H_
