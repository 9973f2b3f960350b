// Configuration of edgepass-validator, parsed once from the environment
// (EDGEPASS_VALIDATOR_*) and then flags, validated once.
//
//   absl::StatusOr<SidecarOptions> options = ParseSidecarOptions(args,
//   getenv_fn); if (!options.ok()) { std::cerr << options.status().message() <<
//   "\n"; return 2; } if (options->help) { std::cout << SidecarUsage(); return
//   0; }
#ifndef EDGEPASS_CLIENT_SIDECAR_SIDECAR_OPTIONS_H_
#define EDGEPASS_CLIENT_SIDECAR_SIDECAR_OPTIONS_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "client/sidecar/route_modes.h"

namespace edgepass::sidecar {

struct SidecarOptions {
  bool help = false;
  std::string listen_host = "127.0.0.1";
  uint16_t listen_port = 8081;
  std::string keyring_file;  // core keyring JSON or SMD keys object
  std::string
      revoked_file;  // core::ParseRevocationJson format; needs keyring_file
  std::string
      snapshot_file;  // loaded at start when present; every new state saved
  // The nginx module's state file (client/validator/module_state.h): every
  // applied state is published there; empty: none.
  std::string module_state_file;
  std::vector<RouteMode> modes = {{"/", EnforcementMode::kEnforce}};
  absl::Duration leeway = absl::ZeroDuration();  // clock leeway for exp/nbf
  std::vector<std::string>
      servers;      // edge-sync servers (HOST:PORT), for the subscriber
  // Credentials for the edge-sync servers (only with `servers`). The API key
  // file is read at start (client/channel/api_key.h: mode 0600 or stricter);
  // its content is never held here nor logged.
  std::string api_key_file;
  std::string server_ca_file;    // TLS, verifying the servers; empty: plaintext
  std::string client_cert_file;  // mTLS: this validator's certificate chain
  std::string client_key_file;   // and its key (needs server_ca_file)
  // Without server_ca_file every server must be loopback (the stream carries
  // HMAC keys, the API key goes the other way) unless this is set.
  bool insecure_plaintext = false;
  // CloudFront signed URLs/cookies (cloudfront_auth.h): the public keys JSON
  // file, the https://HOST they are signed for, and the path prefixes checked
  // that way. All three or none.
  std::string cloudfront_public_keys_file;
  std::string cloudfront_url_base;
  std::vector<std::string> cloudfront_routes;
  int threads = 2;  // HTTP server threads
  // A kept-alive connection (nginx's upstream keepalive) waiting for its next
  // request is closed after this. A new connection that sends nothing is
  // closed after the HTTP read timeout (10s) instead.
  absl::Duration idle_timeout = absl::Seconds(60);
  // Prometheus metrics on http://HOST:PORT/metrics (IPv4 or a host name;
  // port 0 picks one, printed at start); empty: no metrics endpoint.
  std::string metrics_addr = "127.0.0.1:9465";
};

// Returns the variable's value or nullptr (std::getenv in production).
using EnvLookup = std::function<const char*(const char*)>;

// Flags ("--flag value" or "--flag=value"; a switch alone means true) and
// their EDGEPASS_VALIDATOR_* variables are declared once, in
// sidecar_flags.cc; SidecarUsage() lists them. A flag wins over its variable
// (repeated flags replace the variable's comma list).
// INVALID_ARGUMENT with one line naming the flag for anything wrong, including
// no state source at all (none of --keyring,
// --snapshot, --server), credentials without --server, --client-cert without
// --client-key (or the reverse) or without --server-ca, and a --server that
// is not loopback (127.0.0.0/8, ::1, "localhost"; names are not resolved)
// without --server-ca unless --insecure-plaintext: "--server: ADDR is not a
// loopback address and there is no TLS: ..." (client/channel/
// plaintext_guard.h). Files are not read here.
absl::StatusOr<SidecarOptions> ParseSidecarOptions(
    absl::Span<const std::string> args, const EnvLookup& env);

// --help: every flag with its environment variable and default, from the
// same declarations ParseSidecarOptions reads.
std::string SidecarUsage();

// The Markdown table of every flag (flag, environment variable, default,
// meaning) that docs/sidecar.md holds between its "generated" markers.
std::string SidecarOptionsMarkdown();

}  // namespace edgepass::sidecar

#endif  // EDGEPASS_CLIENT_SIDECAR_SIDECAR_OPTIONS_H_
