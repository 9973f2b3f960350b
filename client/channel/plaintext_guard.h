// Keeps edgepass's gRPC clients (the validator sidecar, the CLI, the load
// generator) from sending an API key to, or taking HMAC keys from, a server
// across the network in cleartext: without TLS only a loopback server is
// allowed, unless the operator opts out explicitly (--insecure-plaintext).
//
//   if (options.server_ca_file.empty() && !options.insecure_plaintext) {
//     absl::Status s = CheckPlaintextServer("--server", target, "the API key");
//     if (!s.ok()) return s;  // "--server: 192.0.2.1:443 is not a loopback
//     ..."
//   }
#ifndef EDGEPASS_CLIENT_CHANNEL_PLAINTEXT_GUARD_H_
#define EDGEPASS_CLIENT_CHANNEL_PLAINTEXT_GUARD_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "core/ip_address.h"

namespace edgepass::client {

using core::IsLoopbackHost;  // "localhost", 127/8, ::1; names never resolved

// The addresses of a gRPC target as written ("HOST:PORT", "[V6]:PORT"),
// behind "dns:///", "dns://AUTHORITY/", "dns:" or "ipv4:"/"ipv6:" when there
// is one (every address of "ipv4:A:P,B:P": the channel may use any of them);
// none for a target without a network address (e.g. "unix:/path").
std::vector<std::string> GrpcTargetAddresses(absl::string_view target);

// The hosts of those addresses. An empty host where there is none to find
// (e.g. "unix:/path"), which IsLoopbackHost() refuses.
std::vector<std::string> GrpcTargetHosts(absl::string_view target);

// True when every host of the gRPC target is loopback.
bool IsLoopbackTarget(absl::string_view target);

// OK when `target`'s host is loopback; otherwise INVALID_ARGUMENT, one line:
// "FLAG: TARGET is not a loopback address and there is no TLS: WHAT would
// cross the network in cleartext; give --server-ca, or --insecure-plaintext
// to allow it". Call it only for a channel without TLS whose user did not
// opt out. Thread-safe.
absl::Status CheckPlaintextServer(absl::string_view flag,
                                  absl::string_view target,
                                  absl::string_view what);

}  // namespace edgepass::client

#endif  // EDGEPASS_CLIENT_CHANNEL_PLAINTEXT_GUARD_H_
