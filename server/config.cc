#include "server/config.h"

#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "core/ip_address.h"
#include "core/status_macros.h"
#include "obs/metrics_endpoint.h"
#include "server/adapters/atomic_file.h"
#include "server/json_util.h"

namespace edgepass::server {
namespace {

using nlohmann::json;

absl::Status Invalid(absl::string_view where, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(where, ": ", what));
}

// One option, known under its three names.
struct OptionSpec {
  const char* key;   // config file key
  const char* env;   // environment variable
  const char* flag;  // command-line flag
  bool is_bool;
};

constexpr OptionSpec kOptions[] = {
    {"grpc_addr", "EDGEPASS_GRPC_ADDR", "--grpc-addr", false},
    {"metrics_addr", "EDGEPASS_METRICS_ADDR", "--metrics-addr", false},
    {"data_dir", "EDGEPASS_DATA_DIR", "--data-dir", false},
    {"catalog_file", "EDGEPASS_CATALOG_FILE", "--catalog-file", false},
    {"import_smd_assets", "EDGEPASS_IMPORT_SMD_ASSETS", "--import-smd-assets", false},
    {"default_token_ttl", "EDGEPASS_DEFAULT_TOKEN_TTL", "--default-token-ttl", false},
    {"max_token_ttl", "EDGEPASS_MAX_TOKEN_TTL", "--max-token-ttl", false},
    {"shutdown_grace", "EDGEPASS_SHUTDOWN_GRACE", "--shutdown-grace", false},
    {"insecure_allow_remote", "EDGEPASS_INSECURE_ALLOW_REMOTE", "--insecure-allow-remote", true},
    {"insecure_plaintext", "EDGEPASS_INSECURE_PLAINTEXT", "--insecure-plaintext", true},
    {"redis_addr", "EDGEPASS_REDIS_ADDR", "--redis-addr", false},
    {"redis_pool_size", "EDGEPASS_REDIS_POOL_SIZE", "--redis-pool-size", false},
    {"redis_timeout", "EDGEPASS_REDIS_TIMEOUT", "--redis-timeout", false},
    {"key_cache_ttl", "EDGEPASS_KEY_CACHE_TTL", "--key-cache-ttl", false},
    {"revocation_retention", "EDGEPASS_REVOCATION_RETENTION", "--revocation-retention", false},
    {"revocation_capacity", "EDGEPASS_REVOCATION_CAPACITY", "--revocation-capacity", false},
    {"rest_addr", "EDGEPASS_REST_ADDR", "--rest-addr", false},
    {"rest_read_timeout", "EDGEPASS_REST_READ_TIMEOUT", "--rest-read-timeout", false},
    {"rest_idle_timeout", "EDGEPASS_REST_IDLE_TIMEOUT", "--rest-idle-timeout", false},
    {"rest_threads", "EDGEPASS_REST_THREADS", "--rest-threads", false},
    {"access_file", "EDGEPASS_ACCESS_FILE", "--access-file", false},
    {"tls_cert", "EDGEPASS_TLS_CERT", "--tls-cert", false},
    {"tls_key", "EDGEPASS_TLS_KEY", "--tls-key", false},
    {"tls_client_ca", "EDGEPASS_TLS_CLIENT_CA", "--tls-client-ca", false},
    {"tls_client_cert", "EDGEPASS_TLS_CLIENT_CERT", "--tls-client-cert", false},
    {"trusted_proxies", "EDGEPASS_TRUSTED_PROXIES", "--trusted-proxies", false},
    {"trust_cloudfront_headers", "EDGEPASS_TRUST_CLOUDFRONT_HEADERS", "--trust-cloudfront-headers",
     true},
    {"oidc_issuer", "EDGEPASS_OIDC_ISSUER", "--oidc-issuer", false},
    {"oidc_audience", "EDGEPASS_OIDC_AUDIENCE", "--oidc-audience", false},
    {"oidc_jwks", "EDGEPASS_OIDC_JWKS", "--oidc-jwks", false},
    {"oidc_groups_claim", "EDGEPASS_OIDC_GROUPS_CLAIM", "--oidc-groups-claim", false},
    {"entitlements", "EDGEPASS_ENTITLEMENTS", "--entitlements", false},
    {"new_api_key", "EDGEPASS_NEW_API_KEY", "--new-api-key", false},
};

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> out;
  for (absl::string_view item : absl::StrSplit(text, ',', absl::SkipWhitespace())) {
    out.emplace_back(absl::StripAsciiWhitespace(item));
  }
  return out;
}

absl::Status ParseIntOption(absl::string_view where, const std::string& text, int min, int max,
                            int* out) {
  if (!absl::SimpleAtoi(text, out) || *out < min || *out > max) {
    return Invalid(where, absl::StrCat("\"", text, "\" is not an integer from ", min, " to ", max));
  }
  return absl::OkStatus();
}

absl::Status ParseDurationOption(absl::string_view where, const std::string& text,
                                 absl::Duration* out) {
  if (!absl::ParseDuration(text, out) || *out <= absl::ZeroDuration() ||
      *out == absl::InfiniteDuration()) {
    return Invalid(where, absl::StrCat("\"", text, "\" is not a positive duration like 30s, 10m, 2h"));
  }
  return absl::OkStatus();
}

absl::Status ParseBoolOption(absl::string_view where, const std::string& text, bool* out) {
  if (text == "1" || text == "true") {
    *out = true;
  } else if (text == "0" || text == "false") {
    *out = false;
  } else {
    return Invalid(where, absl::StrCat("\"", text, "\" is not true/false"));
  }
  return absl::OkStatus();
}

absl::Status Apply(const OptionSpec& spec, const std::string& value, absl::string_view where,
                   ServerOptions* o) {
  absl::string_view key = spec.key;
  if (key == "grpc_addr") {
    o->grpc_addr = value;
  } else if (key == "metrics_addr") {
    o->metrics_addr = value;
  } else if (key == "data_dir") {
    o->data_dir = value;
  } else if (key == "catalog_file") {
    o->catalog_file = value;
  } else if (key == "import_smd_assets") {
    o->import_smd_assets = value;
  } else if (key == "default_token_ttl") {
    return ParseDurationOption(where, value, &o->default_token_ttl);
  } else if (key == "max_token_ttl") {
    return ParseDurationOption(where, value, &o->max_token_ttl);
  } else if (key == "shutdown_grace") {
    return ParseDurationOption(where, value, &o->shutdown_grace);
  } else if (key == "insecure_allow_remote") {
    return ParseBoolOption(where, value, &o->insecure_allow_remote);
  } else if (key == "trust_cloudfront_headers") {
    return ParseBoolOption(where, value, &o->trust_cloudfront_headers);
  } else if (key == "insecure_plaintext") {
    return ParseBoolOption(where, value, &o->insecure_plaintext);
  } else if (key == "redis_addr") {
    o->redis_addr = value;
  } else if (key == "redis_pool_size") {
    return ParseIntOption(where, value, 1, 256, &o->redis_pool_size);
  } else if (key == "redis_timeout") {
    return ParseDurationOption(where, value, &o->redis_timeout);
  } else if (key == "key_cache_ttl") {
    return ParseDurationOption(where, value, &o->key_cache_ttl);
  } else if (key == "revocation_retention") {
    return ParseDurationOption(where, value, &o->revocation_retention);
  } else if (key == "revocation_capacity") {
    return ParseIntOption(where, value, 1, 10000000, &o->revocation_capacity);
  } else if (key == "rest_addr") {
    o->rest_addr = value;
  } else if (key == "rest_read_timeout") {
    return ParseDurationOption(where, value, &o->rest_read_timeout);
  } else if (key == "rest_idle_timeout") {
    return ParseDurationOption(where, value, &o->rest_idle_timeout);
  } else if (key == "rest_threads") {
    return ParseIntOption(where, value, 0, 256, &o->rest_threads);
  } else if (key == "access_file") {
    o->access_file = value;
  } else if (key == "tls_cert") {
    o->tls_cert = value;
  } else if (key == "tls_key") {
    o->tls_key = value;
  } else if (key == "tls_client_ca") {
    o->tls_client_ca = value;
  } else if (key == "tls_client_cert") {
    if (value != "optional" && value != "require") {
      return Invalid(where, absl::StrCat("\"", value, "\" is not optional or require"));
    }
    o->tls_client_cert = value;
  } else if (key == "trusted_proxies") {
    o->trusted_proxies = SplitList(value);
  } else if (key == "oidc_issuer") {
    o->oidc_issuer = value;
  } else if (key == "oidc_audience") {
    o->oidc_audiences = SplitList(value);
  } else if (key == "oidc_jwks") {
    o->oidc_jwks = value;
  } else if (key == "oidc_groups_claim") {
    o->oidc_groups_claim = value;
  } else if (key == "entitlements") {
    o->entitlements = SplitList(value);
  } else if (key == "new_api_key") {
    o->new_api_key = value;
  }
  return absl::OkStatus();
}

absl::Status ApplyConfigFile(const std::string& path, ServerOptions* o) {
  EDGEPASS_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  EDGEPASS_ASSIGN_OR_RETURN(json doc, ParseJson(text, path));
  if (!doc.is_object()) return Invalid(path, "must be a JSON object");
  for (const auto& [key, value] : doc.items()) {
    const OptionSpec* spec = nullptr;
    for (const auto& s : kOptions) {
      if (key == s.key) spec = &s;
    }
    std::string where = absl::StrCat(path, ": ", key);
    if (spec == nullptr) return Invalid(path, absl::StrCat("unknown option \"", key, "\""));
    std::string text_value;
    if (value.is_string()) {
      text_value = value.get_ref<const std::string&>();
    } else if (spec->is_bool && value.is_boolean()) {
      text_value = value.get<bool>() ? "true" : "false";
    } else {
      return Invalid(where, spec->is_bool ? "must be a boolean" : "must be a string");
    }
    EDGEPASS_RETURN_IF_ERROR(Apply(*spec, text_value, where, o));
  }
  return absl::OkStatus();
}

}  // namespace

std::string HelpText() {
  return R"(usage: edgepass-server [options]

Token-vending service for protected video streams (SMD-compatible tokens).
Options are read from the config file, then EDGEPASS_* environment variables,
then flags (later wins).

  --config FILE              JSON config file (env EDGEPASS_CONFIG); keys are the
                             option names below with '_' (e.g. "data_dir")
  --grpc-addr HOST:PORT      listen address (default 127.0.0.1:50051; port 0 picks
                             a free port, printed at start)   env EDGEPASS_GRPC_ADDR
  --metrics-addr HOST:PORT   Prometheus metrics at http://HOST:PORT/metrics (default
                             127.0.0.1:9464; port 0 picks a free port, printed at
                             start; "" disables)              env EDGEPASS_METRICS_ADDR
  --data-dir DIR             keyring.json, catalog.json, revocations.json
                             (default ./.data)                env EDGEPASS_DATA_DIR
  --catalog-file FILE        catalog to merge into DIR/catalog.json at start
                                                              env EDGEPASS_CATALOG_FILE
  --import-smd-assets FILE   SMD asset items (DynamoDB JSON) to merge at start
                                                              env EDGEPASS_IMPORT_SMD_ASSETS
  --default-token-ttl DUR    lifetime when an inline policy has no exp (default 1h)
                                                              env EDGEPASS_DEFAULT_TOKEN_TTL
  --max-token-ttl DUR        no token lives longer, whatever the route or policy
                             (default 24h)                    env EDGEPASS_MAX_TOKEN_TTL
  --shutdown-grace DUR       drain time on SIGTERM/SIGINT (default 5s)
                                                              env EDGEPASS_SHUTDOWN_GRACE
  --rest-addr HOST:PORT      REST gateway address (default 127.0.0.1:8080; empty:
                             off)                             env EDGEPASS_REST_ADDR
  --rest-read-timeout DUR    a REST request must arrive within this, and a new
                             connection's first one must start within it
                             (default 10s)                    env EDGEPASS_REST_READ_TIMEOUT
  --rest-idle-timeout DUR    a kept-alive REST connection waiting for its next
                             request is closed after this (default 60s)
                                                              env EDGEPASS_REST_IDLE_TIMEOUT
  --rest-threads N           threads serving REST requests (default 0: the larger
                             of 8 and the number of cores)    env EDGEPASS_REST_THREADS
  --access-file FILE         API keys (SHA-256 hashes) and mTLS identities with
                             scopes; without it there is no authentication and
                             only loopback is allowed         env EDGEPASS_ACCESS_FILE
  --new-api-key NAME:SCOPES  print a new API key and its access-file entry, exit
                             (scopes: issue,revoke,catalog,keys,edge-sync,mint,
                             admin; mint: IssueToken with an inline policy)
  --tls-cert FILE            server certificate chain (PEM) for gRPC and REST
                                                              env EDGEPASS_TLS_CERT
  --tls-key FILE             its private key (PEM)            env EDGEPASS_TLS_KEY
  --tls-client-ca FILE       CA of client certificates (mTLS) env EDGEPASS_TLS_CLIENT_CA
  --tls-client-cert MODE     optional (default) or require    env EDGEPASS_TLS_CLIENT_CERT
  --trusted-proxies CIDRS    peers whose X-Forwarded-For is believed (comma
                             list)                            env EDGEPASS_TRUSTED_PROXIES
  --trust-cloudfront-headers the trusted proxies are CloudFront (or strip these
                             headers): believe CloudFront-Viewer-Address and the
                             geo headers from them  env EDGEPASS_TRUST_CLOUDFRONT_HEADERS
  --oidc-issuer URL          viewer-facing mode: REST playback routes need an
                             end-user ID token from this issuer env EDGEPASS_OIDC_ISSUER
  --oidc-audience IDS        accepted audiences (comma list)  env EDGEPASS_OIDC_AUDIENCE
  --oidc-jwks FILE|URL       the issuer's signing keys (JWKS) env EDGEPASS_OIDC_JWKS
  --oidc-groups-claim NAME   claim listing the viewer's groups (default
                             cognito:groups)                  env EDGEPASS_OIDC_GROUPS_CLAIM
  --entitlements LIST        groups that are entitlements, first match wins
                             (default premium,standard)       env EDGEPASS_ENTITLEMENTS
  --insecure-allow-remote    allow a non-loopback listen address without an
                             access file                      env EDGEPASS_INSECURE_ALLOW_REMOTE
  --insecure-plaintext       allow a non-loopback --grpc-addr without TLS (EdgeSync
                             would send HMAC keys, callers API keys, in
                             cleartext; logs a warning)       env EDGEPASS_INSECURE_PLAINTEXT
  --redis-addr HOST:PORT     fleet mode: shared state in Redis (default: none, the
                             data dir only)                   env EDGEPASS_REDIS_ADDR
  --redis-pool-size N        Redis connections (default 8)    env EDGEPASS_REDIS_POOL_SIZE
  --redis-timeout DUR        Redis connect/command timeout (default 500ms)
                                                              env EDGEPASS_REDIS_TIMEOUT
  --key-cache-ttl DUR        keyring cache lifetime (default 5m)
                                                              env EDGEPASS_KEY_CACHE_TTL
  --revocation-retention DUR revoked sessions older than this are not sent to
                             validators (default 24h)         env EDGEPASS_REVOCATION_RETENTION
  --revocation-capacity N    at most N revoked sessions sent to validators
                             (default 1000000)                env EDGEPASS_REVOCATION_CAPACITY
  --help                     this text

Exit codes: 0 clean shutdown, 1 start-up failure (data dir), 2 bad configuration.
)";
}

absl::Status SplitHostPort(const std::string& addr, std::string* host, int* port) {
  absl::string_view rest = addr;
  size_t colon = rest.rfind(':');
  if (colon == absl::string_view::npos) return absl::InvalidArgumentError("expected HOST:PORT");
  absl::string_view h = rest.substr(0, colon);
  absl::string_view p = rest.substr(colon + 1);
  if (absl::ConsumePrefix(&h, "[")) {
    if (!absl::ConsumeSuffix(&h, "]")) return absl::InvalidArgumentError("unbalanced '[' in host");
  } else if (absl::StrContains(h, ':')) {
    return absl::InvalidArgumentError("IPv6 hosts must be bracketed: [::1]:PORT");
  }
  if (h.empty()) return absl::InvalidArgumentError("host is empty");
  int n;
  if (p.empty() || !absl::SimpleAtoi(p, &n) || n < 0 || n > 65535) {
    return absl::InvalidArgumentError("port must be 0-65535");
  }
  *host = std::string(h);
  *port = n;
  return absl::OkStatus();
}

int RestThreads(const ServerOptions& options, unsigned cores) {
  constexpr int kMinDefaultThreads = 8;
  constexpr unsigned kMaxThreads = 256;  // as --rest-threads
  if (options.rest_threads > 0) return options.rest_threads;
  return std::max(kMinDefaultThreads, static_cast<int>(std::min(cores, kMaxThreads)));
}


absl::Status ValidateServerOptions(const ServerOptions& o) {
  std::string host;
  int port;
  absl::Status addr = SplitHostPort(o.grpc_addr, &host, &port);
  if (!addr.ok()) return Invalid("grpc_addr", addr.message());
  // EdgeSync (always served) streams HMAC key values and callers send API
  // keys; REST callers send API keys, ID tokens and CloudFront private keys:
  // off loopback that needs TLS or an explicit opt-out. A host name other
  // than "localhost" counts as non-loopback (it is not resolved).
  auto require_tls_off_loopback = [&](const char* flag, const std::string& addr,
                                      const std::string& h, const char* what) {
    if (core::IsLoopbackHost(h) || !o.tls_cert.empty() || o.insecure_plaintext) {
      return absl::OkStatus();
    }
    return Invalid(flag, absl::StrCat(addr, " is not a loopback address and TLS is off: ", what,
                                      " in cleartext; give --tls-cert and --tls-key, or "
                                      "--insecure-plaintext to allow it"));
  };
  EDGEPASS_RETURN_IF_ERROR(require_tls_off_loopback(
      "--grpc-addr", o.grpc_addr, host, "EdgeSync would send HMAC keys (and callers API keys)"));
  auto require_auth_off_loopback = [&](const char* field, const std::string& h) {
    if (core::IsLoopbackHost(h) || !o.access_file.empty() || o.insecure_allow_remote) return absl::OkStatus();
    return Invalid(field, absl::StrCat("\"", h,
                                       "\" is not loopback and there is no --access-file; "
                                       "pass --insecure-allow-remote to allow it"));
  };
  EDGEPASS_RETURN_IF_ERROR(require_auth_off_loopback("grpc_addr", host));
  if (!o.rest_addr.empty()) {
    absl::Status rest = SplitHostPort(o.rest_addr, &host, &port);
    if (!rest.ok()) return Invalid("rest_addr", rest.message());
    EDGEPASS_RETURN_IF_ERROR(require_tls_off_loopback(
        "--rest-addr", o.rest_addr, host,
        "callers would send API keys, ID tokens and CloudFront private keys"));
    EDGEPASS_RETURN_IF_ERROR(require_auth_off_loopback("rest_addr", host));
  }
  if (o.rest_read_timeout > absl::Minutes(5)) return Invalid("rest_read_timeout", "must be at most 5m");
  if (o.rest_idle_timeout > absl::Hours(1)) return Invalid("rest_idle_timeout", "must be at most 1h");
  if (o.tls_cert.empty() != o.tls_key.empty()) {
    return Invalid(o.tls_cert.empty() ? "tls_cert" : "tls_key", "tls_cert and tls_key go together");
  }
  if (!o.tls_client_ca.empty() && o.tls_cert.empty()) {
    return Invalid("tls_client_ca", "needs tls_cert and tls_key (mTLS is TLS first)");
  }
  if (!o.oidc_issuer.empty() && (o.oidc_audiences.empty() || o.oidc_jwks.empty())) {
    return Invalid(o.oidc_audiences.empty() ? "oidc_audience" : "oidc_jwks",
                   "required with oidc_issuer");
  }
  if (o.oidc_issuer.empty() && (!o.oidc_audiences.empty() || !o.oidc_jwks.empty())) {
    return Invalid("oidc_issuer", "required with oidc_audience and oidc_jwks");
  }
  if (!o.metrics_addr.empty()) {
    absl::Status metrics = obs::ValidateMetricsAddress(o.metrics_addr);
    if (!metrics.ok()) return Invalid("metrics_addr", metrics.message());
  }
  if (o.data_dir.empty()) return Invalid("data_dir", "must not be empty");
  if (o.default_token_ttl > absl::Hours(24 * 30)) {
    return Invalid("default_token_ttl", "must be at most 720h");
  }
  if (o.max_token_ttl > absl::Hours(24 * 366)) return Invalid("max_token_ttl", "must be at most 8784h");
  if (o.default_token_ttl > o.max_token_ttl) {
    return Invalid("default_token_ttl", absl::StrCat(absl::FormatDuration(o.default_token_ttl),
                                                     " is longer than max_token_ttl (",
                                                     absl::FormatDuration(o.max_token_ttl), ")"));
  }
  if (o.shutdown_grace > absl::Minutes(5)) return Invalid("shutdown_grace", "must be at most 5m");
  if (!o.redis_addr.empty()) {
    absl::Status redis = SplitHostPort(o.redis_addr, &host, &port);
    if (!redis.ok() || port == 0) {
      return Invalid("redis_addr", redis.ok() ? "port must be 1-65535" : redis.message());
    }
  }
  if (o.redis_timeout > absl::Minutes(1)) return Invalid("redis_timeout", "must be at most 1m");
  if (o.key_cache_ttl > absl::Hours(24)) return Invalid("key_cache_ttl", "must be at most 24h");
  return absl::OkStatus();
}

absl::StatusOr<ServerOptions> ParseServerOptions(
    const std::vector<std::string>& args,
    const std::function<const char*(const char*)>& getenv) {
  ServerOptions o;

  // Flags are parsed first into (spec, value) pairs and applied last.
  std::vector<std::pair<const OptionSpec*, std::string>> flags;
  std::string config_file;
  if (const char* env = getenv("EDGEPASS_CONFIG"); env != nullptr && *env != '\0') config_file = env;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string arg = args[i];
    std::string value;
    bool has_value = false;
    if (size_t eq = arg.find('='); absl::StartsWith(arg, "--") && eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
      has_value = true;
    }
    if (arg == "--help" || arg == "-h") {
      o.help = true;
      return o;
    }
    const OptionSpec* spec = nullptr;
    for (const auto& s : kOptions) {
      if (arg == s.flag) spec = &s;
    }
    if (arg != "--config" && spec == nullptr) {
      return Invalid(arg, "unknown flag (see --help)");
    }
    if (!has_value) {
      if (spec != nullptr && spec->is_bool) {
        value = "true";
      } else if (i + 1 < args.size()) {
        value = args[++i];
      } else {
        return Invalid(arg, "missing value");
      }
    }
    if (arg == "--config") {
      config_file = value;
    } else {
      flags.emplace_back(spec, value);
    }
  }

  if (!config_file.empty()) {
    absl::Status s = ApplyConfigFile(config_file, &o);
    if (!s.ok()) return s;
  }
  for (const auto& spec : kOptions) {
    const char* env = getenv(spec.env);
    if (env == nullptr || *env == '\0') continue;
    EDGEPASS_RETURN_IF_ERROR(Apply(spec, env, spec.env, &o));
  }
  for (const auto& [spec, value] : flags) {
    EDGEPASS_RETURN_IF_ERROR(Apply(*spec, value, spec->flag, &o));
  }
  EDGEPASS_RETURN_IF_ERROR(ValidateServerOptions(o));
  return o;
}

}  // namespace edgepass::server
