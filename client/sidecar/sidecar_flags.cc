#include "client/sidecar/sidecar_flags.h"

#include <cstdint>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "client/channel/plaintext_guard.h"
#include "core/validator.h"
#include "obs/metrics_endpoint.h"
#include "text/help_text.h"
#include "text/host_port.h"

namespace edgepass::sidecar {
namespace flags_internal {
namespace {

absl::Status Bad(absl::string_view flag, absl::string_view message) {
  return BadFlag(flag, message);
}

absl::Status ParseHostPort(absl::string_view flag, absl::string_view value,
                           std::string* host, uint16_t* port) {
  absl::StatusOr<text::HostPort> parsed = text::ParseHostPort(value);
  if (!parsed.ok()) return Bad(flag, parsed.status().message());
  *host = std::move(parsed->host);
  *port = static_cast<uint16_t>(parsed->port);
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

}  // namespace

absl::Status BadFlag(absl::string_view flag, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat("--", flag, ": ", message));
}

const std::vector<FlagDef>& SidecarFlags() {
  static const std::vector<FlagDef>* const
      kFlags =
          new std::vector<FlagDef>{
              {"listen", "EDGEPASS_VALIDATOR_LISTEN", "HOST:PORT", false,
               "HTTP listen address; port 0 picks one (the `listening` log "
               "line's "
               "`http`)",
               "",
               [](const SidecarOptions& d) {
                 return absl::StrCat(d.listen_host, ":", d.listen_port);
               },
               [](const std::vector<std::string>& v, SidecarOptions* o) {
                 return ParseHostPort("listen", v.front(), &o->listen_host,
                                      &o->listen_port);
               }},
              {"keyring", "EDGEPASS_VALIDATOR_KEYRING", "FILE", false,
               "keyring file or SMD keys object (as the CLI reads)", "",
               nullptr,
               [](const std::vector<std::string>& v, SidecarOptions* o) {
                 o->keyring_file = v.front();
                 return absl::OkStatus();
               }},
              {"revoked", "EDGEPASS_VALIDATOR_REVOKED", "FILE", false,
               "revoked sessions (`core::ParseRevocationJson` format); needs "
               "--keyring",
               "", nullptr,
               [](const std::vector<std::string>& v, SidecarOptions* o) {
                 o->revoked_file = v.front();
                 return absl::OkStatus();
               }},
              {"snapshot", "EDGEPASS_VALIDATOR_SNAPSHOT", "FILE", false,
               "last state: loaded at start when present; a delta is appended "
               "(fdatasync), anything else rewrites it atomically (fsync, mode "
               "0600)",
               "", nullptr,
               [](const std::vector<std::string>& v, SidecarOptions* o) {
                 o->snapshot_file = v.front();
                 return absl::OkStatus();
               }},
              {"module-state", "EDGEPASS_VALIDATOR_MODULE_STATE", "FILE", false,
               "state file for ngx_http_edgepass_module (its "
               "`edgepass_state_file`): replaced atomically (fsync, rename, "
               "mode 0600) on a new base, FILE.overlay likewise on a delta; "
               "before the snapshot",
               "", nullptr,
               [](const std::vector<std::string>& v, SidecarOptions* o) {
                 o->module_state_file = v.front();
                 return absl::OkStatus();
               }},
              {"mode", "EDGEPASS_VALIDATOR_MODES", "PREFIX=MODE", true,
               "`enforce`, `log-only` or `off` for origin paths under PREFIX; "
               "repeatable, longest prefix wins",
               "Prefixes match at segment boundaries, as token `paths`; "
               "unmatched "
               "paths are enforced",
               [](const SidecarOptions& d) {
                 std::vector<std::string> modes;
                 for (const RouteMode& m : d.modes) {
                   modes.push_back(absl::StrCat(m.first, "=",
                                                EnforcementModeName(m.second)));
                 }
                 return absl::StrJoin(modes, ",");
               },
               [](const std::vector<std::string>& v, SidecarOptions* o) {
                 o->modes.clear();
                 for (const std::string& text : v) {
                   absl::StatusOr<RouteMode> route = ParseRouteMode(text);
                   if (!route.ok())
                     return Bad("mode", route.status().message());
                   o->modes.push_back(*std::move(route));
                 }
                 if (absl::StatusOr<RouteModes> table =
                         RouteModes::Create(o->modes);
                     !table.ok()) {
                   return Bad("mode", table.status().message());
                 }
                 return absl::OkStatus();
               }},
              {"leeway", "EDGEPASS_VALIDATOR_LEEWAY", "DUR", false,
               "clock leeway for `exp`/`nbf`, 0 to 5m (a bare number is "
               "seconds)",
               "",
               [](const SidecarOptions& d) {
                 return absl::FormatDuration(d.leeway);
               },
               [](const std::vector<std::string>& v, SidecarOptions* o) {
                 absl::StatusOr<absl::Duration> d = ParseLeeway(v.front());
                 if (!d.ok()) return d.status();
                 o->leeway = *d;
                 return absl::OkStatus();
               }},
              {"server", "EDGEPASS_VALIDATOR_SERVERS", "HOST:PORT", true,
               "edge-sync server; repeatable: streams from one (snapshot, then "
               "deltas), moving to the next on failure",
               "Logs "
               "`{\"event\":\"edge_sync_applied\",\"version\":N,\"snapshot\":.."
               ","
               "\"messages\":N,\"revoked\":N,\"keys\":N,\"receive_ms\":..,"
               "\"apply_ms\":..,\"save_ms\":..}` per version applied",
               nullptr,
               [](const std::vector<std::string>& v, SidecarOptions* o) {
                 for (const std::string& text : v) {
                   // A gRPC target: HOST:PORT, perhaps behind dns:///.
                   const std::vector<std::string> addresses = client::GrpcTargetAddresses(text);
                   if (addresses.empty()) return Bad("server", "expected HOST:PORT");
                   for (const std::string& address : addresses) {
                     absl::Status s = text::ParseHostPort(address, {.min_port = 1}).status();
                     if (!s.ok()) return Bad("server", s.message());
                   }
                   o->servers.push_back(text);
                 }
                 return absl::OkStatus();
               }},
              {"api-key-file", "EDGEPASS_VALIDATOR_API_KEY_FILE", "FILE", false,
               "API key with scope `edge-sync`, sent as `authorization: "
               "Bearer` on "
               "Subscribe and Acknowledge; read once at start; the file must "
               "be 0600 "
               "or stricter; needs --server",
               "A file group or others can access is refused (`chmod 600`)",
               nullptr,
               [](const std::vector<std::string>& v, SidecarOptions* o) {
                 o->api_key_file = v.front();
                 return absl::OkStatus();
               }},
              {"server-ca", "EDGEPASS_VALIDATOR_SERVER_CA", "FILE", false,
               "TLS to the servers, which must present a certificate from this "
               "CA "
               "bundle (PEM) naming the --server host; required for a --server "
               "that "
               "is not loopback",
               "Loopback: 127.0.0.0/8, `::1`, `localhost`; other names are not "
               "resolved. The stream carries HMAC keys: without `--server-ca` "
               "such a "
               "server stops the start (exit 2, `--server: ADDR is not a "
               "loopback "
               "address and there is no TLS: ...`) before any connection",
               nullptr,
               [](const std::vector<std::string>& v, SidecarOptions* o) {
                 o->server_ca_file = v.front();
                 return absl::OkStatus();
               }},
              {"client-cert", "EDGEPASS_VALIDATOR_CLIENT_CERT", "FILE", false,
               "mTLS: this validator's certificate chain (PEM); needs "
               "--client-key "
               "and --server-ca",
               "Its CN is listed under `mtls` with `edge-sync` in the server's "
               "access "
               "file",
               nullptr,
               [](const std::vector<std::string>& v, SidecarOptions* o) {
                 o->client_cert_file = v.front();
                 return absl::OkStatus();
               }},
              {"client-key", "EDGEPASS_VALIDATOR_CLIENT_KEY", "FILE", false,
               "the client certificate's private key (PEM)", "", nullptr,
               [](const std::vector<std::string>& v, SidecarOptions* o) {
                 o->client_key_file = v.front();
                 return absl::OkStatus();
               }},
              {"insecure-plaintext", "EDGEPASS_VALIDATOR_INSECURE_PLAINTEXT",
               "", false,
               "accept a non-loopback --server without --server-ca anyway: "
               "HMAC keys "
               "and the API key cross the network in cleartext; logs an "
               "`insecure_plaintext` warning at start",
               "For isolated test networks only",
               [](const SidecarOptions& d) {
                 return std::string(d.insecure_plaintext ? "true" : "false");
               },
               [](const std::vector<std::string>& v, SidecarOptions* o) {
                 const std::string& text = v.front();
                 if (text == "1" || text == "true") {
                   o->insecure_plaintext = true;
                 } else if (text != "0" && text != "false") {
                   return Bad(
                       "insecure-plaintext",
                       absl::StrCat("'", text, "' is not true or false"));
                 }
                 return absl::OkStatus();
               }},
              {"cloudfront-public-keys",
               "EDGEPASS_VALIDATOR_CLOUDFRONT_PUBLIC_KEYS", "FILE", false,
               "JSON {\"KEYPAIRID\": \"-----BEGIN PUBLIC KEY-----\\n...\"}: "
               "the "
               "CloudFront public keys trusted on the CloudFront routes",
               "Key pair id to PEM public key (2048–4096-bit RSA, `openssl rsa "
               "-pubout`). A bad entry stops the start with exit 2 and names "
               "it: "
               "`--cloudfront-public-keys: FILE: key 'ID': public_key: ...` "
               "(never "
               "key material)",
               nullptr, nullptr},
              {"cloudfront-url-base", "EDGEPASS_VALIDATOR_CLOUDFRONT_URL_BASE",
               "URL", false,
               "`https://HOST[:PORT]` the CloudFront resources are signed for, "
               "e.g. "
               "https://cdn.example.com; the resource checked is this base + "
               "X-Original-URI",
               "Configured rather than taken from `Host`, so a viewer cannot "
               "choose "
               "the host a signature is checked against",
               nullptr, nullptr},
              {"cloudfront-route", "EDGEPASS_VALIDATOR_CLOUDFRONT_ROUTES",
               "PREFIX", true,
               "paths under PREFIX (matched as --mode prefixes) carry "
               "CloudFront "
               "signed URLs or cookies instead of tokens; repeatable; the "
               "three "
               "--cloudfront flags go together",
               "Their mode (`enforce`/`log-only`/`off`) still comes from "
               "`--mode`. "
               "See [cloudfront.md](cloudfront.md)",
               nullptr, nullptr},
              {"threads", "EDGEPASS_VALIDATOR_THREADS", "N", false,
               "HTTP server threads, 1 to 64", "",
               [](const SidecarOptions& d) { return absl::StrCat(d.threads); },
               [](const std::vector<std::string>& v, SidecarOptions* o) {
                 if (!absl::SimpleAtoi(v.front(), &o->threads) ||
                     o->threads < 1 || o->threads > 64) {
                   return Bad("threads",
                              absl::StrCat("'", v.front(), "' must be 1-64"));
                 }
                 return absl::OkStatus();
               }},
              {"idle-timeout", "EDGEPASS_VALIDATOR_IDLE_TIMEOUT", "DUR", false,
               "a kept-alive connection (nginx's upstream `keepalive`) waiting "
               "for "
               "its next request is closed after this, up to 1h; a new "
               "connection "
               "that sends nothing is closed after the 10 s read timeout",
               "Keep it at or above the upstream's `keepalive_timeout` in "
               "nginx (60 s "
               "by default)",
               [](const SidecarOptions& d) {
                 return absl::FormatDuration(d.idle_timeout);
               },
               [](const std::vector<std::string>& v, SidecarOptions* o) {
                 absl::StatusOr<absl::Duration> d = ParseIdleTimeout(v.front());
                 if (!d.ok()) return d.status();
                 o->idle_timeout = *d;
                 return absl::OkStatus();
               }},
              {"metrics-addr", "EDGEPASS_VALIDATOR_METRICS_ADDR", "HOST:PORT",
               false,
               "Prometheus `/metrics` on its own port (IPv4 or a host name); "
               "port 0 "
               "picks one (the `listening` line's `metrics`); \"\" disables",
               "", [](const SidecarOptions& d) { return d.metrics_addr; },
               [](const std::vector<std::string>& v, SidecarOptions* o) {
                 if (!v.front().empty()) {
                   if (absl::Status s = obs::ValidateMetricsAddress(v.front());
                       !s.ok())
                     return Bad("metrics-addr", s.message());
                 }
                 o->metrics_addr = v.front();
                 return absl::OkStatus();
               }},
          };
  return *kFlags;
}

namespace {

std::string FlagWithValue(const FlagDef& f) {
  return *f.value_name == '\0' ? absl::StrCat("--", f.name)
                               : absl::StrCat("--", f.name, " ", f.value_name);
}

std::string DefaultShown(const FlagDef& f) {
  static const SidecarOptions* const kDefaults = new SidecarOptions();
  return f.default_shown == nullptr ? std::string()
                                    : f.default_shown(*kDefaults);
}

}  // namespace
}  // namespace flags_internal

using flags_internal::DefaultShown;
using flags_internal::FlagDef;
using flags_internal::FlagWithValue;
using flags_internal::SidecarFlags;

std::string SidecarUsage() {
  constexpr size_t kIndent = 27;
  constexpr size_t kWidth = 80;
  std::string out =
      "edgepass-validator: checks edge requests for nginx auth_request.\n\n"
      "Flags (environment variable in brackets; flags win; --flag VALUE or\n"
      "--flag=VALUE):\n";
  for (const FlagDef& f : SidecarFlags()) {
    std::string help = absl::StrReplaceAll(f.help, {{"`", ""}});
    const std::string default_shown = DefaultShown(f);
    if (!default_shown.empty() && *f.value_name != '\0') {
      absl::StrAppend(&help, " (default\x01", default_shown, ")");
    }
    absl::StrAppend(&help, " [", f.env,
                    f.repeated ? ", comma-separated]" : "]");
    text::AppendHelpEntry(absl::StrCat("  ", FlagWithValue(f)), help, kIndent, kWidth, &out);
  }
  absl::StrAppend(&out, "  -h, --help", std::string(kIndent - 12, ' '),
                  "this text\n",
                  R"(
Logs: one JSON object per line on stderr; once serving,
  {"ts":..,"level":"info","component":"edgepass-validator","event":"listening",
   "http":"HOST:PORT","metrics":"HOST:PORT"|"off",..}
Endpoints: GET /auth (any path but the two below) for auth_request,
GET /healthz, GET /stats.
Exit codes: 0 after SIGTERM/SIGINT, 2 bad configuration or no usable state,
1 runtime failure.
)");
  return out;
}

std::string SidecarOptionsMarkdown() {
  std::string out =
      "| flag | environment | default | meaning |\n"
      "|---|---|---|---|\n";
  for (const FlagDef& f : SidecarFlags()) {
    const std::string default_shown = DefaultShown(f);
    std::string meaning = f.help;
    if (*f.details != '\0') absl::StrAppend(&meaning, ". ", f.details);
    absl::StrAppend(
        &out, "| `", FlagWithValue(f), "` | `", f.env, "`",
        f.repeated ? " (comma list)" : "", " | ",
        default_shown.empty() ? "—" : absl::StrCat("`", default_shown, "`"),
        " | ", text::MarkdownCell(meaning), " |\n");
  }
  return out;
}

}  // namespace edgepass::sidecar
