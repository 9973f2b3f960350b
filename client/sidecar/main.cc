// edgepass-validator: wiring only. Options -> initial state -> validator ->
// HTTP server for nginx auth_request; runs until SIGTERM/SIGINT.
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/sidecar/edge_sync_client.h"
#include "client/sidecar/file_snapshot_store.h"
#include "client/sidecar/initial_state.h"
#include "client/sidecar/route_modes.h"
#include "client/sidecar/sidecar_metrics.h"
#include "client/sidecar/sidecar_options.h"
#include "client/sidecar/sidecar_service.h"
#include "client/sidecar/sidecar_stats.h"
#include "client/sidecar/state_sink.h"
#include "client/validator/edge_validator.h"
#include "http/http_message.h"
#include "http/http_server.h"
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
  std::cerr << "edgepass-validator: " << message << "\n";
  return kExitConfig;
}

int Run(const std::vector<std::string>& args) {
  absl::StatusOr<SidecarOptions> options = ParseSidecarOptions(
      args, [](const char* name) { return std::getenv(name); });
  if (!options.ok()) return ConfigError(options.status().message());
  if (options->help) {
    std::cout << SidecarUsage();
    return 0;
  }
  absl::StatusOr<RouteModes> modes = RouteModes::Create(options->modes);
  if (!modes.ok()) return ConfigError(modes.status().message());
  absl::StatusOr<std::unique_ptr<CloudFrontAuth>> cloudfront =
      CloudFrontAuthFromOptions(*options);
  if (!cloudfront.ok()) return ConfigError(cloudfront.status().message());

  // Block the stop signals before any thread starts (edge sync, metrics,
  // HTTP), so only the sigwait() below sees them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  std::unique_ptr<FileSnapshotStore> store;
  if (!options->snapshot_file.empty()) {
    store = std::make_unique<FileSnapshotStore>(options->snapshot_file);
  }
  absl::StatusOr<std::optional<ValidatorState>> initial =
      LoadInitialState(*options, store.get(), LogToStderr);
  if (!initial.ok()) return ConfigError(initial.status().message());

  client::EdgeValidator validator(
      core::Keyring{}, core::RevocationSet{},
      core::ValidateOptions{.leeway = options->leeway});
  StateSink sink(&validator, store.get());
  // The edge-sync subscriber resumes from what was loaded.
  ValidatorState resume_from =
      initial->has_value() ? **initial : ValidatorState{};
  if (initial->has_value()) {
    const bool from_static = !options->keyring_file.empty();
    absl::Status applied = sink.ApplyState(**std::move(initial));
    if (!applied.ok()) {
      // Validating matters more than persisting: say so, keep going.
      LogToStderr(absl::StrCat("{\"event\":\"snapshot_save_failed\",\"error\":",
                               http::JsonQuote(applied.message()), "}"));
    }
    LogToStderr(absl::StrCat("{\"event\":\"state_loaded\",\"source\":\"",
                             from_static ? "static files" : "snapshot",
                             "\",\"version\":", sink.version(),
                             ",\"revoked\":", sink.revoked_count(), "}"));
  }
  std::unique_ptr<EdgeSyncClient> edge_sync;
  if (!options->servers.empty()) {
    edge_sync = std::make_unique<EdgeSyncClient>(
        EdgeSyncClientOptions{.servers = options->servers,
                              .validator_id = ValidatorId()},
        &sink, resume_from, LogToStderr);
    edge_sync->Start();
  }

  SidecarStats stats;
  SidecarService service(&validator, &sink, *std::move(modes), &stats,
                         LogToStderr);

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
    if (!started.ok()) {
      std::cerr << "edgepass-validator: " << started.status().message() << "\n";
      return started.status().code() == absl::StatusCode::kInvalidArgument
                 ? kExitConfig
                 : kExitRuntime;
    }
    metrics = *std::move(started);
    std::cerr << "edgepass-validator: metrics on " << metrics->url()
              << std::endl;
  }

  service.set_cloudfront(cloudfront->get());
  http::ServerOptions http_options;
  http_options.host = options->listen_host;
  http_options.port = options->listen_port;
  http_options.threads = options->threads;
  http_options.max_body_bytes = 64 * 1024;  // auth subrequests carry no body
  absl::StatusOr<std::unique_ptr<http::Server>> server = http::Server::Start(
      http_options,
      [&service](const http::Request& r) { return service.Handle(r); });
  if (!server.ok()) {
    std::cerr << "edgepass-validator: " << server.status().message() << "\n";
    return server.status().code() == absl::StatusCode::kInvalidArgument
               ? kExitConfig
               : kExitRuntime;
  }
  std::cerr << "edgepass-validator: listening on " << (*server)->address()
            << std::endl;

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  LogToStderr(
      absl::StrCat("{\"event\":\"stopping\",\"signal\":", signal_number, "}"));
  if (edge_sync != nullptr) edge_sync->Stop();
  (*server)->Stop();
  return 0;
}

}  // namespace
}  // namespace edgepass::sidecar

int main(int argc, char** argv) {
  return edgepass::sidecar::Run(
      std::vector<std::string>(argv + 1, argv + argc));
}
