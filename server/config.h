// Server options: one plain struct, parsed once (config file, then
// environment, then flags), validated once, passed down by value. Each
// option's flag, environment variable, config key, default and help line are
// declared once, in config_table.cc; parsing, --help and the configuration
// table of docs/configuration.md come from there.
//
//   absl::StatusOr<ServerOptions> o = ParseServerOptions(args, std::getenv);
//   if (!o.ok()) { std::cerr << o.status().message() << "\n"; return 2; }
#ifndef EDGEPASS_SERVER_CONFIG_H_
#define EDGEPASS_SERVER_CONFIG_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/api/blocking_pool.h"

namespace edgepass::server {

struct ServerOptions {
  // host:port to listen on; port 0 picks a free port (printed at start).
  std::string grpc_addr = "127.0.0.1:50051";
  // Prometheus metrics on http://HOST:PORT/metrics (IPv4 or a host name;
  // port 0 picks a free port, printed at start). Empty: no metrics endpoint.
  std::string metrics_addr = "127.0.0.1:9464";
  // Embedded state: keyring.json, catalog.json, revocations.json.
  std::string data_dir = "./.data";
  // Optional catalog file (project format) merged into the data dir at start.
  std::string catalog_file;
  // Optional SMD asset items (DynamoDB JSON) merged into the catalog at start.
  std::string import_smd_assets;
  // Lifetime of IssueToken tokens whose policy has no `exp`.
  absl::Duration default_token_ttl = absl::Hours(1);
  // No token outlives this, whatever the route or policy (issue-time check;
  // catalog writes of longer relative policies are refused).
  absl::Duration max_token_ttl = absl::Hours(24);
  // How long in-flight calls may finish after SIGTERM/SIGINT.
  absl::Duration shutdown_grace = absl::Seconds(5);
  // Fleet mode: Redis at host:port holds the keyring cache, catalog,
  // revocations and change notifications. Empty: the embedded data dir only.
  std::string redis_addr;
  // Connections to Redis per replica.
  int redis_pool_size = 8;
  // Connect and command timeout for Redis.
  absl::Duration redis_timeout = absl::Milliseconds(500);
  // Sentinel mode (instead of redis_addr): HOST:PORT of the Redis Sentinels
  // that name the primary of redis_sentinel_master; failovers are followed.
  std::vector<std::string> redis_sentinels;
  std::string redis_sentinel_master = "mymaster";
  // When > 0, revoke and catalog writes also wait (Redis WAIT) for this many
  // replicas, at most redis_wait_timeout; fewer acks: UNAVAILABLE.
  int redis_wait_replicas = 0;
  absl::Duration redis_wait_timeout = absl::Milliseconds(500);
  // Durable home of the signing keys: "file" (DATA_DIR/keyring.json) or
  // "aws" (AWS Secrets Manager, docs/secrets.md).
  std::string secrets_store = "file";
  // AWS region; empty: AWS_REGION, AWS_DEFAULT_REGION, then the AWS config profile.
  std::string aws_region;
  // Secrets Manager (and STS) endpoint override: https://..., http:// on loopback only.
  std::string aws_endpoint;
  // The secret holding the keyring (secrets_store aws).
  std::string aws_secret_id = "edgepass/keyring";
  // Adopt an SMD deployment: its <stack>_PrimarySecret/_SecondarySecret/
  // _TemporarySecret are the keyring (secrets_store aws).
  std::string smd_stack_name;
  // How long a replica uses its cached keyring before refreshing it.
  absl::Duration key_cache_ttl = absl::Minutes(5);
  // Automatic key rotation: every interval (zero: off), or on SMD's
  // EventBridge cron schedule (empty: off); at most one of the two.
  absl::Duration key_rotation_interval = absl::ZeroDuration();
  std::string key_rotation_schedule;
  // How long a new key waits for every live validator's acknowledgement.
  absl::Duration key_rotation_ack_deadline = absl::Seconds(60);
  // Revoked sessions older than this no longer reach validators.
  absl::Duration revocation_retention = absl::Hours(24);
  // At most this many revoked sessions reach validators.
  int revocation_capacity = 1000000;
  // How often a replica checks its revocation list against the store
  // (entry counts) and loads it again when they differ.
  absl::Duration revocation_check_interval = absl::Minutes(5);
  // How often a replica drops revoked sessions whose expires_at lies more
  // than revocation_prune_grace in the past from the store (zero: never).
  absl::Duration revocation_prune_interval = absl::Hours(1);
  absl::Duration revocation_prune_grace = absl::Hours(1);
  // REST gateway (JSON over HTTP/1.1) listen address; empty: no gateway.
  std::string rest_addr = "127.0.0.1:8080";
  // A REST request must arrive whole within this (slow clients are dropped).
  absl::Duration rest_read_timeout = absl::Seconds(10);
  // A kept-alive REST connection waiting for its next request is closed
  // after this (a new connection waits at most rest_read_timeout).
  absl::Duration rest_idle_timeout = absl::Seconds(60);
  // Threads serving REST requests; 0: RestThreads()'s default. Calls that
  // may wait on a store (RpcMayWait) run on the blocking pool, the rest here.
  int rest_threads = 0;
  // Calls that may wait on a store (catalog, sessions, keys: RpcMayWait)
  // queued on the blocking pool or running there, per transport; one more is
  // refused at once.
  int max_waiting_calls = kDefaultMaxWaitingCalls;
  // API keys (hashed) and mTLS identities with their scopes (server/auth/access.h).
  // Empty: no authentication, allowed on loopback only.
  std::string access_file;
  // TLS for gRPC and REST: server certificate chain and key (PEM). Empty: plaintext.
  std::string tls_cert;
  std::string tls_key;
  // CA that signs client certificates (mTLS); client_cert says whether one is
  // "optional" (bearer keys still work) or "require"d. Empty CA: no mTLS.
  std::string tls_client_ca;
  std::string tls_client_cert = "optional";
  // Peers whose X-Forwarded-For / CloudFront-Viewer-* headers are believed
  // (CIDR ranges).
  std::vector<std::string> trusted_proxies;
  // CloudFront-Viewer-Address and CloudFront-Viewer-Country(-Region)/-City
  // are believed from trusted proxies only with this (they are CloudFront, or
  // strip the viewer's copies); otherwise a viewer behind a plain proxy could
  // name the address and country its token binds.
  bool trust_cloudfront_headers = false;
  // Viewer-facing mode (REST playback routes take an end-user ID token):
  // issuer, accepted audiences, JWKS file or URL and how often it is re-read,
  // groups claim, and the entitlements in the order they are chosen from the
  // viewer's groups.
  std::string oidc_issuer;
  std::vector<std::string> oidc_audiences;
  std::string oidc_jwks;
  absl::Duration oidc_jwks_refresh = absl::Minutes(10);
  std::string oidc_groups_claim = "cognito:groups";
  std::vector<std::string> entitlements = {"premium", "standard"};
  // Listening on a non-loopback address without an access file is refused
  // unless this is set.
  bool insecure_allow_remote = false;
  // A non-loopback grpc_addr without TLS (tls_cert/tls_key) is refused unless
  // this is set: EdgeSync streams HMAC key values, and callers send API keys.
  // Independent of insecure_allow_remote (which is about authentication).
  bool insecure_plaintext = false;
  // --new-api-key NAME:SCOPES: print a new key and its access-file entry, exit.
  std::string new_api_key;
  // --help was given: print HelpText() and exit 0.
  bool help = false;
};

// Usage text for --help.
std::string HelpText();

// The Markdown table of every option (flag, environment variable, config
// key, default, meaning) that docs/configuration.md holds between its
// "generated" markers; tests/docs/options_doc_main.cc writes and checks it.
std::string ConfigurationMarkdown();

// Parses `args` (without argv[0]). Order: the JSON config file named by
// --config or EDGEPASS_CONFIG, then EDGEPASS_* environment variables (read
// through `getenv`), then flags (`--flag value` or `--flag=value`). The result
// is validated. INVALID_ARGUMENT with one line naming the source and option at
// fault (e.g. "--grpc-addr: port must be 0-65535"); NOT_FOUND when the config
// file is missing.
absl::StatusOr<ServerOptions> ParseServerOptions(
    const std::vector<std::string>& args,
    const std::function<const char*(const char*)>& getenv);

// Checks the rules ParseServerOptions applies; exposed for tests.
absl::Status ValidateServerOptions(const ServerOptions& options);


// The REST gateway's thread count: options.rest_threads, or when that is 0
// the larger of 8 (the Redis pool's default size) and `cores` (pass
// std::thread::hardware_concurrency(); 0 when unknown).
int RestThreads(const ServerOptions& options, unsigned cores);

}  // namespace edgepass::server

#endif  // EDGEPASS_SERVER_CONFIG_H_
