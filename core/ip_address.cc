#include "core/ip_address.h"

#include <arpa/inet.h>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
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
      // "%u.%u.%u.%u", written by hand: the issuer canonicalizes on every call.
      char out[16];
      char* o = out;
      for (int i = 0; i < 4; ++i) {
        if (i > 0) *o++ = '.';
        const unsigned b = bytes[i];
        if (b >= 100) *o++ = static_cast<char>('0' + b / 100);
        if (b >= 10) *o++ = static_cast<char>('0' + b / 10 % 10);
        *o++ = static_cast<char>('0' + b % 10);
      }
      return CanonicalIp{std::string(out, static_cast<size_t>(o - out)), 4};
    }
  } else if (inet_pton(AF_INET6, buf, bytes) == 1) {
    // Eight "%02x%02x" groups joined by ':'.
    static constexpr char kHex[] = "0123456789abcdef";
    char out[39];
    for (int i = 0; i < 16; ++i) {
      char* o = out + i / 2 * 5 + i % 2 * 2;
      o[0] = kHex[bytes[i] >> 4];
      o[1] = kHex[bytes[i] & 15];
      if (i % 2 == 1 && i < 15) o[2] = ':';
    }
    return CanonicalIp{std::string(out, sizeof(out)), 6};
  }
  return absl::InvalidArgumentError(absl::StrCat("not an IP address: \"", text, "\""));
}

std::optional<std::array<uint8_t, 16>> IpAddressBytes(absl::string_view text) {
  absl::StatusOr<CanonicalIp> ip = CanonicalizeIp(text);
  if (!ip.ok()) return std::nullopt;
  std::array<uint8_t, 16> bytes{};
  if (ip->version == 4) {
    bytes[10] = bytes[11] = 0xff;
    size_t i = 12;
    for (absl::string_view octet : absl::StrSplit(ip->text, '.')) {
      int value = 0;
      if (i == 16 || !absl::SimpleAtoi(octet, &value)) return std::nullopt;
      bytes[i++] = static_cast<uint8_t>(value);
    }
    return bytes;
  }
  size_t i = 0;
  for (absl::string_view hextet : absl::StrSplit(ip->text, ':')) {
    uint32_t value = 0;
    if (i == 16 || !absl::SimpleHexAtoi(hextet, &value)) return std::nullopt;
    bytes[i++] = static_cast<uint8_t>(value >> 8);
    bytes[i++] = static_cast<uint8_t>(value & 0xff);
  }
  return bytes;
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
