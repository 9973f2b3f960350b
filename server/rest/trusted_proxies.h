// Which peers' forwarding headers the REST gateway believes, and the viewer's
// address they give: the connection's address unless the peer is a trusted
// proxy; then CloudFront-Viewer-Address (only when the operator says the
// trusted proxies are CloudFront), else the right-most X-Forwarded-For entry
// that is not a trusted proxy (the left-most when all are). Addresses are
// compared as core's canonical 16 bytes, so every textual form of one
// address matches the same range.
//
//   absl::StatusOr<TrustedProxies> proxies = TrustedProxies::Parse({"10.0.0.0/8", "::1"});
//   bool trusted;
//   absl::StatusOr<std::string> ip = proxies->ViewerIp(request, /*trust_cloudfront=*/false, &trusted);
#ifndef EDGEPASS_SERVER_REST_TRUSTED_PROXIES_H_
#define EDGEPASS_SERVER_REST_TRUSTED_PROXIES_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "http/http_message.h"

namespace edgepass::server {

// Immutable; thread-safe.
class TrustedProxies {
 public:
  TrustedProxies() = default;  // none: every peer is the viewer
  // CIDR ranges ("10.0.0.0/8", "2001:db8::/32"; a bare address is one
  // host). INVALID_ARGUMENT "--trusted-proxies: \"x\" is not an address or
  // CIDR range".
  static absl::StatusOr<TrustedProxies> Parse(const std::vector<std::string>& cidrs);

  bool Contains(absl::string_view address) const;

  // The viewer's address; `*trusted` says whether the peer is a trusted
  // proxy (and so its geo headers may be believed). INVALID_ARGUMENT
  // "x-forwarded-for: ..." / "cloudfront-viewer-address: ..." when an entry
  // the walk reaches is not an address (never guessed).
  absl::StatusOr<std::string> ViewerIp(const http::Request& request, bool trust_cloudfront, bool* trusted) const;

 private:
  struct Network {
    std::array<uint8_t, 16> bytes{};
    int prefix = 0;  // of the 128 bits (IPv4 ranges: 96 + their prefix)
  };
  bool Contains(const std::array<uint8_t, 16>& address) const;

  std::vector<Network> networks_;
};

}  // namespace edgepass::server

#endif  // EDGEPASS_SERVER_REST_TRUSTED_PROXIES_H_
