// edgepass-validator: wiring only. Options -> credentials -> initial state ->
// validator -> HTTP server for nginx auth_request; runs until SIGTERM/SIGINT.
// Logs one JSON object per line on stderr (logging/json_log.h).
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/channel/api_key.h"
#include "client/channel/grpc_channel_tls.h"
#include "client/channel/plaintext_guard.h"
#include "client/sidecar/edge_sync_client.h"
#include "client/sidecar/event_log.h"
#include "client/sidecar/file_snapshot_store.h"
#include "client/sidecar/initial_state.h"
#include "client/sidecar/route_modes.h"
#include "client/sidecar/sidecar_metrics.h"
#include "client/sidecar/sidecar_options.h"
#include "client/sidecar/sidecar_service.h"
#include "client/sidecar/sidecar_stats.h"
#include "client/sidecar/state_sink.h"
#include "client/validator/edge_validator.h"
#include "http/http_server.h"
#include "logging/json_log.h"
#include "obs/metrics_endpoint.h"

namespace edgepass::sidecar {
namespace {

constexpr int kExitRuntime = 1;
constexpr int kExitConfig = 2;

// The name this validator reports to the servers: EDGEPASS_VALIDATOR_ID, or
// the host name (the pod name on Kubernetes).
std::string ValidatorId() {
  if (const char* id = std::getenv("EDGEPASS_VALIDATOR_ID");
      id != nullptr && *id != '\0')
    return id;
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0')
    return "edgepass-validator";
  return host;
}

int ConfigError(absl::string_view message) {
  logging::Error("bad_configuration").Str("error", message);
  return kExitConfig;
}

// A listener that did not start: bad configuration (exit 2) when the address
// is invalid, a runtime failure (exit 1) otherwise.
int StartError(absl::string_view what, const absl::Status& status) {
  logging::Error("start_failed")
      .Str("what", what)
      .Str("error", status.message());
  return status.code() == absl::StatusCode::kInvalidArgument ? kExitConfig
                                                             : kExitRuntime;
}

// The subscriber's options with the credentials read from their files; a
// bad file is a configuration error. Call after the stop signals are
// blocked: loading credentials starts gRPC's threads.
absl::StatusOr<EdgeSyncClientOptions> EdgeSyncOptions(
    const SidecarOptions& options) {
  EdgeSyncClientOptions sync{.servers = options.servers,
                             .validator_id = ValidatorId()};
  if (!options.api_key_file.empty()) {
    absl::StatusOr<std::string> key =
        client::ReadApiKeyFile(options.api_key_file);
    if (!key.ok()) {
      return absl::Status(
          key.status().code(),
          absl::StrCat("--api-key-file: ", key.status().message()));
    }
    sync.api_key = *std::move(key);
  }
  if (!options.server_ca_file.empty()) {
    absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
        client::MakeGrpcChannelCredentials(
            {.ca_file = options.server_ca_file,
             .cert_file = options.client_cert_file,
             .key_file = options.client_key_file});
    if (!credentials.ok()) {
      return absl::Status(
          credentials.status().code(),
          absl::StrCat("--server-ca/--client-cert/--client-key: ",
                       credentials.status().message()));
    }
    sync.credentials = *std::move(credentials);
  }
  return sync;
}

int Run(const std::vector<std::string>& args) {
  logging::SetComponent("edgepass-validator");
  absl::StatusOr<SidecarOptions> options = ParseSidecarOptions(
      args, [](const char* name) { return std::getenv(name); });
  if (!options.ok()) return ConfigError(options.status().message());
  if (options->help) {
    std::cout << SidecarUsage();
    return 0;
  }
  if (options->server_ca_file.empty()) {
    std::vector<std::string> remote;
    for (const std::string& server : options->servers) {
      if (!client::IsLoopbackTarget(server))
        remote.push_back(server);
    }
    if (!remote.empty()) {  // only with --insecure-plaintext (options check)
      logging::Warning("insecure_plaintext")
          .Str("servers", absl::StrJoin(remote, ","))
          .Str("detail",
               "--insecure-plaintext: edge sync with these servers has no "
               "TLS; the HMAC keys they stream and the API key cross the "
               "network in cleartext. Give --server-ca.");
    }
  }
  absl::StatusOr<RouteModes> modes = RouteModes::Create(options->modes);
  if (!modes.ok()) return ConfigError(modes.status().message());
  absl::StatusOr<std::unique_ptr<CloudFrontAuth>> cloudfront =
      CloudFrontAuthFromOptions(*options);
  if (!cloudfront.ok()) return ConfigError(cloudfront.status().message());

  // Block the stop signals before any thread starts (edge sync, metrics,
  // HTTP), so only the sigtimedwait() below sees them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  absl::StatusOr<EdgeSyncClientOptions> sync_options;
  if (!options->servers.empty()) {
    sync_options = EdgeSyncOptions(*options);
    if (!sync_options.ok()) return ConfigError(sync_options.status().message());
  }

  std::unique_ptr<FileSnapshotStore> store;
  if (!options->snapshot_file.empty()) {
    store = std::make_unique<FileSnapshotStore>(options->snapshot_file);
  }
  absl::StatusOr<std::optional<ValidatorState>> initial =
      LoadInitialState(*options, store.get(), LogEvent);
  if (!initial.ok()) return ConfigError(initial.status().message());

  client::EdgeValidator validator(
      core::Keyring{}, core::RevocationSet{},
      core::ValidateOptions{.leeway = options->leeway});
  StateSink sink(&validator, store.get());
  if (!options->module_state_file.empty()) {
    sink.set_module_state_file(options->module_state_file);
  }
  // The edge-sync subscriber resumes from what was loaded.
  ValidatorState resume_from =
      initial->has_value() ? **initial : ValidatorState{};
  if (initial->has_value()) {
    const bool from_static = !options->keyring_file.empty();
    StateSink::Timing timing;
    sink.ApplyState(**std::move(initial), &timing).IgnoreError();  // each failure logged here
    // Validating matters more than persisting: say so, keep going (the loop
    // below retries a module state).
    if (!timing.module_state.ok()) logging::Error("module_state_failed").Str("error", timing.module_state.message());
    if (!timing.snapshot.ok()) logging::Error("snapshot_save_failed").Str("error", timing.snapshot.message());
    logging::Info("state_loaded")
        .Str("source", from_static ? "static files" : "snapshot")
        .Int("version", static_cast<int64_t>(sink.version()))
        .Int("revoked", static_cast<int64_t>(sink.revoked_count()));
  }
  std::unique_ptr<EdgeSyncClient> edge_sync;
  if (!options->servers.empty()) {
    edge_sync = std::make_unique<EdgeSyncClient>(*std::move(sync_options),
                                                 &sink, resume_from, LogEvent);
    edge_sync->Start();
  }

  SidecarStats stats;
  SidecarService service(&validator, &sink, *std::move(modes), &stats,
                         LogEvent);

  // Metrics on their own port; declared after what they read, so they stop
  // serving before it goes.
  std::unique_ptr<obs::MetricsEndpoint> metrics;
  if (!options->metrics_addr.empty()) {
    std::function<bool()> connected;
    if (edge_sync != nullptr) {
      connected = [sync = edge_sync.get()] {
        return !sync->connected_server().empty();
      };
    }
    absl::StatusOr<std::unique_ptr<obs::MetricsEndpoint>> started =
        obs::MetricsEndpoint::Start(
            options->metrics_addr,
            {SidecarMetrics(&stats, &sink, std::move(connected))});
    if (!started.ok()) return StartError("metrics", started.status());
    metrics = *std::move(started);
  }

  service.set_cloudfront(cloudfront->get());
  http::ServerOptions http_options;
  http_options.host = options->listen_host;
  http_options.port = options->listen_port;
  http_options.threads = options->threads;
  http_options.idle_timeout = options->idle_timeout;
  http_options.max_body_bytes = 64 * 1024;  // auth subrequests carry no body
  absl::StatusOr<std::unique_ptr<http::Server>> server = http::Server::Start(
      http_options,
      [&service](const http::Request& r) { return service.Handle(r); });
  if (!server.ok()) return StartError("http", server.status());
  // The start line tools and tests wait for (tests/e2e/edge_stack.cc).
  const bool mtls = !options->client_cert_file.empty();
  logging::Info("listening")
      .Str("http", (*server)->address())
      .Str("metrics", metrics != nullptr ? metrics->address() : "off")
      .Str("edge_sync", options->servers.empty()
                            ? "off"
                            : absl::StrJoin(options->servers, ","))
      .Str("edge_sync_tls", options->server_ca_file.empty() ? "off"
                            : mtls                          ? "mtls"
                                                            : "on")
      .Str("edge_sync_auth", !options->api_key_file.empty() ? "api key"
                             : mtls ? "client certificate"
                                    : "none")
      .Int("version", static_cast<int64_t>(sink.version()))
      .Bool("ready", sink.ready());

  // Until a stop signal. A module state that could not be written is tried
  // again every second: here for static files (applied once) and while no
  // edge-sync stream is open, by the edge-sync client (which acknowledges
  // it then) while one is.
  const timespec second{.tv_sec = 1, .tv_nsec = 0};
  int signal_number = 0;
  while ((signal_number = sigtimedwait(&stop_signals, nullptr, &second)) < 0) {
    if (edge_sync != nullptr && !edge_sync->connected_server().empty()) continue;
    uint64_t written = 0;
    absl::StatusOr<bool> retried = sink.RetryModuleState(&written);
    if (retried.ok() && *retried) {
      logging::Info("module_state_written").Int("version", static_cast<int64_t>(written));
    }
  }
  logging::Info("stopping").Str("signal", strsignal(signal_number));
  if (edge_sync != nullptr) edge_sync->Stop();
  (*server)->Stop();
  logging::Info("stopped");
  return 0;
}

}  // namespace
}  // namespace edgepass::sidecar

int main(int argc, char** argv) {
  return edgepass::sidecar::Run(
      std::vector<std::string>(argv + 1, argv + argc));
}
