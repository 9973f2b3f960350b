#include "client/sidecar/sidecar_options.h"

#include <map>
#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "client/channel/plaintext_guard.h"
#include "core/validator.h"
#include "obs/metrics_endpoint.h"

namespace edgepass::sidecar {
namespace {

struct FlagDef {
  const char* name;
  const char* env;
  bool repeated;
  bool is_switch = false;  // "--name" alone means true
};

constexpr FlagDef kFlags[] = {
    {"listen", "EDGEPASS_VALIDATOR_LISTEN", false},
    {"keyring", "EDGEPASS_VALIDATOR_KEYRING", false},
    {"revoked", "EDGEPASS_VALIDATOR_REVOKED", false},
    {"snapshot", "EDGEPASS_VALIDATOR_SNAPSHOT", false},
    {"mode", "EDGEPASS_VALIDATOR_MODES", true},
    {"leeway", "EDGEPASS_VALIDATOR_LEEWAY", false},
    {"server", "EDGEPASS_VALIDATOR_SERVERS", true},
    {"api-key-file", "EDGEPASS_VALIDATOR_API_KEY_FILE", false},
    {"server-ca", "EDGEPASS_VALIDATOR_SERVER_CA", false},
    {"client-cert", "EDGEPASS_VALIDATOR_CLIENT_CERT", false},
    {"client-key", "EDGEPASS_VALIDATOR_CLIENT_KEY", false},
    {"cloudfront-public-keys", "EDGEPASS_VALIDATOR_CLOUDFRONT_PUBLIC_KEYS",
     false},
    {"cloudfront-url-base", "EDGEPASS_VALIDATOR_CLOUDFRONT_URL_BASE", false},
    {"cloudfront-route", "EDGEPASS_VALIDATOR_CLOUDFRONT_ROUTES", true},
    {"threads", "EDGEPASS_VALIDATOR_THREADS", false},
    {"idle-timeout", "EDGEPASS_VALIDATOR_IDLE_TIMEOUT", false},
    {"metrics-addr", "EDGEPASS_VALIDATOR_METRICS_ADDR", false},
    {"insecure-plaintext", "EDGEPASS_VALIDATOR_INSECURE_PLAINTEXT", false,
     true},
};

absl::Status Bad(absl::string_view flag, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat("--", flag, ": ", message));
}

// Splits "HOST:PORT" / "[V6]:PORT".
absl::Status ParseHostPort(absl::string_view flag, absl::string_view text,
                           std::string* host, uint16_t* port) {
  absl::string_view h, p;
  if (absl::StartsWith(text, "[")) {
    const size_t close = text.find("]:");
    if (close == absl::string_view::npos)
      return Bad(flag, "expected HOST:PORT or [V6]:PORT");
    h = text.substr(1, close - 1);
    p = text.substr(close + 2);
  } else {
    const size_t colon = text.rfind(':');
    if (colon == absl::string_view::npos)
      return Bad(flag, "expected HOST:PORT");
    h = text.substr(0, colon);
    p = text.substr(colon + 1);
  }
  uint32_t n;
  if (h.empty() || !absl::SimpleAtoi(p, &n) || n > 65535) {
    return Bad(flag, absl::StrCat("'", text,
                                  "' is not HOST:PORT with a port 0-65535"));
  }
  *host = std::string(h);
  *port = static_cast<uint16_t>(n);
  return absl::OkStatus();
}

absl::StatusOr<absl::Duration> ParseLeeway(absl::string_view text) {
  absl::Duration d;
  int64_t seconds;
  if (absl::SimpleAtoi(text, &seconds)) {
    d = absl::Seconds(seconds);
  } else if (!absl::ParseDuration(text, &d)) {
    return Bad("leeway",
               absl::StrCat("'", text, "' is not a duration (e.g. 30s, 2m)"));
  }
  if (d < absl::ZeroDuration() || d > core::kMaxLeeway) {
    return Bad("leeway", absl::StrCat("must be between 0 and ",
                                      absl::FormatDuration(core::kMaxLeeway)));
  }
  return d;
}

// A keep-alive idle timeout: positive, at most an hour.
absl::StatusOr<absl::Duration> ParseIdleTimeout(absl::string_view text) {
  absl::Duration d;
  if (!absl::ParseDuration(text, &d) || d <= absl::ZeroDuration() ||
      d > absl::Hours(1)) {
    return Bad("idle-timeout",
               absl::StrCat("'", text,
                            "' is not a duration from 1ms to 1h (e.g. 60s)"));
  }
  return d;
}

// The three CloudFront options go together; the keys file is read at start.
absl::Status ParseCloudFrontOptions(
    const std::map<std::string, std::vector<std::string>>& values,
    SidecarOptions* options) {
  auto get = [&](const char* name) -> std::vector<std::string> {
    auto it = values.find(name);
    return it == values.end() ? std::vector<std::string>{} : it->second;
  };
  const std::vector<std::string> keys = get("cloudfront-public-keys");
  const std::vector<std::string> base = get("cloudfront-url-base");
  options->cloudfront_routes = get("cloudfront-route");
  if (!keys.empty()) options->cloudfront_public_keys_file = keys.front();
  if (!base.empty()) options->cloudfront_url_base = base.front();
  const bool any =
      !keys.empty() || !base.empty() || !options->cloudfront_routes.empty();
  if (!any) return absl::OkStatus();
  if (keys.empty())
    return Bad("cloudfront-public-keys",
               "needed with --cloudfront-url-base and --cloudfront-route");
  if (base.empty())
    return Bad("cloudfront-url-base",
               "needed with --cloudfront-public-keys and --cloudfront-route "
               "(e.g. https://cdn.example.com)");
  if (options->cloudfront_routes.empty())
    return Bad(
        "cloudfront-route",
        "needed with --cloudfront-public-keys and --cloudfront-url-base");
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<SidecarOptions> ParseSidecarOptions(
    absl::Span<const std::string> args, const EnvLookup& env) {
  // name -> values; environment first, flags replace.
  std::map<std::string, std::vector<std::string>> values;
  for (const FlagDef& f : kFlags) {
    const char* v = env ? env(f.env) : nullptr;
    if (v == nullptr || *v == '\0') continue;
    if (f.repeated) {
      std::vector<std::string>& list = values[f.name];
      for (absl::string_view item :
           absl::StrSplit(v, ',', absl::SkipWhitespace()))
        list.emplace_back(absl::StripAsciiWhitespace(item));
    } else {
      values[f.name] = {v};
    }
  }
  std::map<std::string, bool> from_flags;
  SidecarOptions options;
  for (size_t i = 0; i < args.size(); ++i) {
    absl::string_view arg = args[i];
    if (arg == "--help" || arg == "-h") {
      options.help = true;
      return options;
    }
    if (!absl::ConsumePrefix(&arg, "--")) {
      return absl::InvalidArgumentError(
          absl::StrCat("unexpected argument '", arg, "'"));
    }
    const size_t eq = arg.find('=');
    const std::string name(arg.substr(0, eq));
    const FlagDef* def = nullptr;
    for (const FlagDef& f : kFlags) {
      if (name == f.name) def = &f;
    }
    if (def == nullptr)
      return absl::InvalidArgumentError(absl::StrCat("unknown flag --", name));
    std::string value;
    if (eq != absl::string_view::npos) {
      value = std::string(arg.substr(eq + 1));
    } else if (def->is_switch) {
      value = "true";
    } else {
      if (i + 1 >= args.size()) return Bad(name, "needs a value");
      value = args[++i];
    }
    std::vector<std::string>& slot = values[name];
    if (!from_flags[name]) slot.clear();  // flags replace the environment
    if (!def->repeated && !slot.empty())
      return Bad(name, "given more than once");
    from_flags[name] = true;
    slot.push_back(std::move(value));
  }

  auto one = [&](const char* name) -> const std::string* {
    auto it = values.find(name);
    return it == values.end() || it->second.empty() ? nullptr
                                                    : &it->second.front();
  };
  if (const std::string* v = one("listen")) {
    if (absl::Status s = ParseHostPort("listen", *v, &options.listen_host,
                                       &options.listen_port);
        !s.ok()) {
      return s;
    }
  }
  if (const std::string* v = one("keyring")) options.keyring_file = *v;
  if (const std::string* v = one("revoked")) options.revoked_file = *v;
  if (const std::string* v = one("snapshot")) options.snapshot_file = *v;
  if (const std::string* v = one("leeway")) {
    absl::StatusOr<absl::Duration> d = ParseLeeway(*v);
    if (!d.ok()) return d.status();
    options.leeway = *d;
  }
  if (const std::string* v = one("threads")) {
    if (!absl::SimpleAtoi(*v, &options.threads) || options.threads < 1 ||
        options.threads > 64) {
      return Bad("threads", absl::StrCat("'", *v, "' must be 1-64"));
    }
  }
  if (const std::string* v = one("idle-timeout")) {
    absl::StatusOr<absl::Duration> d = ParseIdleTimeout(*v);
    if (!d.ok()) return d.status();
    options.idle_timeout = *d;
  }
  if (const std::string* v = one("metrics-addr")) {
    if (!v->empty()) {
      if (absl::Status s = obs::ValidateMetricsAddress(*v); !s.ok())
        return Bad("metrics-addr", s.message());
    }
    options.metrics_addr = *v;
  }
  if (auto it = values.find("mode");
      it != values.end() && !it->second.empty()) {
    options.modes.clear();
    for (const std::string& text : it->second) {
      absl::StatusOr<RouteMode> route = ParseRouteMode(text);
      if (!route.ok()) return Bad("mode", route.status().message());
      options.modes.push_back(*std::move(route));
    }
    if (absl::StatusOr<RouteModes> table = RouteModes::Create(options.modes);
        !table.ok()) {
      return Bad("mode", table.status().message());
    }
  }
  if (auto it = values.find("server"); it != values.end()) {
    for (const std::string& text : it->second) {
      std::string host;
      uint16_t port;
      if (absl::Status s = ParseHostPort("server", text, &host, &port); !s.ok())
        return s;
      if (port == 0)
        return Bad("server", absl::StrCat("'", text, "' needs a port"));
      options.servers.push_back(text);
    }
  }
  if (const std::string* v = one("insecure-plaintext")) {
    if (*v == "1" || *v == "true") {
      options.insecure_plaintext = true;
    } else if (*v != "0" && *v != "false") {
      return Bad("insecure-plaintext",
                 absl::StrCat("'", *v, "' is not true or false"));
    }
  }
  if (const std::string* v = one("api-key-file")) options.api_key_file = *v;
  if (const std::string* v = one("server-ca")) options.server_ca_file = *v;
  if (const std::string* v = one("client-cert")) options.client_cert_file = *v;
  if (const std::string* v = one("client-key")) options.client_key_file = *v;
  const std::pair<const char*, const std::string*> credentials[] = {
      {"api-key-file", &options.api_key_file},
      {"server-ca", &options.server_ca_file},
      {"client-cert", &options.client_cert_file},
      {"client-key", &options.client_key_file}};
  for (const auto& [flag, value] : credentials) {
    if (!value->empty() && options.servers.empty()) {
      return Bad(flag,
                 "needs --server (credentials for the edge-sync servers)");
    }
  }
  if (options.client_cert_file.empty() != options.client_key_file.empty()) {
    return Bad(options.client_cert_file.empty() ? "client-cert" : "client-key",
               "--client-cert and --client-key go together");
  }
  if (!options.client_cert_file.empty() && options.server_ca_file.empty()) {
    return Bad("client-cert", "needs --server-ca (mTLS is TLS first)");
  }
  // The stream carries HMAC key values (and the API key goes the other way):
  // off loopback it needs TLS, or the operator's explicit opt-out.
  if (options.server_ca_file.empty() && !options.insecure_plaintext) {
    for (const std::string& server : options.servers) {
      if (absl::Status s = client::CheckPlaintextServer(
              "--server", server,
              options.api_key_file.empty()
                  ? "the HMAC keys it streams"
                  : "the API key and the HMAC keys it streams");
          !s.ok()) {
        return s;
      }
    }
  }
  if (absl::Status s = ParseCloudFrontOptions(values, &options); !s.ok())
    return s;
  if (!options.revoked_file.empty() && options.keyring_file.empty()) {
    return Bad("revoked", "needs --keyring (static sources come together)");
  }
  if (options.keyring_file.empty() && options.snapshot_file.empty() &&
      options.servers.empty()) {
    return absl::InvalidArgumentError(
        "no keyring source: give --keyring, --snapshot or --server");
  }
  return options;
}

std::string SidecarUsage() {
  return R"(edgepass-validator: checks edge requests for nginx auth_request.

Flags (environment variable in brackets; flags win):
  --listen HOST:PORT     HTTP listen address, port 0 picks one [EDGEPASS_VALIDATOR_LISTEN]
                         (default 127.0.0.1:8081)
  --keyring FILE         keyring JSON (edgepass or SMD keys object) [EDGEPASS_VALIDATOR_KEYRING]
  --revoked FILE         revoked sessions JSON; needs --keyring [EDGEPASS_VALIDATOR_REVOKED]
  --snapshot FILE        last state, loaded at start when present and rewritten (0600) on
                         every change [EDGEPASS_VALIDATOR_SNAPSHOT]
  --mode PREFIX=MODE     enforce | log-only | off for origin paths under PREFIX; repeatable,
                         longest prefix wins; default /=enforce [EDGEPASS_VALIDATOR_MODES, comma-separated]
  --leeway DUR           clock leeway for exp/nbf, 0 to 5m (default 0) [EDGEPASS_VALIDATOR_LEEWAY]
  --server HOST:PORT     edge-sync server; repeatable [EDGEPASS_VALIDATOR_SERVERS, comma-separated]
  --api-key-file FILE    API key (scope edge-sync) sent to the servers as a bearer token; the
                         file must be 0600 or stricter [EDGEPASS_VALIDATOR_API_KEY_FILE]
  --server-ca FILE       TLS to the servers, verified against this CA bundle (PEM)
                         [EDGEPASS_VALIDATOR_SERVER_CA]
  --client-cert FILE     mTLS: this validator's certificate (PEM) [EDGEPASS_VALIDATOR_CLIENT_CERT]
  --client-key FILE      and its private key (PEM) [EDGEPASS_VALIDATOR_CLIENT_KEY]
  --cloudfront-public-keys FILE  JSON {"KEYPAIRID": "-----BEGIN PUBLIC KEY-----..."}: CloudFront
                         public keys trusted on the CloudFront routes [EDGEPASS_VALIDATOR_CLOUDFRONT_PUBLIC_KEYS]
  --cloudfront-url-base URL  scheme and host the CloudFront resources are signed for, e.g.
                         https://cdn.example.com [EDGEPASS_VALIDATOR_CLOUDFRONT_URL_BASE]
  --cloudfront-route PREFIX  paths under PREFIX carry CloudFront signed URLs or cookies instead of
                         tokens (mode from --mode); repeatable; the three cloudfront flags go
                         together [EDGEPASS_VALIDATOR_CLOUDFRONT_ROUTES, comma-separated]
  --insecure-plaintext   allow a --server that is not loopback without --server-ca: its HMAC
                         keys (and the API key) cross the network in cleartext; logs a
                         warning [EDGEPASS_VALIDATOR_INSECURE_PLAINTEXT=true]
  --threads N            HTTP server threads (default 2) [EDGEPASS_VALIDATOR_THREADS]
  --idle-timeout DUR     close a kept-alive connection idle this long, up to 1h (default 60s;
                         a new connection that sends nothing is closed after 10s)
                         [EDGEPASS_VALIDATOR_IDLE_TIMEOUT]
  --metrics-addr HOST:PORT  Prometheus metrics at http://HOST:PORT/metrics, port 0 picks one
                         (default 127.0.0.1:9465; "" disables)
                         [EDGEPASS_VALIDATOR_METRICS_ADDR]

Logs: one JSON object per line on stderr; once serving,
  {"ts":..,"level":"info","component":"edgepass-validator","event":"listening","http":"HOST:PORT","metrics":"HOST:PORT"|"off",..}
Endpoints: GET /auth (any path but the two below) for auth_request, GET /healthz, GET /stats.
Exit codes: 0 after SIGTERM/SIGINT, 2 bad configuration or no usable state, 1 runtime failure.
)";
}

}  // namespace edgepass::sidecar
