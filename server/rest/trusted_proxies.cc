#include "server/rest/trusted_proxies.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/ip_address.h"

namespace edgepass::server {

absl::StatusOr<TrustedProxies> TrustedProxies::Parse(const std::vector<std::string>& cidrs) {
  TrustedProxies out;
  for (const std::string& cidr : cidrs) {
    std::pair<absl::string_view, absl::string_view> parts = absl::StrSplit(cidr, absl::MaxSplits('/', 1));
    const bool v4 = parts.first.find(':') == absl::string_view::npos;
    int prefix = v4 ? 32 : 128;
    std::optional<std::array<uint8_t, 16>> bytes = core::IpAddressBytes(parts.first);
    if (!bytes.has_value() ||
        (!parts.second.empty() && (!absl::SimpleAtoi(parts.second, &prefix) || prefix < 0 || prefix > (v4 ? 32 : 128))) ||
        (cidr.find('/') != std::string::npos && parts.second.empty())) {
      return absl::InvalidArgumentError(absl::StrCat("--trusted-proxies: \"", cidr, "\" is not an address or CIDR range"));
    }
    out.networks_.push_back({.bytes = *bytes, .prefix = v4 ? prefix + 96 : prefix});
  }
  return out;
}

bool TrustedProxies::Contains(const std::array<uint8_t, 16>& address) const {
  for (const Network& n : networks_) {
    bool match = true;
    for (int bit = 0; bit < n.prefix && match; ++bit) {
      const uint8_t mask = static_cast<uint8_t>(0x80 >> (bit % 8));
      match = (address[bit / 8] & mask) == (n.bytes[bit / 8] & mask);
    }
    if (match) return true;
  }
  return false;
}

bool TrustedProxies::Contains(absl::string_view address) const {
  std::optional<std::array<uint8_t, 16>> bytes = core::IpAddressBytes(address);
  return bytes.has_value() && Contains(*bytes);
}

absl::StatusOr<std::string> TrustedProxies::ViewerIp(const http::Request& request, bool trust_cloudfront,
                                                     bool* trusted) const {
  *trusted = !networks_.empty() && Contains(request.remote_address);
  if (!*trusted) return request.remote_address;
  // As SMD: CloudFront-Viewer-Address is "ip:port", set by CloudFront itself;
  // only believed when the operator says the trusted proxies are CloudFront
  // (a plain proxy passes the viewer's own copy along).
  if (const std::string* cf = request.headers.Find("cloudfront-viewer-address"); cf != nullptr && trust_cloudfront) {
    const size_t colon = cf->rfind(':');
    if (colon == std::string::npos || !core::IpAddressBytes(absl::string_view(*cf).substr(0, colon)).has_value()) {
      return absl::InvalidArgumentError("cloudfront-viewer-address: not IP:PORT");
    }
    return cf->substr(0, colon);
  }
  // X-Forwarded-For (every field, in order, as one list): each trusted hop
  // appends the address it was connected from, so the entries are walked
  // from the right; the first one that is not a trusted proxy is the
  // viewer. Entries left of it are the viewer's own text and never read.
  // An entry reached in the walk that is not an address (a port, brackets,
  // "unknown") means the chain cannot be followed: refused, never guessed.
  std::vector<absl::string_view> entries;
  for (const auto& [name, value] : request.headers.fields()) {
    if (!absl::EqualsIgnoreCase(name, "x-forwarded-for")) continue;
    for (absl::string_view entry : absl::StrSplit(value, ',')) {
      entry = absl::StripAsciiWhitespace(entry);
      // Empty list elements are allowed (RFC 9110 5.6.1) and skipped.
      if (!entry.empty()) entries.push_back(entry);
    }
  }
  std::string viewer = request.remote_address;
  for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
    std::optional<std::array<uint8_t, 16>> address = core::IpAddressBytes(*it);
    if (!address.has_value()) {
      return absl::InvalidArgumentError("x-forwarded-for: an entry appended by a trusted proxy is not an IP address");
    }
    viewer = std::string(*it);
    // When every entry is a trusted hop, the left-most is the viewer.
    if (!Contains(*address)) break;
  }
  return viewer;
}

}  // namespace edgepass::server
