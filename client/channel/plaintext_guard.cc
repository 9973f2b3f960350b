#include "client/channel/plaintext_guard.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "text/host_port.h"

namespace edgepass::client {


namespace {

// The host of one "HOST:PORT" or "[V6]:PORT" (the port is optional); "" when
// there is none to find.
std::string HostOf(absl::string_view address) {
  absl::StatusOr<text::HostPort> parsed = text::ParseHostPort(address, {.port_optional = true});
  return parsed.ok() ? std::move(parsed->host) : "";
}

}  // namespace

std::vector<std::string> GrpcTargetAddresses(absl::string_view target) {
  if (!absl::ConsumePrefix(&target, "dns:///")) {
    // "dns://AUTHORITY/HOST:PORT" names a DNS server first.
    if (absl::StartsWith(target, "dns://")) {
      const size_t slash = target.find('/', 6);
      if (slash == absl::string_view::npos) return {};
      target.remove_prefix(slash + 1);
    } else if (!absl::ConsumePrefix(&target, "dns:") &&
               !absl::ConsumePrefix(&target, "ipv4:") &&
               !absl::ConsumePrefix(&target, "ipv6:") &&
               absl::StrContains(target, ":/")) {
      return {};  // unix:, unix-abstract:, vsock: ... : no host
    }
  }
  return absl::StrSplit(target, ',');
}

std::vector<std::string> GrpcTargetHosts(absl::string_view target) {
  std::vector<std::string> hosts;
  for (const std::string& address : GrpcTargetAddresses(target)) hosts.push_back(HostOf(address));
  if (hosts.empty()) hosts.push_back("");
  return hosts;
}

bool IsLoopbackTarget(absl::string_view target) {
  for (const std::string& host : GrpcTargetHosts(target)) {
    if (!IsLoopbackHost(host)) return false;
  }
  return true;
}

absl::Status CheckPlaintextServer(absl::string_view flag,
                                  absl::string_view target,
                                  absl::string_view what) {
  if (IsLoopbackTarget(target)) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      flag, ": ", target,
      " is not a loopback address and there is no TLS: ", what,
      " would cross the network in cleartext; give --server-ca, or "
      "--insecure-plaintext to allow it"));
}

}  // namespace edgepass::client
