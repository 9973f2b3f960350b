// Network addresses as operators write them in options, targets and URLs:
// "HOST:PORT", with brackets around an IPv6 literal ("[::1]:50051"), and
// where the caller allows it "HOST" or "[V6]" alone. The one parser and the
// one writer of that form for the server's and the sidecar's options, the
// Redis and metrics addresses, the AWS and JWKS endpoints, and the addresses
// the servers report.
//
//   absl::StatusOr<text::HostPort> a = text::ParseHostPort("[::1]:50051");
//   // a->host == "::1", a->port == 50051
//   std::string back = text::JoinHostPort(a->host, a->port);  // "[::1]:50051"
#ifndef EDGEPASS_TEXT_HOST_PORT_H_
#define EDGEPASS_TEXT_HOST_PORT_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace edgepass::text {

// A DNS name is at most 253 bytes; so is any host this parser accepts.
inline constexpr size_t kMaxHostBytes = 253;

struct HostPort {
  std::string host;  // without the brackets
  int port = -1;     // -1: none was given (HostPortRules::port_optional)
};

struct HostPortRules {
  // The lowest port accepted: 0 for an address to listen on (the system picks
  // a free port), 1 for one to connect to.
  int min_port = 0;
  // "HOST" and "[V6]" without a port are accepted (port -1).
  bool port_optional = false;
};

// Splits `text`. INVALID_ARGUMENT saying what is wrong, without the text
// itself (callers name the field): "expected HOST:PORT", "unbalanced '[' in
// host", "stray '[' or ']' in host", "IPv6 hosts must be bracketed:
// [::1]:PORT", "host is empty", "host is longer than 253 bytes", "port must
// be 0-65535" (or "1-65535"). The host is not checked further: callers that
// need a name or an address check it themselves.
absl::StatusOr<HostPort> ParseHostPort(absl::string_view text, HostPortRules rules = {});

// "host:port", with brackets around a host that has a ':' (an IPv6 literal).
std::string JoinHostPort(absl::string_view host, int port);

}  // namespace edgepass::text

#endif  // EDGEPASS_TEXT_HOST_PORT_H_
