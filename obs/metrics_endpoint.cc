#include "obs/metrics_endpoint.h"

#include <algorithm>
#include <exception>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "prometheus/exposer.h"
#include "text/host_port.h"

namespace edgepass::obs {
namespace {

constexpr char kNoIpv6[] = "IPv6 addresses are not supported for metrics; use an IPv4 address or a host name";

}  // namespace

absl::Status ValidateMetricsAddress(absl::string_view address) {
  // prometheus-cpp's server (CivetWeb) takes no brackets.
  if (absl::StartsWith(address, "[") || std::count(address.begin(), address.end(), ':') > 1) {
    return absl::InvalidArgumentError(kNoIpv6);
  }
  absl::StatusOr<text::HostPort> parsed = text::ParseHostPort(address);
  if (!parsed.ok()) return parsed.status();
  for (char c : parsed->host) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' &&
        c != '-') {
      return absl::InvalidArgumentError(
          "host must be an IPv4 address or a host name (IPv6 is not supported "
          "for metrics)");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<MetricsEndpoint>> MetricsEndpoint::Start(
    const std::string& address,
    std::vector<std::shared_ptr<prometheus::Collectable>> collectables) {
  if (absl::Status valid = ValidateMetricsAddress(address); !valid.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("metrics address \"", address, "\": ", valid.message()));
  }
  auto endpoint = std::unique_ptr<MetricsEndpoint>(new MetricsEndpoint());
  try {
    endpoint->exposer_ =
        std::make_unique<prometheus::Exposer>(address, /*num_threads=*/2);
  } catch (
      const std::exception& e) {  // CivetException: the library's only report
    return absl::UnavailableError(
        absl::StrCat("metrics address ", address,
                     ": cannot listen (in use, or not a local address)"));
  }
  const std::vector<int> ports = endpoint->exposer_->GetListeningPorts();
  if (ports.empty() || ports.front() <= 0 || ports.front() > 65535) {
    return absl::UnavailableError(
        absl::StrCat("metrics address ", address, ": no port bound"));
  }
  endpoint->port_ = static_cast<uint16_t>(ports.front());
  endpoint->address_ = text::JoinHostPort(text::ParseHostPort(address).value_or(text::HostPort{}).host, endpoint->port_);
  endpoint->collectables_ = std::move(collectables);
  for (const auto& collectable : endpoint->collectables_) {
    endpoint->exposer_->RegisterCollectable(collectable);
  }
  return endpoint;
}

MetricsEndpoint::~MetricsEndpoint() {
  exposer_.reset();  // before the collectables it scrapes
}

std::string MetricsEndpoint::url() const {
  return absl::StrCat("http://", address_, "/metrics");
}

}  // namespace edgepass::obs
