// edgepass-server: wiring only. Parses options, opens the state stores of the
// chosen mode (the embedded data dir, or Redis in front of it for a fleet),
// serves edgepass.v1 over gRPC and drains on SIGTERM/SIGINT.
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>
#include <pthread.h>
#include <signal.h>

#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "core/random.h"
#include "core/status_macros.h"
#include "obs/metrics_endpoint.h"
#include "server/adapters/atomic_file.h"
#include "server/adapters/cached_keyring_source.h"
#include "server/adapters/file_catalog_store.h"
#include "server/adapters/file_secret_store.h"
#include "server/adapters/file_session_store.h"
#include "server/adapters/local_change_feed.h"
#include "server/adapters/redis/redis_catalog_store.h"
#include "server/adapters/redis/redis_change_feed.h"
#include "server/adapters/redis/redis_client.h"
#include "server/adapters/redis/redis_keyring_cache.h"
#include "server/adapters/redis/redis_session_store.h"
#include "server/api/catalog_service.h"
#include "server/api/edge_sync_service.h"
#include "server/api/grpc_metrics_interceptor.h"
#include "server/api/playback_service.h"
#include "server/api/session_service.h"
#include "server/catalog.h"
#include "server/config.h"
#include "server/live_state.h"
#include "server/server_metrics.h"
#include "server/smd_import.h"

namespace {

namespace server = edgepass::server;
using server::Catalog;

constexpr int kExitStartFailure = 1;
constexpr int kExitBadConfig = 2;
constexpr int kMaxReceiveMessageBytes = 256 * 1024;

void LogLine(absl::string_view line) { std::cerr << "edgepass-server: " << line << std::endl; }

// The state stores of the chosen mode: the data dir alone (embedded), or Redis
// in front of the data dir's keyring file (fleet).
struct StateStores {
  std::unique_ptr<server::RedisClient> redis;
  std::unique_ptr<server::ChangeFeed> feed;
  std::unique_ptr<server::FileSecretStore> secrets;
  std::unique_ptr<server::KeyringSource> keys;
  std::unique_ptr<server::CatalogStore> catalogs;
  std::unique_ptr<server::SessionStore> sessions;
};

absl::StatusOr<StateStores> OpenStores(const server::ServerOptions& options,
                                       edgepass::core::RandomSource& random) {
  const std::string& dir = options.data_dir;
  StateStores s;
  s.secrets = std::make_unique<server::FileSecretStore>(dir + "/keyring.json");
  EDGEPASS_RETURN_IF_ERROR(s.secrets->LoadOrCreate(absl::Now(), random).status());
  if (options.redis_addr.empty()) {
    s.feed = std::make_unique<server::LocalChangeFeed>();
    s.keys = std::make_unique<server::CachedKeyringSource>(
        *s.secrets, s.feed.get(), server::CachedKeyringSourceOptions{.ttl = options.key_cache_ttl});
    auto catalogs = std::make_unique<server::FileCatalogStore>(dir + "/catalog.json", s.feed.get());
    EDGEPASS_RETURN_IF_ERROR(catalogs->LoadOrCreate().status());  // the sample on first start
    s.catalogs = std::move(catalogs);
    s.sessions = std::make_unique<server::FileSessionStore>(dir + "/revocations.json", s.feed.get());
    return s;
  }
  server::RedisOptions redis_options{.address = options.redis_addr,
                                     .pool_size = static_cast<size_t>(options.redis_pool_size),
                                     .connect_timeout = options.redis_timeout,
                                     .command_timeout = options.redis_timeout};
  EDGEPASS_ASSIGN_OR_RETURN(s.redis, server::RedisClient::Create(redis_options));
  s.feed = std::make_unique<server::RedisChangeFeed>(*s.redis);
  s.keys = std::make_unique<server::RedisKeyringCache>(
      *s.redis, *s.secrets, s.feed.get(), server::RedisKeyringCacheOptions{.ttl = options.key_cache_ttl});
  s.catalogs = std::make_unique<server::RedisCatalogStore>(*s.redis, s.feed.get());
  s.sessions = std::make_unique<server::RedisSessionStore>(*s.redis, s.feed.get());
  // A fleet's first replica seeds an empty Redis with the sample catalog.
  EDGEPASS_RETURN_IF_ERROR(s.catalogs
                               ->Update([](const Catalog& current) -> absl::StatusOr<Catalog> {
                                 if (!current.assets().empty() || !current.policies().empty()) {
                                   return current;
                                 }
                                 return Catalog::Parse(server::SampleCatalogJson(), "sample catalog");
                               })
                               .status());
  return s;
}

// Merges the start-up catalog file and SMD import into the store; every input
// is validated before anything is written, so an error writes nothing.
absl::Status ImportCatalogs(const server::ServerOptions& options, server::CatalogStore& store) {
  std::vector<std::pair<std::string, Catalog>> overlays;
  if (!options.catalog_file.empty()) {
    EDGEPASS_ASSIGN_OR_RETURN(std::string text, server::ReadFileToString(options.catalog_file));
    EDGEPASS_ASSIGN_OR_RETURN(Catalog overlay, Catalog::Parse(text, options.catalog_file));
    overlays.emplace_back(options.catalog_file, std::move(overlay));
  }
  if (!options.import_smd_assets.empty()) {
    EDGEPASS_ASSIGN_OR_RETURN(std::string text, server::ReadFileToString(options.import_smd_assets));
    EDGEPASS_ASSIGN_OR_RETURN(Catalog imported,
                              server::ParseSmdAssets(text, options.import_smd_assets));
    LogLine(absl::StrCat("importing ", imported.assets().size(), " SMD asset(s) from ",
                         options.import_smd_assets));
    overlays.emplace_back(options.import_smd_assets, std::move(imported));
  }
  if (overlays.empty()) return absl::OkStatus();
  return store
      .Update([&](const Catalog& current) -> absl::StatusOr<Catalog> {
        Catalog merged = current;
        for (const auto& [source, overlay] : overlays) {
          EDGEPASS_ASSIGN_OR_RETURN(merged, Catalog::Merge(merged, overlay, source));
        }
        return merged;
      })
      .status();
}

// Points the scrape-time families at the state they read and serves them on
// --metrics-addr; nullptr when that is empty (metrics off).
absl::StatusOr<std::unique_ptr<edgepass::obs::MetricsEndpoint>> StartMetrics(
    const server::ServerOptions& options, const StateStores& stores, const server::LiveState& live,
    const server::EdgeSyncServiceImpl& edge_sync, server::ServerMetrics& metrics) {
  if (options.metrics_addr.empty()) return nullptr;
  metrics.WatchLiveState(&live);
  metrics.WatchEdgeSync(&edge_sync, &live);
  metrics.WatchSecretStore(stores.secrets.get());
  if (const server::RedisClient* redis = stores.redis.get(); redis != nullptr) {
    metrics.WatchRedis([redis] {
      return server::CallCounts{.calls = redis->command_count(), .errors = redis->error_count()};
    });
  }
  return edgepass::obs::MetricsEndpoint::Start(options.metrics_addr, metrics.collectables());
}

}  // namespace

int main(int argc, char** argv) {
  namespace server = edgepass::server;
  absl::StatusOr<server::ServerOptions> options = server::ParseServerOptions(
      std::vector<std::string>(argv + 1, argv + argc), [](const char* name) { return std::getenv(name); });
  if (!options.ok()) {
    LogLine(absl::StrCat("bad configuration: ", options.status().message(), " (see --help)"));
    return kExitBadConfig;
  }
  if (options->help) {
    std::cout << server::HelpText();
    return 0;
  }

  // Blocked before gRPC starts its threads, so only sigwait() below sees them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  const std::string& dir = options->data_dir;
  if (absl::Status s = server::MakeDirectories(dir); !s.ok()) {
    LogLine(absl::StrCat("cannot start: ", s.message()));
    return kExitStartFailure;
  }
  edgepass::core::SecureRandom random;
  absl::StatusOr<StateStores> stores = OpenStores(*options, random);
  if (!stores.ok()) {
    LogLine(absl::StrCat("cannot start: ", stores.status().message(),
                         " (files are left unchanged; fix or remove them)"));
    return kExitStartFailure;
  }
  if (absl::Status s = ImportCatalogs(*options, *stores->catalogs); !s.ok()) {
    LogLine(absl::StrCat("cannot start: ", s.message()));
    return kExitStartFailure;
  }
  auto clock = [] { return absl::Now(); };
  const edgepass::core::RevocationListOptions revocations{
      .retention = options->revocation_retention,
      .capacity = static_cast<size_t>(options->revocation_capacity)};
  server::LiveState live(stores->catalogs.get(), stores->sessions.get(), stores->keys.get(),
                         stores->feed.get(), clock, {.revocations = revocations});
  if (absl::Status s = live.Start(); !s.ok()) {
    LogLine(absl::StrCat("cannot start: ", s.message()));
    return kExitStartFailure;
  }

  server::ServerMetrics metrics;  // the families: server/server_metrics.h
  server::PlaybackServiceImpl playback(
      &live, stores->keys.get(), &random, clock,
      {.default_token_ttl = options->default_token_ttl, .metrics = &metrics});
  server::CatalogServiceImpl catalog(stores->catalogs.get(), &live);
  server::SessionServiceImpl sessions(stores->sessions.get(), &live, clock,
                                      {.revocations = revocations,
                                       .default_revocation_ttl = options->revocation_retention});
  server::EdgeSyncServiceImpl edge_sync(&live, clock);
  // Declared after what it reads, so it stops serving before they go.
  absl::StatusOr<std::unique_ptr<edgepass::obs::MetricsEndpoint>> metrics_endpoint =
      StartMetrics(*options, *stores, live, edge_sync, metrics);
  if (!metrics_endpoint.ok()) {
    LogLine(absl::StrCat("cannot start: ", metrics_endpoint.status().message()));
    return metrics_endpoint.status().code() == absl::StatusCode::kInvalidArgument ? kExitBadConfig
                                                                                  : kExitStartFailure;
  }
  if (*metrics_endpoint != nullptr) LogLine(absl::StrCat("metrics on ", (*metrics_endpoint)->url()));
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(options->grpc_addr, grpc::InsecureServerCredentials(), &port);
  builder.SetMaxReceiveMessageSize(kMaxReceiveMessageBytes);
  builder.RegisterService(&playback);
  builder.RegisterService(&catalog);
  builder.RegisterService(&sessions);
  builder.RegisterService(&edge_sync);
  builder.experimental().SetInterceptorCreators(server::GrpcMetricsInterceptors(&metrics));
  std::unique_ptr<grpc::Server> grpc_server = builder.BuildAndStart();
  if (grpc_server == nullptr || port == 0) {
    LogLine(absl::StrCat("cannot start: cannot listen on ", options->grpc_addr));
    return kExitStartFailure;
  }
  std::string host;
  int unused_port;
  (void)server::SplitHostPort(options->grpc_addr, &host, &unused_port);
  if (host.find(':') != std::string::npos) host = absl::StrCat("[", host, "]");
  LogLine(absl::StrCat(
      "listening on ", host, ":", port, ", data dir ", dir, ", state ",
      options->redis_addr.empty() ? "embedded" : absl::StrCat("redis ", options->redis_addr), ", ",
      live.catalog()->assets().size(), " asset(s), ", live.edge()->revoked.size(),
      " revoked session(s); WARNING: no authentication (loopback only)"));

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  LogLine(absl::StrCat("received ", strsignal(signal_number), ", draining for up to ",
                       absl::FormatDuration(options->shutdown_grace)));
  edge_sync.Stop();
  grpc_server->Shutdown(absl::ToChronoTime(absl::Now() + options->shutdown_grace));
  grpc_server->Wait();
  LogLine("stopped");
  return 0;
}
