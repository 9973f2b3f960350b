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
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "core/ip_address.h"
#include "core/random.h"
#include "core/status_macros.h"
#include "obs/metrics_endpoint.h"
#include "server/adapters/atomic_file.h"
#include "server/adapters/cached_keyring_source.h"
#include "server/adapters/cloudfront_key_cache.h"
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
#include "server/api/key_service.h"
#include "server/api/playback_service.h"
#include "server/api/session_service.h"
#include "server/catalog.h"
#include "server/config.h"
#include "server/live_state.h"
#include "server/api/authorized_services.h"
#include "server/auth/access.h"
#include "server/auth/grpc_tls.h"
#include "server/auth/jwks_fetch.h"
#include "server/auth/oidc_verifier.h"
#include "server/rest/rest_gateway.h"
#include "server/server_metrics.h"
#include "server/smd_import.h"
#include "http/http_server.h"
#include "logging/json_log.h"

namespace {

namespace server = edgepass::server;
namespace logging = edgepass::logging;
using server::Catalog;

constexpr int kExitStartFailure = 1;
constexpr int kExitBadConfig = 2;

int StartFailure(absl::string_view what) {
  logging::Error("start_failed").Str("error", what);
  return kExitStartFailure;
}

// --new-api-key NAME:SCOPES: prints the key (once) and the entry to add to
// the access file, which keeps only its hash.
int PrintNewApiKey(const std::string& spec) {
  auto parsed = server::ParseKeySpec(spec);
  edgepass::core::SecureRandom random;
  absl::StatusOr<server::NewApiKey> key =
      parsed.ok() ? server::MakeApiKey(parsed->first, parsed->second, random)
                  : absl::StatusOr<server::NewApiKey>(parsed.status());
  if (!key.ok()) {
    std::cerr << "edgepass-server: " << key.status().message() << "\n";
    return kExitBadConfig;
  }
  std::cout << "api key (shown once, give it to the caller):\n  " << key->key
            << "\naccess-file entry (add it to \"api_keys\"):\n  " << key->entry_json << "\n";
  return 0;
}

constexpr int kMaxReceiveMessageBytes = 256 * 1024;


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
    logging::Info("smd_import").Int("assets", imported.assets().size()).Str("file", options.import_smd_assets);
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
  logging::SetComponent("edgepass-server");
  if (!options.ok()) {
    logging::Error("bad_configuration").Str("error", options.status().message()).Str("hint", "see --help");
    return kExitBadConfig;
  }
  if (options->help) {
    std::cout << server::HelpText();
    return 0;
  }
  if (!options->new_api_key.empty()) return PrintNewApiKey(options->new_api_key);
  absl::StatusOr<server::AccessPolicy> access =
      options->access_file.empty() ? server::AccessPolicy::Open()
                                   : server::AccessPolicy::LoadFile(options->access_file);
  if (!access.ok()) {
    logging::Error("bad_configuration").Str("error", access.status().message());
    return kExitBadConfig;
  }
  std::unique_ptr<server::OidcVerifier> oidc;
  if (!options->oidc_issuer.empty()) {
    // Keys fetched over http:// off loopback could be swapped on the way.
    if (absl::Status s = server::CheckJwksSource(options->oidc_jwks); !s.ok()) {
      logging::Error("bad_configuration").Str("error", absl::StrCat("--oidc-jwks: ", s.message()));
      return kExitBadConfig;
    }
    absl::StatusOr<std::unique_ptr<server::OidcVerifier>> verifier = server::OidcVerifier::Create(
        {.issuer = options->oidc_issuer,
         .audiences = options->oidc_audiences,
         .groups_claim = options->oidc_groups_claim,
         .jwks_source = options->oidc_jwks},
        [] { return absl::Now(); });
    if (!verifier.ok()) {
      logging::Error("bad_configuration").Str("error", verifier.status().message());
      return kExitBadConfig;
    }
    oidc = *std::move(verifier);
  }

  // Blocked before gRPC starts its threads, so only sigwait() below sees them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  const std::string& dir = options->data_dir;
  if (absl::Status s = server::MakeDirectories(dir); !s.ok()) return StartFailure(s.message());
  edgepass::core::SecureRandom random;
  absl::StatusOr<StateStores> stores = OpenStores(*options, random);
  if (!stores.ok()) {
    return StartFailure(absl::StrCat(stores.status().message(), " (files are left unchanged; fix or remove them)"));
  }
  if (absl::Status s = ImportCatalogs(*options, *stores->catalogs); !s.ok()) return StartFailure(s.message());
  auto clock = [] { return absl::Now(); };
  const edgepass::core::RevocationListOptions revocations{
      .retention = options->revocation_retention,
      .capacity = static_cast<size_t>(options->revocation_capacity)};
  server::LiveState live(stores->catalogs.get(), stores->sessions.get(), stores->keys.get(),
                         stores->feed.get(), clock, {.revocations = revocations});
  if (absl::Status s = live.Start(); !s.ok()) return StartFailure(s.message());

  server::ServerMetrics metrics;  // the families: server/server_metrics.h
  // CloudFront private keys: read through the data dir's secrets file (in a
  // fleet the same mounted secret as keyring.json), cached per replica.
  server::CloudFrontKeyCache cloudfront_keys(*stores->secrets, clock, {.ttl = options->key_cache_ttl});
  server::PlaybackServiceImpl playback(
      &live, stores->keys.get(), &random, clock,
      {.default_token_ttl = options->default_token_ttl,
       .max_token_ttl = options->max_token_ttl,
       .metrics = &metrics,
       .cloudfront_keys = &cloudfront_keys});
  server::CatalogServiceImpl catalog(stores->catalogs.get(), &live, options->max_token_ttl);
  server::SessionServiceImpl sessions(stores->sessions.get(), &live, clock,
                                      {.revocations = revocations,
                                       .default_revocation_ttl = options->revocation_retention});
  server::EdgeSyncServiceImpl edge_sync(&live, clock);
  server::KeyServiceImpl key_service(stores->secrets.get(), &cloudfront_keys);
  // Declared after what it reads, so it stops serving before they go.
  absl::StatusOr<std::unique_ptr<edgepass::obs::MetricsEndpoint>> metrics_endpoint =
      StartMetrics(*options, *stores, live, edge_sync, metrics);
  if (!metrics_endpoint.ok()) {
    StartFailure(metrics_endpoint.status().message());
    return metrics_endpoint.status().code() == absl::StatusCode::kInvalidArgument ? kExitBadConfig
                                                                                  : kExitStartFailure;
  }
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int port = 0;
  // One TLS setting for both faces: no client CA = TLS only; with one,
  // client certificates are optional (API keys still work) or required.
  const bool mtls = !options->tls_client_ca.empty();
  const bool require_cert = options->tls_client_cert == "require";
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> grpc_credentials = server::MakeGrpcServerCredentials(
      {.cert_file = options->tls_cert,
       .key_file = options->tls_key,
       .client_ca_file = options->tls_client_ca,
       .client_cert = !mtls ? server::GrpcTlsOptions::ClientCert::kNone
                      : require_cert ? server::GrpcTlsOptions::ClientCert::kRequire
                                     : server::GrpcTlsOptions::ClientCert::kOptional});
  if (!grpc_credentials.ok()) {
    logging::Error("bad_configuration").Str("error", grpc_credentials.status().message());
    return kExitBadConfig;
  }
  builder.AddListeningPort(options->grpc_addr, *grpc_credentials, &port);
  builder.SetMaxReceiveMessageSize(kMaxReceiveMessageBytes);
  // Every RPC goes through its scope check; the REST gateway checks the same
  // scopes itself and calls the implementations directly.
  server::GrpcAccess grpc_access(&*access);
  server::AuthorizedPlaybackService guarded_playback(&playback, &grpc_access);
  server::AuthorizedCatalogService guarded_catalog(&catalog, &grpc_access);
  server::AuthorizedSessionService guarded_sessions(&sessions, &grpc_access);
  server::AuthorizedEdgeSyncService guarded_edge_sync(&edge_sync, &grpc_access);
  server::AuthorizedKeyService guarded_keys(&key_service, &grpc_access);
  builder.RegisterService(&guarded_playback);
  builder.RegisterService(&guarded_catalog);
  builder.RegisterService(&guarded_sessions);
  builder.RegisterService(&guarded_edge_sync);
  builder.RegisterService(&guarded_keys);
  builder.experimental().SetInterceptorCreators(server::GrpcMetricsInterceptors(&metrics));
  std::unique_ptr<grpc::Server> grpc_server = builder.BuildAndStart();
  if (grpc_server == nullptr || port == 0) {
    return StartFailure(absl::StrCat("cannot listen on ", options->grpc_addr));
  }
  std::string host;
  int unused_port;
  (void)server::SplitHostPort(options->grpc_addr, &host, &unused_port);
  const std::string grpc_host = host;
  if (host.find(':') != std::string::npos) host = absl::StrCat("[", host, "]");

  std::unique_ptr<server::RestGateway> gateway;
  std::unique_ptr<edgepass::http::Server> rest_server;
  if (!options->rest_addr.empty()) {
    server::RestGatewayOptions rest_options{.trusted_proxies = options->trusted_proxies,
                                            .trust_cloudfront_headers =
                                                options->trust_cloudfront_headers,
                                            .entitlements = options->entitlements};
    rest_options.on_request = [&metrics](absl::string_view route, int status, absl::Duration elapsed) {
      metrics.RecordHttpRequest(route, status, elapsed);
    };
    if (oidc != nullptr) {
      rest_options.verify_id_token = [&oidc](absl::string_view token) -> absl::StatusOr<std::vector<std::string>> {
        EDGEPASS_ASSIGN_OR_RETURN(server::OidcIdentity viewer, oidc->Verify(token));
        return viewer.groups;
      };
    }
    absl::StatusOr<std::unique_ptr<server::RestGateway>> g = server::RestGateway::Create(
        {.playback = &playback,
         .catalog = &catalog,
         .sessions = &sessions,
         .edge_sync = &edge_sync,
         .keys = &key_service},
        &*access, std::move(rest_options));
    if (!g.ok()) return StartFailure(g.status().message());
    gateway = *std::move(g);
    edgepass::http::ServerOptions http_options;
    std::string rest_host;
    int rest_port = 0;
    (void)server::SplitHostPort(options->rest_addr, &rest_host, &rest_port);
    http_options.host = rest_host;
    http_options.port = static_cast<uint16_t>(rest_port);
    http_options.shutdown_grace = options->shutdown_grace;
    http_options.read_timeout = options->rest_read_timeout;
    http_options.idle_timeout = options->rest_idle_timeout;
    http_options.threads = server::RestThreads(*options, std::thread::hardware_concurrency());
    http_options.tls = {.cert_file = options->tls_cert,
                        .key_file = options->tls_key,
                        .client_ca_file = options->tls_client_ca,
                        .client_cert = !mtls ? edgepass::http::TlsOptions::ClientCert::kNone
                                       : require_cert ? edgepass::http::TlsOptions::ClientCert::kRequire
                                                      : edgepass::http::TlsOptions::ClientCert::kOptional};
    absl::StatusOr<std::unique_ptr<edgepass::http::Server>> started = edgepass::http::Server::Start(
        http_options, [&gateway](const edgepass::http::Request& r) { return gateway->Handle(r); });
    if (!started.ok()) return StartFailure(absl::StrCat("rest_addr: ", started.status().message()));
    rest_server = *std::move(started);
  }
  logging::Info("listening")
      .Str("grpc", absl::StrCat(host, ":", port))
      .Str("rest", rest_server ? rest_server->address() : "off")
      .Str("metrics", *metrics_endpoint != nullptr ? (*metrics_endpoint)->address() : "off")
      .Str("data_dir", dir)
      .Str("state", options->redis_addr.empty() ? "embedded" : absl::StrCat("redis ", options->redis_addr))
      .Int("assets", live.catalog()->assets().size())
      .Int("revoked_sessions", live.edge()->revoked.size())
      .Str("auth", access->open() ? "none" : "api keys and mTLS identities")
      .Str("tls", options->tls_cert.empty() ? "off" : mtls ? (require_cert ? "mtls required" : "mtls optional") : "on")
      .Str("viewer_mode", oidc ? "oidc" : "off")
      .Int("rest_threads", rest_server ? server::RestThreads(*options, std::thread::hardware_concurrency()) : 0);
  std::string rest_host;
  int rest_port = 0;
  const bool rest_remote = !options->rest_addr.empty() &&
                           server::SplitHostPort(options->rest_addr, &rest_host, &rest_port).ok() &&
                           !edgepass::core::IsLoopbackHost(rest_host);
  if (options->tls_cert.empty() && (rest_remote || !edgepass::core::IsLoopbackHost(grpc_host))) {
    // Only with --insecure-plaintext (ValidateServerOptions refuses it otherwise).
    logging::Warning("insecure_plaintext")
        .Str("grpc", absl::StrCat(host, ":", port))
        .Str("rest", options->rest_addr)
        .Str("detail",
             "--insecure-plaintext: gRPC or REST listens off loopback without TLS; EdgeSync "
             "streams HMAC keys and callers send API keys in cleartext. Give --tls-cert and "
             "--tls-key.");
  }
  if (access->open()) {
    logging::Warning("no_authentication")
        .Str("detail", "every caller has every scope; loopback only. Pass --access-file to require API keys.");
  }

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  logging::Info("draining").Str("signal", strsignal(signal_number)).Str(
      "grace", absl::FormatDuration(options->shutdown_grace));
  edge_sync.Stop();
  if (rest_server) rest_server->Stop();
  grpc_server->Shutdown(absl::ToChronoTime(absl::Now() + options->shutdown_grace));
  grpc_server->Wait();
  logging::Info("stopped");
  return 0;
}
