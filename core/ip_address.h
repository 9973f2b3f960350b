// IP address canonicalization shared by issuing and validation, so an address
// binds the same way whatever form it arrives in.
//
//   auto ip = CanonicalizeIp("2001:DB8::1");
//   // ip->text == "2001:0db8:0000:0000:0000:0000:0000:0001", ip->version == 6
#ifndef EDGEPASS_CORE_IP_ADDRESS_H_
#define EDGEPASS_CORE_IP_ADDRESS_H_

#include <string>

#include <array>
#include <cstdint>
#include <optional>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace edgepass::core {

struct CanonicalIp {
  std::string text;  // IPv4 dotted quad, or IPv6 as 8 zero-padded lower-case hextets
  int version = 0;   // 4 or 6
};

// Parses an IPv4 (dotted quad) or IPv6 (any RFC 4291 text form, including
// "::" and an embedded IPv4 tail) address. An IPv4-mapped IPv6 address stays
// IPv6. INVALID_ARGUMENT when `text` is not an address.
absl::StatusOr<CanonicalIp> CanonicalizeIp(absl::string_view text);

// The 16 bytes of an address for prefix matching: IPv6 as is, IPv4 as the
// IPv4-mapped IPv6 address (::ffff:a.b.c.d). std::nullopt when `text` is
// not an address (CanonicalizeIp's rules).
std::optional<std::array<uint8_t, 16>> IpAddressBytes(absl::string_view text);

// True for a loopback host: "localhost" (any case), an IPv4 address in
// 127.0.0.0/8, ::1, or an IPv4-mapped IPv6 address in 127.0.0.0/8; brackets
// around IPv6 are allowed. Names are not resolved (a name can point anywhere):
// they, like 0.0.0.0 and ::, are not loopback. Where a listener or a client
// may go without TLS.
bool IsLoopbackHost(absl::string_view host);

}  // namespace edgepass::core

#endif  // EDGEPASS_CORE_IP_ADDRESS_H_
