#include "server/server_app.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/types/span.h"
#include "core/ip_address.h"
#include "core/random.h"
#include "core/status_macros.h"
#include "files/atomic_file.h"
#include "http/http_server.h"
#include "logging/json_log.h"
#include "obs/metrics_endpoint.h"
#include "server/adapters/aws/open_aws_secret_store.h"
#include "server/adapters/cached_keyring_source.h"
#include "server/adapters/file_catalog_store.h"
#include "server/adapters/file_secret_store.h"
#include "server/adapters/file_session_store.h"
#include "server/adapters/local_change_feed.h"
#include "server/adapters/local_rotation.h"
#include "server/adapters/redis/redis_catalog_store.h"
#include "server/adapters/redis/redis_change_feed.h"
#include "server/adapters/redis/redis_client.h"
#include "server/adapters/redis/redis_keyring_cache.h"
#include "server/adapters/redis/redis_rotation.h"
#include "server/adapters/redis/redis_session_store.h"
#include "server/api/grpc_metrics_interceptor.h"
#include "server/api/grpc_services.h"
#include "server/api/proto_api.h"
#include "server/api/rpc_scopes.h"
#include "server/app/catalog_editor.h"
#include "server/app/cloudfront_key_cache.h"
#include "server/app/edge_sync_hub.h"
#include "server/app/key_desk.h"
#include "server/app/key_rotator.h"
#include "server/app/live_state.h"
#include "server/app/playback_issuer.h"
#include "server/app/revocation_desk.h"
#include "server/app/revocation_pruner.h"
#include "server/app/rotation_schedule.h"
#include "server/app/server_metrics.h"
#include "server/app/validator_reporter.h"
#include "server/auth/access.h"
#include "server/auth/grpc_tls.h"
#include "server/auth/jwks_fetch.h"
#include "server/auth/oidc_verifier.h"
#include "server/rest/rest_gateway.h"
#include "server/smd_import.h"
#include "server/state/catalog.h"
#include "text/host_port.h"

namespace edgepass::server {
namespace {

constexpr int kMaxReceiveMessageBytes = 256 * 1024;
constexpr ServerApp::Failure kBadConfiguration{.event = "bad_configuration", .exit_code = 2};

// The state stores of the chosen mode: the data dir alone (embedded), or Redis
// in front of the data dir's keyring file (fleet).
struct StateStores {
  std::unique_ptr<RedisClient> redis;
  std::unique_ptr<ChangeFeed> feed;
  std::unique_ptr<SecretStore> secrets;
  std::unique_ptr<KeyringSource> keys;
  std::unique_ptr<CatalogStore> catalogs;
  std::unique_ptr<SessionStore> sessions;
  std::unique_ptr<RotationLock> rotation_lock;
  std::unique_ptr<ValidatorDirectory> validators;
};

// The keyring's durable home: the data dir's file, or AWS Secrets Manager.
absl::StatusOr<std::unique_ptr<SecretStore>> OpenSecretStore(const ServerOptions& options,
                                                             core::RandomSource& random) {
  if (options.secrets_store == "aws") {
    EDGEPASS_ASSIGN_OR_RETURN(
        OpenedAwsSecretStore aws,
        OpenAwsSecretStore({.region = options.aws_region,
                            .endpoint = options.aws_endpoint,
                            .secret_id = options.aws_secret_id,
                            .smd_stack_name = options.smd_stack_name},
                           aws::Environment::FromProcess(), absl::Now(), random));
    logging::Info("secrets_store").Str("kind", "aws").Str("store", aws.description)
        .Str("credentials", aws.credentials_source);
    return std::move(aws.store);
  }
  auto file = std::make_unique<FileSecretStore>(options.data_dir + "/keyring.json");
  EDGEPASS_RETURN_IF_ERROR(file->LoadOrCreate(absl::Now(), random).status());
  return std::unique_ptr<SecretStore>(std::move(file));
}

absl::StatusOr<StateStores> OpenStores(const ServerOptions& options, core::RandomSource& random) {
  const std::string& dir = options.data_dir;
  StateStores s;
  EDGEPASS_ASSIGN_OR_RETURN(s.secrets, OpenSecretStore(options, random));
  if (options.redis_addr.empty() && options.redis_sentinels.empty()) {
    s.feed = std::make_unique<LocalChangeFeed>();
    s.keys = std::make_unique<CachedKeyringSource>(*s.secrets, s.feed.get(),
                                                   CachedKeyringSourceOptions{.ttl = options.key_cache_ttl});
    s.catalogs = std::make_unique<FileCatalogStore>(dir + "/catalog.json", s.feed.get());
    s.sessions = std::make_unique<FileSessionStore>(dir + "/revocations.json", s.feed.get());
    s.rotation_lock = std::make_unique<LocalRotationLock>([] { return absl::Now(); });
    s.validators = std::make_unique<LocalValidatorDirectory>();
    return s;
  }
  RedisOptions redis_options{.address = options.redis_addr,
                             .sentinels = options.redis_sentinels,
                             .sentinel_master = options.redis_sentinel_master,
                             .pool_size = static_cast<size_t>(options.redis_pool_size),
                             .connect_timeout = options.redis_timeout,
                             .command_timeout = options.redis_timeout,
                             .wait_replicas = options.redis_wait_replicas,
                             .wait_timeout = options.redis_wait_timeout};
  EDGEPASS_ASSIGN_OR_RETURN(s.redis, RedisClient::Create(redis_options));
  if (s.redis->sentinel_mode()) {
    // Fail the start, naming every sentinel's answer, rather than serve
    // without knowing where the primary is.
    absl::StatusOr<std::string> primary = s.redis->DiscoverPrimary();
    if (!primary.ok()) {
      return absl::UnavailableError(absl::StrCat("--redis-sentinels: ", primary.status().message()));
    }
    logging::Info("redis_primary").Str("master", options.redis_sentinel_master).Str("address", *primary);
  }
  s.feed = std::make_unique<RedisChangeFeed>(*s.redis);
  s.keys = std::make_unique<RedisKeyringCache>(*s.redis, *s.secrets, s.feed.get(),
                                               RedisKeyringCacheOptions{.ttl = options.key_cache_ttl});
  s.catalogs = std::make_unique<RedisCatalogStore>(*s.redis, s.feed.get());
  s.sessions = std::make_unique<RedisSessionStore>(*s.redis, s.feed.get());
  s.rotation_lock = std::make_unique<RedisRotationLock>(*s.redis);
  s.validators = std::make_unique<RedisValidatorDirectory>(*s.redis);
  return s;
}

// How often this replica tells the fleet which validators stream from it.
constexpr absl::Duration kValidatorReportInterval = absl::Seconds(1);

// Names this replica in the validator directory.
std::string ReplicaName(const ServerOptions& options) {
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
  return absl::StrCat(host[0] != '\0' ? host : "replica", ":", getpid());
}

// When a replica first prunes the revocation list: at random within one
// interval, so replicas started together (a rollout) do not all walk the
// list at once, and a server restarted more often than the interval still
// prunes now and then.
absl::Duration FirstPruneDelay(absl::Duration interval, core::RandomSource& random) {
  uint64_t bits = 0;
  random.Fill(absl::MakeSpan(reinterpret_cast<uint8_t*>(&bits), sizeof(bits)));
  return interval * (static_cast<double>(bits >> 11) / static_cast<double>(uint64_t{1} << 53));
}

KeyRotatorOptions RotatorOptions(const ServerOptions& options) {
  KeyRotatorOptions r;
  if (options.key_rotation_interval > absl::ZeroDuration()) {
    r.schedule = *RotationSchedule::Every(options.key_rotation_interval);
  } else if (!options.key_rotation_schedule.empty()) {
    r.schedule = *RotationSchedule::Parse(options.key_rotation_schedule);  // validated with the options
  }
  r.ack_deadline = options.key_rotation_ack_deadline;
  r.retry_after = options.key_rotation_ack_deadline;
  // A demoted key signed until every issuer's cache refreshed; its tokens
  // live at most max_token_ttl after that.
  r.retired_validity = options.max_token_ttl + options.key_cache_ttl;
  // The lease is renewed every third of it; a replica that dies holding it
  // is taken over after at most this long.
  r.lock_ttl = std::clamp(options.key_rotation_ack_deadline, absl::Seconds(3), absl::Seconds(30));
  // Test hook: EDGEPASS_TEST_EXIT_AFTER_ROTATION_STEP=stored_pending|distributed|promoted
  // ends the process right after that step (the crash tests).
  if (const char* step = std::getenv("EDGEPASS_TEST_EXIT_AFTER_ROTATION_STEP"); step != nullptr) {
    r.after_step = [want = std::string(step)](RotationStep done) {
      if (RotationStepName(done) == want) std::_Exit(86);
    };
  }
  return r;
}

// Merges the start-up catalog file and SMD import into the store; every input
// is validated before anything is written, so an error writes nothing.
absl::Status ImportCatalogs(const ServerOptions& options, CatalogStore& store) {
  std::vector<std::pair<std::string, Catalog>> overlays;
  if (!options.catalog_file.empty()) {
    EDGEPASS_ASSIGN_OR_RETURN(std::string text, files::ReadFileToString(options.catalog_file));
    EDGEPASS_ASSIGN_OR_RETURN(Catalog overlay, Catalog::Parse(text, options.catalog_file));
    overlays.emplace_back(options.catalog_file, std::move(overlay));
  }
  if (!options.import_smd_assets.empty()) {
    EDGEPASS_ASSIGN_OR_RETURN(std::string text, files::ReadFileToString(options.import_smd_assets));
    EDGEPASS_ASSIGN_OR_RETURN(Catalog imported, ParseSmdAssets(text, options.import_smd_assets));
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

// --tls-client-ca / --tls-client-cert in `ClientCert`'s terms (the enum of
// GrpcTlsOptions or http::TlsOptions): one TLS setting for both faces. No
// client CA = TLS only; with one, client certificates are optional (API keys
// still work) or required.
template <typename ClientCert>
ClientCert ClientCertOf(const ServerOptions& o) {
  if (o.tls_client_ca.empty()) return ClientCert::kNone;
  return o.tls_client_cert == "require" ? ClientCert::kRequire : ClientCert::kOptional;
}

// Threads for the calls that wait, over gRPC and REST together: in fleet
// mode a Redis connection for each (--redis-pool-size), at least the default.
int BlockingThreads(const ServerOptions& o) { return std::max(kDefaultBlockingThreads, o.redis_pool_size); }

// An address option; ValidateServerOptions has checked it before the app starts.
text::HostPort Address(const std::string& option) { return text::ParseHostPort(option).value_or(text::HostPort{}); }

}  // namespace

// Declared in dependency order: destroyed in reverse, so what serves goes
// before what it reads.
struct ServerApp::Parts {
  ServerOptions options;
  AccessPolicy access = AccessPolicy::Open();
  std::unique_ptr<OidcVerifier> oidc;
  core::SecureRandom random;
  StateStores stores;
  std::unique_ptr<LiveState> live;
  ServerMetrics metrics;  // the families: server/app/server_metrics.h
  std::unique_ptr<CloudFrontKeyCache> cloudfront_keys;
  // The service layer and its proto face.
  std::unique_ptr<PlaybackIssuer> issuer;
  std::unique_ptr<CatalogEditor> editor;
  std::unique_ptr<RevocationDesk> revocations;
  std::unique_ptr<EdgeSyncHub> hub;
  std::unique_ptr<KeyDesk> key_desk;
  std::unique_ptr<ValidatorReporter> validator_reporter;
  std::unique_ptr<RevocationPruner> pruner;
  std::unique_ptr<KeyRotator> rotator;
  std::unique_ptr<PlaybackApi> playback_api;
  std::unique_ptr<CatalogApi> catalog_api;
  std::unique_ptr<SessionApi> session_api;
  std::unique_ptr<EdgeSyncApi> edge_sync_api;
  std::unique_ptr<KeyApi> key_api;
  // The transports, and the threads both run their waiting calls on.
  std::unique_ptr<BlockingPool> blocking;
  std::unique_ptr<obs::MetricsEndpoint> metrics_endpoint;
  std::unique_ptr<GrpcAccess> grpc_access;
  std::unique_ptr<GrpcServices> grpc_services;
  std::unique_ptr<grpc::Server> grpc_server;
  std::unique_ptr<RestGateway> gateway;
  std::unique_ptr<http::Server> rest_server;
  bool stopped = false;

  absl::Status OpenAccess(Failure* failure);
  absl::Status OpenState();
  void BuildServices();
  absl::Status StartMetrics(Failure* failure);
  absl::Status StartGrpc(std::string* address, Failure* failure);
  absl::Status StartRest();
};

absl::Status ServerApp::Parts::OpenAccess(Failure* failure) {
  *failure = kBadConfiguration;
  if (!options.access_file.empty()) {
    EDGEPASS_ASSIGN_OR_RETURN(access, AccessPolicy::LoadFile(options.access_file));
  }
  if (options.oidc_issuer.empty()) return absl::OkStatus();
  // Keys fetched over http:// off loopback could be swapped on the way.
  if (absl::Status s = CheckJwksSource(options.oidc_jwks); !s.ok()) {
    return absl::Status(s.code(), absl::StrCat("--oidc-jwks: ", s.message()));
  }
  EDGEPASS_ASSIGN_OR_RETURN(oidc, OidcVerifier::Create({.issuer = options.oidc_issuer,
                                                        .audiences = options.oidc_audiences,
                                                        .groups_claim = options.oidc_groups_claim,
                                                        .jwks_source = options.oidc_jwks,
                                                        .jwks_refresh = options.oidc_jwks_refresh},
                                                       [] { return absl::Now(); }));
  return absl::OkStatus();
}

absl::Status ServerApp::Parts::OpenState() {
  EDGEPASS_RETURN_IF_ERROR(files::MakeDirectories(options.data_dir));
  absl::StatusOr<StateStores> opened = OpenStores(options, random);
  if (opened.ok()) {  // a store never written gets the sample catalog, in either mode
    if (absl::Status seeded = SeedSampleCatalog(*opened->catalogs); !seeded.ok()) opened = seeded;
  }
  if (!opened.ok()) {
    if (opened.status().code() == absl::StatusCode::kUnavailable) return opened.status();  // Redis, not a file
    return absl::Status(opened.status().code(), absl::StrCat(opened.status().message(),
                                                             " (files are left unchanged; fix or remove them)"));
  }
  stores = *std::move(opened);
  EDGEPASS_RETURN_IF_ERROR(ImportCatalogs(options, *stores.catalogs));
  live = std::make_unique<LiveState>(
      stores.catalogs.get(), stores.sessions.get(), stores.keys.get(), stores.feed.get(), [] { return absl::Now(); },
      LiveStateOptions{.revocations = {.retention = options.revocation_retention,
                                       .capacity = static_cast<size_t>(options.revocation_capacity)},
                       .consistency_check_interval = options.revocation_check_interval});
  return live->Start();
}

void ServerApp::Parts::BuildServices() {
  auto clock = [] { return absl::Now(); };
  // CloudFront private keys: read through the data dir's secrets file (in a
  // fleet the same mounted secret as keyring.json), cached per replica.
  cloudfront_keys = std::make_unique<CloudFrontKeyCache>(*stores.secrets, clock,
                                                         CloudFrontKeyCacheOptions{.ttl = options.key_cache_ttl});
  issuer = std::make_unique<PlaybackIssuer>([live = live.get()] { return live->catalog(); }, stores.keys.get(),
                                            &random, clock,
                                            PlaybackIssuerOptions{.max_token_ttl = options.max_token_ttl,
                                                                  .metrics = &metrics,
                                                                  .cloudfront_keys = cloudfront_keys.get()});
  editor = std::make_unique<CatalogEditor>(stores.catalogs.get(), live.get(), options.max_token_ttl);
  revocations = std::make_unique<RevocationDesk>(
      stores.sessions.get(), live.get(), clock,
      RevocationDeskOptions{.revocations = {.retention = options.revocation_retention,
                                            .capacity = static_cast<size_t>(options.revocation_capacity)},
                            .default_revocation_ttl = options.revocation_retention});
  hub = std::make_unique<EdgeSyncHub>(live.get(), clock);
  hub->Start();
  key_desk = std::make_unique<KeyDesk>(stores.secrets.get(), cloudfront_keys.get());
  validator_reporter = std::make_unique<ValidatorReporter>(hub.get(), stores.validators.get(), ReplicaName(options),
                                                           clock, kValidatorReportInterval);
  hub->SetValidatorListener([reporter = validator_reporter.get()] { reporter->Poke(); });
  validator_reporter->Start();
  pruner = std::make_unique<RevocationPruner>(
      stores.sessions.get(), clock,
      RevocationPrunerOptions{.interval = options.revocation_prune_interval,
                              .grace = options.revocation_prune_grace,
                              .first_delay = FirstPruneDelay(options.revocation_prune_interval, random)});
  pruner->Start();  // nothing when the interval is 0
  rotator = std::make_unique<KeyRotator>(
      KeyRotatorDeps{.store = stores.secrets.get(),
                     .keys = stores.keys.get(),
                     .lock = stores.rotation_lock.get(),
                     .directory = stores.validators.get(),
                     .random = &random,
                     .clock = clock,
                     .metrics = &metrics},
      RotatorOptions(options));
  rotator->Start();
  playback_api = std::make_unique<PlaybackApi>(issuer.get(), options.default_token_ttl);
  catalog_api = std::make_unique<CatalogApi>(editor.get());
  session_api = std::make_unique<SessionApi>(revocations.get());
  edge_sync_api = std::make_unique<EdgeSyncApi>(hub.get());
  key_api = std::make_unique<KeyApi>(key_desk.get(), rotator.get());
}

absl::Status ServerApp::Parts::StartMetrics(Failure* failure) {
  if (options.metrics_addr.empty()) return absl::OkStatus();
  metrics.WatchLiveState(live.get());
  metrics.WatchEdgeSync(hub.get(), live.get());
  metrics.WatchSecretStore(stores.secrets.get());
  metrics.WatchKeyRotator(rotator.get());
  metrics.WatchRevocationPruner(pruner.get());
  if (const RedisClient* redis = stores.redis.get(); redis != nullptr) {
    metrics.WatchRedis([redis] { return CallCounts{.calls = redis->command_count(), .errors = redis->error_count()}; });
    if (redis->sentinel_mode()) metrics.WatchRedisFailovers([redis] { return redis->failover_count(); });
  }
  absl::StatusOr<std::unique_ptr<obs::MetricsEndpoint>> endpoint =
      obs::MetricsEndpoint::Start(options.metrics_addr, metrics.collectables());
  if (!endpoint.ok()) {
    *failure = {.event = "start_failed",
                .exit_code = endpoint.status().code() == absl::StatusCode::kInvalidArgument ? 2 : 1};
    return endpoint.status();
  }
  metrics_endpoint = *std::move(endpoint);
  return absl::OkStatus();
}

absl::Status ServerApp::Parts::StartGrpc(std::string* address, Failure* failure) {
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials =
      MakeGrpcServerCredentials({.cert_file = options.tls_cert,
                                 .key_file = options.tls_key,
                                 .client_ca_file = options.tls_client_ca,
                                 .client_cert = ClientCertOf<GrpcTlsOptions::ClientCert>(options)});
  if (!credentials.ok()) {
    *failure = kBadConfiguration;
    return credentials.status();
  }
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(options.grpc_addr, *credentials, &port);
  builder.SetMaxReceiveMessageSize(kMaxReceiveMessageBytes);
  // Every RPC goes through its scope check; the REST gateway checks the same
  // scopes itself and calls the same Api objects.
  grpc_access = std::make_unique<GrpcAccess>(&access);
  grpc_services = std::make_unique<GrpcServices>(GrpcApis{.playback = playback_api.get(),
                                                          .catalog = catalog_api.get(),
                                                          .sessions = session_api.get(),
                                                          .edge_sync = edge_sync_api.get(),
                                                          .hub = hub.get(),
                                                          .keys = key_api.get(),
                                                          .blocking = blocking.get(),
                                                          .max_waiting_calls = options.max_waiting_calls,
                                                          .metrics = &metrics},
                                                 grpc_access.get());
  grpc_services->RegisterWith(builder);
  builder.experimental().SetInterceptorCreators(GrpcMetricsInterceptors(&metrics));
  grpc_server = builder.BuildAndStart();
  if (grpc_server == nullptr || port == 0) return absl::UnavailableError(absl::StrCat("cannot listen on ", options.grpc_addr));
  *address = text::JoinHostPort(Address(options.grpc_addr).host, port);
  return absl::OkStatus();
}

absl::Status ServerApp::Parts::StartRest() {
  if (options.rest_addr.empty()) return absl::OkStatus();
  RestGatewayOptions rest_options{.trusted_proxies = options.trusted_proxies,
                                  .trust_cloudfront_headers = options.trust_cloudfront_headers,
                                  .entitlements = options.entitlements};
  rest_options.on_request = [this](absl::string_view route, int status, absl::Duration elapsed) {
    metrics.RecordHttpRequest(route, status, elapsed);
  };
  rest_options.viewer_tokens = oidc.get();
  EDGEPASS_ASSIGN_OR_RETURN(gateway, RestGateway::Create({.playback = playback_api.get(),
                                                          .catalog = catalog_api.get(),
                                                          .sessions = session_api.get(),
                                                          .edge_sync = edge_sync_api.get(),
                                                          .keys = key_api.get()},
                                                         &access, std::move(rest_options)));
  http::ServerOptions http_options;
  const text::HostPort rest = Address(options.rest_addr);
  http_options.host = rest.host;
  http_options.port = static_cast<uint16_t>(rest.port);
  http_options.shutdown_grace = options.shutdown_grace;
  http_options.read_timeout = options.rest_read_timeout;
  http_options.idle_timeout = options.rest_idle_timeout;
  http_options.threads = RestThreads(options, std::thread::hardware_concurrency());
  // Control-plane calls, and viewer tokens that would read the JWKS, wait off the loops.
  http_options.off_loop = [gateway = gateway.get()](const http::Request& r) { return gateway->MayWait(r); };
  http_options.run_off_loop = [pool = blocking.get()](std::function<void()> task) { pool->Run(std::move(task)); };
  http_options.max_off_loop_requests = static_cast<size_t>(options.max_waiting_calls);
  http_options.tls = {.cert_file = options.tls_cert,
                      .key_file = options.tls_key,
                      .client_ca_file = options.tls_client_ca,
                      .client_cert = ClientCertOf<http::TlsOptions::ClientCert>(options)};
  absl::StatusOr<std::unique_ptr<http::Server>> started =
      http::Server::Start(http_options, [gateway = gateway.get()](const http::Request& r) { return gateway->Handle(r); });
  if (!started.ok()) return absl::Status(started.status().code(), absl::StrCat("rest_addr: ", started.status().message()));
  rest_server = *std::move(started);
  return absl::OkStatus();
}

ServerApp::ServerApp(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}

ServerApp::~ServerApp() { Stop(); }

absl::StatusOr<std::unique_ptr<ServerApp>> ServerApp::Start(const ServerOptions& options, Failure* failure) {
  auto p = std::make_unique<Parts>();
  p->options = options;
  EDGEPASS_RETURN_IF_ERROR(p->OpenAccess(failure));
  *failure = Failure{};
  EDGEPASS_RETURN_IF_ERROR(p->OpenState());
  p->BuildServices();
  p->blocking = std::make_unique<BlockingPool>(BlockingThreads(options));
  EDGEPASS_RETURN_IF_ERROR(p->StartMetrics(failure));
  std::string grpc_address;
  EDGEPASS_RETURN_IF_ERROR(p->StartGrpc(&grpc_address, failure));
  EDGEPASS_RETURN_IF_ERROR(p->StartRest());

  const auto client_cert = ClientCertOf<GrpcTlsOptions::ClientCert>(options);
  const int rest_threads = p->rest_server ? RestThreads(options, std::thread::hardware_concurrency()) : 0;
  logging::Info("listening")
      .Str("grpc", grpc_address)
      .Str("rest", p->rest_server ? p->rest_server->address() : "off")
      .Str("metrics", p->metrics_endpoint != nullptr ? p->metrics_endpoint->address() : "off")
      .Str("data_dir", options.data_dir)
      .Str("state", !options.redis_sentinels.empty()
                        ? absl::StrCat("redis sentinel master ", options.redis_sentinel_master)
                    : options.redis_addr.empty() ? "embedded"
                                                 : absl::StrCat("redis ", options.redis_addr))
      .Int("assets", p->live->catalog()->assets().size())
      .Int("revoked_sessions", p->live->edge()->revoked.size())
      .Str("auth", p->access.open() ? "none" : "api keys and mTLS identities")
      .Str("tls", options.tls_cert.empty()                              ? "off"
                  : client_cert == GrpcTlsOptions::ClientCert::kNone    ? "on"
                  : client_cert == GrpcTlsOptions::ClientCert::kRequire ? "mtls required"
                                                                        : "mtls optional")
      .Str("viewer_mode", p->oidc ? "oidc" : "off")
      .Int("rest_threads", rest_threads)
      .Int("blocking_threads", p->blocking->threads());
  const bool rest_remote = !options.rest_addr.empty() && !core::IsLoopbackHost(Address(options.rest_addr).host);
  if (options.tls_cert.empty() && (rest_remote || !core::IsLoopbackHost(Address(options.grpc_addr).host))) {
    // Only with --insecure-plaintext (ValidateServerOptions refuses it otherwise).
    logging::Warning("insecure_plaintext")
        .Str("grpc", grpc_address)
        .Str("rest", options.rest_addr)
        .Str("detail",
             "--insecure-plaintext: gRPC or REST listens off loopback without TLS; EdgeSync "
             "streams HMAC keys and callers send API keys in cleartext. Give --tls-cert and "
             "--tls-key.");
  }
  if (p->access.open()) {
    logging::Warning("no_authentication")
        .Str("detail", "every caller has every scope; loopback only. Pass --access-file to require API keys.");
  }
  return std::unique_ptr<ServerApp>(new ServerApp(std::move(p)));
}

void ServerApp::Stop() {
  Parts& p = *parts_;
  if (p.stopped) return;
  p.stopped = true;
  if (p.rotator) p.rotator->Stop();  // a rotation in flight stops; the next one resumes it
  if (p.validator_reporter) p.validator_reporter->Stop();
  if (p.pruner) p.pruner->Stop();  // waits for a prune in flight: each of its steps is atomic
  // Validators move to another replica at once instead of waiting for the deadline.
  if (p.hub) p.hub->Stop();
  if (p.rest_server) p.rest_server->Stop();
  if (p.grpc_server) {
    p.grpc_server->Shutdown(absl::ToChronoTime(absl::Now() + p.options.shutdown_grace));
    p.grpc_server->Wait();
  }
}

}  // namespace edgepass::server
