#include "tests/load/load_options.h"

#include <cmath>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "client/channel/plaintext_guard.h"
#include "core/status_macros.h"
#include "text/flags.h"
#include "text/host_port.h"

namespace edgepass::load {
namespace {

using ::edgepass::text::FlagKind;
using ::edgepass::text::FlagSpec;
using ::edgepass::text::ParsedFlags;

constexpr FlagSpec kSpecs[] = {
    {"server", FlagKind::kRepeated},
    {"asset"},
    {"rate"},
    {"duration"},
    {"concurrency"},
    {"connections"},
    {"viewer-ip"},
    {"timeout"},
    {"poll-threads"},
    {"api-key-file"},
    {"server-ca"},
    {"insecure-plaintext", FlagKind::kSwitch},
    {"json", FlagKind::kSwitch},
};

constexpr double kMinRate = 0.01;
constexpr double kMaxRate = 10'000'000;
constexpr int kMaxConcurrency = 100'000;
constexpr int kMaxConnections = 1024;
constexpr int kMaxPollThreads = 8;
constexpr size_t kMaxTextBytes = 256;
constexpr absl::Duration kMaxDuration = absl::Hours(24);

absl::Status Invalid(absl::string_view flag, absl::string_view value,
                     absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("--", flag, " '", value, "': ", why));
}

// HOST:PORT or [V6]:PORT with a port in 1..65535.
absl::Status CheckServer(const std::string& value) {
  if (value.empty() || value.size() > kMaxTextBytes) {
    return Invalid("server", value.substr(0, kMaxTextBytes),
                   "expected HOST:PORT");
  }
  absl::Status parsed = text::ParseHostPort(value, {.min_port = 1}).status();
  return parsed.ok() ? parsed : Invalid("server", value, parsed.message());
}

absl::Status ParseInt(const ParsedFlags& flags, absl::string_view name, int min,
                      int max, int* out) {
  const std::string* value = flags.Get(name);
  if (value == nullptr) return absl::OkStatus();
  if (!absl::SimpleAtoi(*value, out) || *out < min || *out > max) {
    return Invalid(name, *value,
                   absl::StrCat("expected an integer in ", min, "..", max));
  }
  return absl::OkStatus();
}

absl::Status ParseDuration(const ParsedFlags& flags, absl::string_view name,
                           absl::Duration* out) {
  const std::string* value = flags.Get(name);
  if (value == nullptr) return absl::OkStatus();
  if (!absl::ParseDuration(*value, out) || *out <= absl::ZeroDuration() ||
      *out > kMaxDuration) {
    return Invalid(name, *value,
                   "expected a positive duration up to 24h, like 10s or 500ms");
  }
  return absl::OkStatus();
}

absl::Status ParseText(const ParsedFlags& flags, absl::string_view name,
                       bool allow_empty, std::string* out) {
  const std::string* value = flags.Get(name);
  if (value == nullptr) return absl::OkStatus();
  if ((!allow_empty && value->empty()) || value->size() > kMaxTextBytes) {
    return Invalid(
        name, value->substr(0, kMaxTextBytes),
        absl::StrCat("expected ", allow_empty ? "" : "1 to ", kMaxTextBytes,
                     allow_empty ? " bytes at most" : " bytes"));
  }
  *out = *value;
  return absl::OkStatus();
}

}  // namespace

const char* LoadUsage() {
  return R"(usage: edgepass-load --server HOST:PORT [--server HOST:PORT]... [options]

Drives PlaybackService.IssuePlayback and reports throughput and latency.

  --server HOST:PORT   a replica to call (repeatable; calls are spread over all)
  --asset ID           asset id to request (default 1)
  --rate N             requests per second, sent at fixed intervals whatever the
                       responses (open loop; latency is measured from each
                       call's scheduled time); 0 = closed loop: keep
                       --concurrency calls in flight, as fast as possible
                       (default 100)
  --duration D         how long to send, like 10s or 1m (default 10s)
  --concurrency N      most calls in flight; a scheduled call over it is
                       counted as dropped (default 256)
  --connections N      separate channels / TCP connections (default: one per
                       server; at least one per server)
  --viewer-ip ADDR     viewer IP sent with each call (default: none)
  --timeout D          deadline of each call (default 5s)
  --poll-threads N     completion-queue threads, 1..8 (default 1)
  --api-key-file FILE  API key (scope issue) sent as a bearer token; the file
                       must be private (chmod 600) (default:
                       $EDGEPASS_API_KEY_FILE)
  --server-ca FILE     TLS to the servers, verified against this CA bundle
  --insecure-plaintext send the API key without --server-ca to servers that are
                       not loopback (otherwise refused: it would be cleartext)
  --json               print one JSON object instead of text

Exit codes: 0 run completed (see the error counts), 1 cannot connect,
2 bad usage or an unusable key or CA file.
)";
}

absl::StatusOr<LoadOptions> ParseLoadOptions(
    absl::Span<const std::string> args,
    const std::function<const char*(const char*)>& env) {
  EDGEPASS_ASSIGN_OR_RETURN(ParsedFlags flags, text::ParseFlags(args, kSpecs));
  LoadOptions options;
  if (flags.help()) {
    options.help = true;
    return options;
  }
  if (!flags.positional().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("unexpected argument '",
                     flags.positional().front().substr(0, kMaxTextBytes), "'"));
  }
  options.servers = flags.All("server");
  if (options.servers.empty()) {
    return absl::InvalidArgumentError(
        "--server: at least one HOST:PORT is required");
  }
  if (options.servers.size() > static_cast<size_t>(kMaxConnections)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--server: at most ", kMaxConnections, " servers"));
  }
  for (const std::string& server : options.servers)
    EDGEPASS_RETURN_IF_ERROR(CheckServer(server));
  EDGEPASS_RETURN_IF_ERROR(
      ParseText(flags, "asset", /*allow_empty=*/false, &options.asset_id));
  EDGEPASS_RETURN_IF_ERROR(
      ParseText(flags, "viewer-ip", /*allow_empty=*/true, &options.viewer_ip));
  if (const std::string* rate = flags.Get("rate"); rate != nullptr) {
    if (!absl::SimpleAtod(*rate, &options.rate) ||
        !std::isfinite(options.rate) || options.rate < 0 ||
        options.rate > kMaxRate ||
        (options.rate > 0 && options.rate < kMinRate)) {
      return Invalid("rate", *rate,
                     "expected 0 or requests per second in 0.01..10000000");
    }
  }
  EDGEPASS_RETURN_IF_ERROR(ParseDuration(flags, "duration", &options.duration));
  EDGEPASS_RETURN_IF_ERROR(ParseDuration(flags, "timeout", &options.timeout));
  EDGEPASS_RETURN_IF_ERROR(
      ParseInt(flags, "concurrency", 1, kMaxConcurrency, &options.concurrency));
  options.connections = static_cast<int>(options.servers.size());
  EDGEPASS_RETURN_IF_ERROR(
      ParseInt(flags, "connections", 1, kMaxConnections, &options.connections));
  if (options.connections < static_cast<int>(options.servers.size())) {
    return Invalid("connections", *flags.Get("connections"),
                   absl::StrCat("need at least one per --server (",
                                options.servers.size(), ")"));
  }
  EDGEPASS_RETURN_IF_ERROR(ParseInt(flags, "poll-threads", 1, kMaxPollThreads,
                                    &options.poll_threads));
  if (const char* v = env ? env("EDGEPASS_API_KEY_FILE") : nullptr) {
    options.api_key_file = v;
  }
  EDGEPASS_RETURN_IF_ERROR(ParseText(flags, "api-key-file",
                                     /*allow_empty=*/true,
                                     &options.api_key_file));
  EDGEPASS_RETURN_IF_ERROR(ParseText(flags, "server-ca", /*allow_empty=*/false,
                                     &options.server_ca_file));
  options.insecure_plaintext = flags.Has("insecure-plaintext");
  if (!options.api_key_file.empty() && options.server_ca_file.empty() &&
      !options.insecure_plaintext) {
    for (const std::string& server : options.servers) {
      EDGEPASS_RETURN_IF_ERROR(
          client::CheckPlaintextServer("--server", server, "the API key"));
    }
  }
  options.json = flags.Has("json");
  return options;
}

}  // namespace edgepass::load
