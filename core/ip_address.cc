#include "core/ip_address.h"

#include <arpa/inet.h>

#include <cstdio>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace edgepass::core {

// inet_pton is a pure parser (no I/O), used for its exact RFC grammar.
absl::StatusOr<CanonicalIp> CanonicalizeIp(absl::string_view text) {
  if (text.empty() || text.size() > 45 || text.find('\0') != absl::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat("not an IP address: \"", text.substr(0, 64), "\""));
  }
  char buf[64];
  text.copy(buf, text.size());
  buf[text.size()] = '\0';
  unsigned char bytes[16];
  if (text.find(':') == absl::string_view::npos) {
    if (inet_pton(AF_INET, buf, bytes) == 1) {
      char out[16];
      std::snprintf(out, sizeof(out), "%u.%u.%u.%u", bytes[0], bytes[1], bytes[2], bytes[3]);
      return CanonicalIp{out, 4};
    }
  } else if (inet_pton(AF_INET6, buf, bytes) == 1) {
    char out[40];
    for (int i = 0; i < 8; ++i) {
      std::snprintf(out + i * 5, 6, i == 7 ? "%02x%02x" : "%02x%02x:", bytes[2 * i], bytes[2 * i + 1]);
    }
    return CanonicalIp{std::string(out, 39), 6};
  }
  return absl::InvalidArgumentError(absl::StrCat("not an IP address: \"", text, "\""));
}

bool IsLoopbackHost(absl::string_view host) {
  if (absl::ConsumePrefix(&host, "[") && !absl::ConsumeSuffix(&host, "]")) return false;
  if (absl::EqualsIgnoreCase(host, "localhost")) return true;
  absl::StatusOr<CanonicalIp> ip = CanonicalizeIp(host);
  if (!ip.ok()) return false;  // a name: not resolved, not loopback
  if (ip->version == 4) return absl::StartsWith(ip->text, "127.");
  return ip->text == "0000:0000:0000:0000:0000:0000:0000:0001" ||
         absl::StartsWith(ip->text, "0000:0000:0000:0000:0000:ffff:7f");
}

}  // namespace edgepass::core
