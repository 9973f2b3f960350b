#include "text/host_port.h"

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace edgepass::text {
namespace {

absl::Status Invalid(absl::string_view why) { return absl::InvalidArgumentError(why); }

// 1 to 5 ASCII digits (no sign, no space) from min_port to 65535.
bool ParsePort(absl::string_view text, int min_port, int* port) {
  if (text.empty() || text.size() > 5) return false;
  int n = 0;
  for (char c : text) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
    n = n * 10 + (c - '0');
  }
  if (n < min_port || n > 65535) return false;
  *port = n;
  return true;
}

}  // namespace

absl::StatusOr<HostPort> ParseHostPort(absl::string_view text, HostPortRules rules) {
  HostPort out;
  absl::string_view host;
  absl::string_view port;  // after the ':'
  bool has_port = true;
  if (absl::ConsumePrefix(&text, "[")) {
    const size_t close = text.find(']');
    if (close == absl::string_view::npos) return Invalid("unbalanced '[' in host");
    host = text.substr(0, close);
    absl::string_view after = text.substr(close + 1);
    if (after.empty()) {
      has_port = false;
    } else if (!absl::ConsumePrefix(&after, ":")) {
      return Invalid("expected HOST:PORT");
    }
    port = after;
  } else {
    const size_t colon = text.rfind(':');
    if (colon == absl::string_view::npos) {
      host = text;
      has_port = false;
    } else {
      host = text.substr(0, colon);
      port = text.substr(colon + 1);
    }
    if (absl::StrContains(host, ':')) return Invalid("IPv6 hosts must be bracketed: [::1]:PORT");
  }
  if (!has_port && !rules.port_optional) return Invalid("expected HOST:PORT");
  if (absl::StrContains(host, '[') || absl::StrContains(host, ']')) return Invalid("stray '[' or ']' in host");
  if (host.empty()) return Invalid("host is empty");
  if (host.size() > kMaxHostBytes) return Invalid(absl::StrCat("host is longer than ", kMaxHostBytes, " bytes"));
  if (has_port && !ParsePort(port, rules.min_port, &out.port)) {
    return Invalid(absl::StrCat("port must be ", rules.min_port, "-65535"));
  }
  out.host = std::string(host);
  return out;
}

std::string JoinHostPort(absl::string_view host, int port) {
  return absl::StrContains(host, ':') ? absl::StrCat("[", host, "]:", port) : absl::StrCat(host, ":", port);
}

}  // namespace edgepass::text
