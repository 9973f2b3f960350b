#include "obs/metrics_endpoint.h"

#include <exception>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "prometheus/exposer.h"

namespace edgepass::obs {
namespace {

// Splits a validated address.
void Split(absl::string_view address, absl::string_view* host, uint32_t* port) {
  const size_t colon = address.rfind(':');
  *host = address.substr(0, colon);
  (void)absl::SimpleAtoi(address.substr(colon + 1), port);
}

}  // namespace

absl::Status ValidateMetricsAddress(absl::string_view address) {
  if (address.empty()) return absl::InvalidArgumentError("expected HOST:PORT");
  if (address.front() == '[') {
    return absl::InvalidArgumentError(
        "IPv6 addresses are not supported for metrics; use an IPv4 address or "
        "a host name");
  }
  const size_t colon = address.rfind(':');
  if (colon == absl::string_view::npos)
    return absl::InvalidArgumentError("expected HOST:PORT");
  const absl::string_view host = address.substr(0, colon);
  if (host.empty()) return absl::InvalidArgumentError("host is empty");
  for (char c : host) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' &&
        c != '-') {
      return absl::InvalidArgumentError(
          "host must be an IPv4 address or a host name (IPv6 is not supported "
          "for metrics)");
    }
  }
  uint32_t port;
  if (!absl::SimpleAtoi(address.substr(colon + 1), &port) || port > 65535) {
    return absl::InvalidArgumentError("port must be 0-65535");
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
  absl::string_view host;
  uint32_t unused_port = 0;
  Split(address, &host, &unused_port);
  endpoint->address_ = absl::StrCat(host, ":", endpoint->port_);
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
