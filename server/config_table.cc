#include "server/config_table.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "core/status_macros.h"
#include "core/validator.h"
#include "text/help_text.h"

namespace edgepass::server::config_internal {
namespace {

using O = ServerOptions;

// The shortest --revocation-prune-grace: the largest clock leeway a
// validator allows, i.e. the clock skew the fleet is built to tolerate.
constexpr absl::Duration kMinRevocationPruneGrace = core::kMaxLeeway;

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> out;
  for (absl::string_view item :
       absl::StrSplit(text, ',', absl::SkipWhitespace())) {
    out.emplace_back(absl::StripAsciiWhitespace(item));
  }
  return out;
}

std::vector<ConfigOption> BuildTable() {
  return {
      {"config", "FILE",
       "JSON config file, read first: an object whose keys are the option "
       "names with '_' (e.g. \"data_dir\") and whose values are strings (or "
       "true/false for switches)",
       "", std::monostate{}, /*in_config_file=*/false},
      {"grpc_addr", "HOST:PORT", "gRPC listen address; port 0 picks a free port (printed at start)", "",
       &O::grpc_addr},
      {"metrics_addr", "HOST:PORT",
       "Prometheus metrics at http://HOST:PORT/metrics, a port apart from the "
       "API (IPv4 or a host name); port 0 picks a free port (printed at start "
       "as \"metrics on URL\"); \"\" disables",
       "`\"\"` works as a flag (`--metrics-addr=`) or in the config file", &O::metrics_addr},
      {"data_dir", "DIR", "embedded state: keyring.json, catalog.json, revocations.json", "", &O::data_dir},
      {"catalog_file", "FILE", "catalog (project format) merged into DATA_DIR/catalog.json at start", "",
       &O::catalog_file},
      {"import_smd_assets", "FILE", "SMD asset-table items (DynamoDB JSON) merged into the catalog at start",
       "", &O::import_smd_assets},
      {"default_token_ttl", "DUR",
       "`exp` of IssueToken tokens whose inline policy has none ({range}); "
       "more than --max-token-ttl is a configuration error",
       "", DurationField{&O::default_token_ttl, {}, absl::Hours(720)}},
      {"max_token_ttl", "DUR", "no token outlives this, whatever the route or policy ({range})",
       "Routes: IssuePlayback, IssueToken, REST, `/tokengenerate`, CloudFront "
       "schemes. A longer policy is refused `INVALID_ARGUMENT` naming its "
       "`exp` (`token_policy.exp`, `policy.exp`). Catalog writes (`PutPolicy`, "
       "`PutAsset` inline policies) of a longer relative `exp` are refused at "
       "write time; absolute `exp` values and policies from "
       "`--catalog-file`/`--import-smd-assets` are checked when a token is "
       "issued",
       DurationField{&O::max_token_ttl, {}, absl::Hours(8784)}},
      {"shutdown_grace", "DUR",
       "drain time after SIGTERM/SIGINT: in-flight calls may finish within it "
       "({range})",
       "", DurationField{&O::shutdown_grace, {}, absl::Minutes(5)}},
      {"rest_addr", "HOST:PORT",
       "REST gateway (JSON over HTTP/1.1) listen address; port 0 picks a free "
       "port (printed at start); \"\" disables",
       "", &O::rest_addr},
      {"rest_read_timeout", "DUR",
       "a REST request (and its TLS handshake) must arrive whole within this, "
       "and a new connection's first one must start within it; slower "
       "clients are dropped ({range})",
       "", DurationField{&O::rest_read_timeout, {}, absl::Minutes(5)}},
      {"rest_idle_timeout", "DUR",
       "a kept-alive REST connection waiting for its next request is closed "
       "after this ({range})",
       "", DurationField{&O::rest_idle_timeout, {}, absl::Hours(1)}},
      {"rest_threads", "N",
       "threads serving REST requests (0 to 256); 0: the larger of 8 and the "
       "number of cores",
       "Each thread runs its own event loop and connections are dealt out "
       "in turn (one more thread accepts them). Only the calls served from "
       "memory (issuing, the replica's edge-sync state) run on the loops: the "
       "catalog, session and key calls (they may wait for the data dir, the "
       "edge snapshot, Redis or the validators) run on the blocking pool they "
       "share with gRPC (`--redis-pool-size` threads, at least 8) and hold up "
       "no loop",
       IntField{&O::rest_threads, 0, 256}},
      {"max_waiting_calls", "N",
       "calls that may wait queued on the blocking pool or running there at "
       "once, per transport (1 to 65536); one more is refused at once: gRPC "
       "UNAVAILABLE, REST 503 with `Retry-After: 1`",
       "The catalog, session and key calls may wait (in viewer mode also a "
       "playback call that would read the JWKS). Each "
       "holds its request until it is answered, so without a bound a burst "
       "of them, or a slow store, would grow the queue without limit",
       IntField{&O::max_waiting_calls, 1, 65536}},
      {"access_file", "FILE",
       "API keys (SHA-256 hashes) and mTLS identities with scopes; without "
       "it nobody is authenticated, only loopback addresses are allowed and "
       "the start logs a `no_authentication` warning",
       "Format and scopes: [security.md](security.md#access)", &O::access_file},
      {"new_api_key", "NAME:SCOPES",
       "print a new API key and its access-file entry, then exit (scopes: "
       "issue, revoke, catalog, keys, edge-sync, mint, admin; mint: "
       "IssueToken with an inline policy)",
       "", &O::new_api_key},
      {"tls_cert", "FILE",
       "server certificate chain (PEM): TLS (1.2+) for gRPC and REST; goes "
       "with --tls-key",
       "", &O::tls_cert},
      {"tls_key", "FILE", "the certificate's private key (PEM)", "", &O::tls_key},
      {"tls_client_ca", "FILE", "CA of client certificates: enables mTLS identities (needs --tls-cert)", "",
       &O::tls_client_ca},
      {"tls_client_cert", "MODE",
       "`optional` (API-key callers connect without a certificate) or "
       "`require`",
       "", ChoiceField{&O::tls_client_cert, {"optional", "require"}}},
      {"trusted_proxies", "CIDRS",
       "peers whose X-Forwarded-For is believed by the SMD route and viewer "
       "mode (comma list of CIDR ranges)",
       "The viewer is the right-most entry that is not a trusted proxy", &O::trusted_proxies},
      {"trust_cloudfront_headers", "",
       "the trusted proxies are CloudFront (or strip these headers): also "
       "believe their CloudFront-Viewer-Address and geo headers",
       "`CloudFront-Viewer-Address` is read before `X-Forwarded-For` and must "
       "be `IP:PORT` (else 400); the geo headers are "
       "`CloudFront-Viewer-Country(-Region)/-City`. Off, a viewer behind a "
       "plain proxy could name the address and country its token binds",
       &O::trust_cloudfront_headers},
      {"oidc_issuer", "URL",
       "viewer-facing mode: REST playback routes need an end-user ID token "
       "(RS256) from this issuer instead of an API key; needs --oidc-audience "
       "and --oidc-jwks",
       "", &O::oidc_issuer},
      {"oidc_audience", "IDS", "accepted ID-token audiences (comma list)", "", &O::oidc_audiences},
      {"oidc_jwks", "FILE|URL", "the issuer's signing keys (JWKS)",
       "The JWKS URL must be `https://`; `http://` is accepted on loopback "
       "only (127.0.0.0/8, `::1`, `localhost`), anything else stops the start "
       "naming `--oidc-jwks`",
       &O::oidc_jwks},
      {"oidc_jwks_refresh", "DUR",
       "re-read the JWKS this long after the last read ({range}); a token "
       "whose kid it lacks re-reads it early, at most every 30s",
       "The call that finds the keys due, or a kid missing, is answered off "
       "the REST event loop; the others are verified meanwhile with the keys "
       "already read",
       DurationField{&O::oidc_jwks_refresh, absl::Seconds(1), absl::Hours(24)}},
      {"oidc_groups_claim", "NAME", "ID-token claim listing the viewer's groups", "", &O::oidc_groups_claim},
      {"entitlements", "LIST",
       "groups that are entitlements (comma list); the first one the viewer "
       "is in wins",
       "", &O::entitlements},
      {"insecure_allow_remote", "", "allow a non-loopback listen address without an access file", "",
       &O::insecure_allow_remote},
      {"insecure_plaintext", "",
       "allow a non-loopback --grpc-addr or --rest-addr without "
       "--tls-cert/--tls-key: EdgeSync would send HMAC keys, callers API keys, "
       "in cleartext (logs an `insecure_plaintext` warning at start)",
       "Independent of `--insecure-allow-remote`; see "
       "[security.md](security.md#tls-and-loopback)",
       &O::insecure_plaintext},
      {"redis_addr", "HOST:PORT",
       "fleet mode: catalog, revoked sessions, keyring cache and change "
       "notifications in Redis; unset: the data dir only",
       "The keyring's durable home stays `DATA_DIR/keyring.json` (mount the "
       "same secret in every replica) unless `--secrets-store aws`",
       &O::redis_addr},
      {"redis_pool_size", "N",
       "Redis connections per replica (1 to 256); also the threads (at least "
       "8) on which gRPC and REST calls that wait run, so that each has one",
       "", IntField{&O::redis_pool_size, 1, 256}},
      {"redis_timeout", "DUR", "Redis connect and command timeout ({range})", "",
       DurationField{&O::redis_timeout, {}, absl::Minutes(1)}},
      {"redis_sentinels", "HOST:PORT,...",
       "fleet mode through Redis Sentinel, instead of --redis-addr: the "
       "sentinels (comma list, up to 16) that name the primary; failovers "
       "are followed",
       "Each sentinel is asked in turn and a named node is used only if "
       "`ROLE` says master; the sentinels are asked again after a connection "
       "error or a `READONLY` reply, and polled every second for a new "
       "primary. No sentinel naming a reachable primary at start stops the "
       "start. See [redis.md](redis.md)",
       &O::redis_sentinels},
      {"redis_sentinel_master", "NAME", "the master name the sentinels monitor (`sentinel monitor NAME ...`)",
       "", &O::redis_sentinel_master},
      {"redis_wait_replicas", "N",
       "revoke and catalog writes also wait (Redis `WAIT`) until N replicas "
       "acknowledged them (0 to 16; 0: off)",
       "Fewer acknowledgements within --redis-wait-timeout fail the call "
       "`UNAVAILABLE` (the write is on the primary but may not survive a "
       "failover; repeating it is safe). With 1 and Sentinel, a revoke that "
       "returned OK survives losing the primary",
       IntField{&O::redis_wait_replicas, 0, 16}},
      {"redis_wait_timeout", "DUR", "how long a write waits for --redis-wait-replicas ({range})", "",
       DurationField{&O::redis_wait_timeout, {}, absl::Seconds(10)}},
      {"secrets_store", "KIND",
       "durable home of the signing keys: `file` (DATA_DIR/keyring.json) or "
       "`aws` (AWS Secrets Manager)",
       "See [secrets.md](secrets.md): credentials as the AWS SDKs find them "
       "(environment, web identity, shared profiles)",
       ChoiceField{&O::secrets_store, {"file", "aws"}}},
      {"aws_region", "REGION",
       "AWS region of the secrets (default: AWS_REGION, AWS_DEFAULT_REGION, "
       "the profile's region)",
       "", &O::aws_region},
      {"aws_endpoint", "URL",
       "Secrets Manager and STS endpoint override (`https://`; `http://` on "
       "loopback only, for tests)",
       "", &O::aws_endpoint},
      {"aws_secret_id", "NAME", "the Secrets Manager secret holding the keyring",
       "Created with one new primary key on first start", &O::aws_secret_id},
      {"smd_stack_name", "NAME",
       "adopt an SMD deployment: its `<NAME>_PrimarySecret`, "
       "`_SecondarySecret`, `_TemporarySecret` are the keyring",
       "edgepass keeps retired keys in an extra `<NAME>_EdgepassKeyring` "
       "secret; see [secrets.md](secrets.md#adopting-smd)",
       &O::smd_stack_name},
      {"key_cache_ttl", "DUR", "how long a replica uses its cached keyring ({range})",
       "One replica per TTL reads the secrets store", DurationField{&O::key_cache_ttl, {}, absl::Hours(24)}},
      {"key_rotation_interval", "DUR", "rotate the signing keys when the primary is this old ({range})",
       "A new key is sent to every validator and promoted once all live ones "
       "acknowledged it; see [operations.md](operations.md#key-rotation). "
       "On demand: `KeyService.RotateKeys`",
       DurationField{&O::key_rotation_interval, absl::Seconds(1), absl::Hours(8784), /*off=*/true}},
      {"key_rotation_schedule", "CRON",
       "rotate on SMD's schedule, an EventBridge cron in UTC: daily `MM HH ? "
       "* * *`, weekly `MM HH ? * D *`, monthly `MM HH ? * D#W *` (D 1 to 7, "
       "1 = Sunday; W 1 to 5)",
       "Not with --key-rotation-interval", &O::key_rotation_schedule},
      {"key_rotation_ack_deadline", "DUR",
       "how long a new key waits for every live validator to acknowledge it "
       "({range}); then the rotation stops without promoting it",
       "The key stays pending and the next rotation resumes it; metric "
       "`edgepass_key_rotation_stalled`",
       DurationField{&O::key_rotation_ack_deadline, absl::Seconds(1), absl::Hours(1)}},
      {"revocation_retention", "DUR",
       "revoked sessions older than this are not sent to validators; also "
       "the default expires_at of a revocation",
       "", DurationField{&O::revocation_retention}},
      {"revocation_capacity", "N",
       "at most N revoked sessions are sent to validators, MANUAL newest "
       "first, then AUTO by score (1 to 10000000)",
       "", IntField{&O::revocation_capacity, 1, 10000000}},
      {"revocation_check_interval", "DUR",
       "how often a replica compares its revocation list with the store's "
       "entry count and loads the list again when they differ ({range})",
       "Catches changes that bypassed the change log (an edit by hand in "
       "Redis); metric `edgepass_revocation_resyncs_total`",
       DurationField{&O::revocation_check_interval, absl::Seconds(1), absl::Hours(24)}},
      {"revocation_prune_interval", "DUR",
       "how often a replica drops revoked sessions that expired more than "
       "--revocation-prune-grace ago from the store ({range})",
       "Every replica may run it; each interval only the replica that claims "
       "it first (a Redis key expiring after the interval) walks the store. "
       "A removal is sent to the other replicas as a delta. Metric "
       "`edgepass_revocations_pruned_total`",
       DurationField{&O::revocation_prune_interval, absl::Seconds(1), absl::Hours(24), /*off=*/true}},
      {"revocation_prune_grace", "DUR",
       "a revoked session stays stored this long past its expires_at before "
       "a prune drops it ({range})",
       "Covers clock skew between replicas, so a replica whose clock is "
       "behind still holds the entry while it thinks the token is live",
       DurationField{&O::revocation_prune_grace, kMinRevocationPruneGrace, absl::Hours(720)}},
  };
}

template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};
template <class... F>
Overloaded(F...) -> Overloaded<F...>;

}  // namespace

std::string ConfigOption::Flag() const {
  return absl::StrCat("--", absl::StrReplaceAll(key, {{"_", "-"}}));
}

std::string ConfigOption::Env() const {
  return absl::StrCat("EDGEPASS_", absl::AsciiStrToUpper(key));
}

bool ConfigOption::IsSwitch() const {
  return std::holds_alternative<bool ServerOptions::*>(field);
}

std::string ConfigOption::DefaultShown() const {
  static const ServerOptions* const kDefaults = new ServerOptions();
  const ServerOptions& d = *kDefaults;
  return std::visit(Overloaded{
                        [](std::monostate) { return std::string(); },
                        [&](std::string ServerOptions::*f) { return d.*f; },
                        [&](const IntField& f) { return absl::StrCat(d.*(f.field)); },
                        [&](const DurationField& f) { return absl::FormatDuration(d.*(f.field)); },
                        [&](bool ServerOptions::*f) { return std::string(d.*f ? "true" : "false"); },
                        [&](std::vector<std::string> ServerOptions::*f) { return absl::StrJoin(d.*f, ","); },
                        [&](const ChoiceField& f) { return d.*(f.field); },
                    },
                    field);
}

absl::Status ConfigOption::Apply(const std::string& value,
                                 absl::string_view where,
                                 ServerOptions* o) const {
  return std::visit(
      Overloaded{
          [](std::monostate) { return absl::OkStatus(); },
          [&](std::string ServerOptions::*f) {
            o->*f = value;
            return absl::OkStatus();
          },
          [&](const IntField& f) {
            int n;
            if (!absl::SimpleAtoi(value, &n) || n < f.min || n > f.max) {
              return core::FieldError(where, absl::StrCat("\"", value,
                                                          "\" is not an integer "
                                                          "from ",
                                                          f.min, " to ", f.max));
            }
            o->*(f.field) = n;
            return absl::OkStatus();
          },
          [&](const DurationField& f) {
            absl::Duration d;
            if (!absl::ParseDuration(value, &d) || d < absl::ZeroDuration() ||
                (d == absl::ZeroDuration() && !f.off) || d == absl::InfiniteDuration()) {
              return core::FieldError(
                  where, absl::StrCat("\"", value, "\" is not ", f.off ? "0 (off) or a" : "a positive",
                                      " duration like 30s, 10m, 2h"));
            }
            o->*(f.field) = d;
            return absl::OkStatus();
          },
          [&](bool ServerOptions::*f) {
            if (value == "1" || value == "true") {
              o->*f = true;
            } else if (value == "0" || value == "false") {
              o->*f = false;
            } else {
              return core::FieldError(where, absl::StrCat("\"", value, "\" is not true/false"));
            }
            return absl::OkStatus();
          },
          [&](std::vector<std::string> ServerOptions::*f) {
            o->*f = SplitList(value);
            return absl::OkStatus();
          },
          [&](const ChoiceField& f) {
            for (const std::string& choice : f.choices) {
              if (value == choice) {
                o->*(f.field) = value;
                return absl::OkStatus();
              }
            }
            return core::FieldError(
                where, absl::StrCat("\"", value, "\" is not ", absl::StrJoin(f.choices, " or ")));
          },
      },
      field);
}

std::string ConfigOption::HelpShown() const {
  const auto* duration = std::get_if<DurationField>(&field);
  if (duration == nullptr) return help;
  std::string range =
      duration->min > absl::ZeroDuration()
          ? absl::StrCat(absl::FormatDuration(duration->min), " to ", absl::FormatDuration(duration->max))
          : absl::StrCat("up to ", absl::FormatDuration(duration->max));
  if (duration->off) range = absl::StrCat("0: off; ", range);
  return absl::StrReplaceAll(help, {{"{range}", range}});
}

absl::Status ConfigOption::CheckRange(const ServerOptions& options) const {
  const auto* duration = std::get_if<DurationField>(&field);
  if (duration == nullptr) return absl::OkStatus();
  const absl::Duration value = options.*(duration->field);
  if (duration->off && value == absl::ZeroDuration()) return absl::OkStatus();
  if (value >= duration->min && value <= duration->max) return absl::OkStatus();
  const std::string max = absl::FormatDuration(duration->max);
  if (duration->min <= absl::ZeroDuration())
    return core::FieldError(key, absl::StrCat("must be at most ", max));
  return core::FieldError(key, absl::StrCat("must be ", duration->off ? "0 (off) or " : "",
                                            absl::FormatDuration(duration->min), " to ", max));
}

const std::vector<ConfigOption>& ConfigTable() {
  static const std::vector<ConfigOption>* const kTable =
      new std::vector<ConfigOption>(BuildTable());
  return *kTable;
}

const ConfigOption* FindByKey(absl::string_view key) {
  for (const ConfigOption& option : ConfigTable()) {
    if (option.in_config_file && option.key == key) return &option;
  }
  return nullptr;
}

const ConfigOption* FindByFlag(absl::string_view flag) {
  for (const ConfigOption& option : ConfigTable()) {
    if (option.Flag() == flag) return &option;
  }
  return nullptr;
}

}  // namespace edgepass::server::config_internal

namespace edgepass::server {
namespace {

using config_internal::ConfigOption;
using config_internal::ConfigTable;

std::string FlagWithValue(const ConfigOption& option) {
  return option.value_name.empty()
             ? option.Flag()
             : absl::StrCat(option.Flag(), " ", option.value_name);
}


}  // namespace

std::string HelpText() {
  constexpr size_t kIndent = 29;
  constexpr size_t kWidth = 80;
  std::string out = R"(usage: edgepass-server [options]

Token-vending service for protected video streams (SMD-compatible tokens).
Options are read from the config file, then EDGEPASS_* environment variables,
then flags (later wins). Flags take --flag VALUE or --flag=VALUE; a switch
alone means true (or --switch=false).

)";
  for (const ConfigOption& option : ConfigTable()) {
    std::string help = absl::StrReplaceAll(option.HelpShown(), {{"`", ""}});
    const std::string default_shown = option.DefaultShown();
    if (!default_shown.empty() && !option.IsSwitch()) {
      absl::StrAppend(&help, " (default\x01", default_shown, ")");
    }
    absl::StrAppend(&help, " [env\x01", option.Env(), "]");
    text::AppendHelpEntry(absl::StrCat("  ", FlagWithValue(option)), help, kIndent, kWidth, &out);
  }
  absl::StrAppend(&out, "  -h, --help", std::string(kIndent - 12, ' '),
                  "this text\n\n"
                  "Exit codes: 0 clean shutdown, 1 start-up failure (data "
                  "dir),\n2 bad configuration.\n");
  return out;
}

std::string ConfigurationMarkdown() {
  std::string out =
      "| flag | environment | config key | default | meaning |\n"
      "|---|---|---|---|---|\n";
  for (const ConfigOption& option : ConfigTable()) {
    const std::string default_shown = option.DefaultShown();
    std::string meaning = option.HelpShown();
    if (!option.details.empty())
      absl::StrAppend(&meaning, ". ", option.details);
    absl::StrAppend(
        &out, "| `", text::MarkdownCell(FlagWithValue(option)), "` | `", option.Env(),
        "` | ",
        option.in_config_file ? absl::StrCat("`", option.key, "`") : "—", " | ",
        default_shown.empty() ? "—" : absl::StrCat("`", default_shown, "`"),
        " | ", text::MarkdownCell(meaning), " |\n");
  }
  return out;
}

}  // namespace edgepass::server
