// Serves Prometheus metrics (text format 0.0.4) on http://HOST:PORT/metrics,
// a port of its own apart from the service's API. Port 0 picks a free port;
// address() tells the one bound.
//
//   absl::StatusOr<std::unique_ptr<obs::MetricsEndpoint>> metrics =
//       obs::MetricsEndpoint::Start("127.0.0.1:9464", {registry, state});
//   if (metrics.ok()) std::cerr << "metrics on " << (*metrics)->url() << "\n";
#ifndef EDGEPASS_OBS_METRICS_ENDPOINT_H_
#define EDGEPASS_OBS_METRICS_ENDPOINT_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "prometheus/collectable.h"

namespace prometheus {
class Exposer;
}  // namespace prometheus

namespace edgepass::obs {

// Checks a metrics listen address: "HOST:PORT" with a port 0-65535 and an
// IPv4 address or a host name as HOST (the HTTP library under prometheus-cpp
// here cannot bind IPv6 literals). INVALID_ARGUMENT with the reason, for the
// caller to prefix with the option's name.
absl::Status ValidateMetricsAddress(absl::string_view address);

// Thread-safe. Scrapes run on the endpoint's own threads.
class MetricsEndpoint {
 public:
  // Listens on `address` (see ValidateMetricsAddress) and serves what
  // `collectables` collect, in that order, at every scrape; keeps them alive.
  // INVALID_ARGUMENT for a malformed address; UNAVAILABLE when it cannot be
  // bound (in use, not a local address, unknown name).
  static absl::StatusOr<std::unique_ptr<MetricsEndpoint>> Start(
      const std::string& address,
      std::vector<std::shared_ptr<prometheus::Collectable>> collectables);

  // Stops serving. Takes up to ~2 s once a scrape was served (the HTTP
  // library waits out its keep-alive connections).
  ~MetricsEndpoint();
  MetricsEndpoint(const MetricsEndpoint&) = delete;
  MetricsEndpoint& operator=(const MetricsEndpoint&) = delete;

  // "HOST:PORT" with the port actually bound.
  const std::string& address() const { return address_; }
  uint16_t port() const { return port_; }
  // "http://HOST:PORT/metrics".
  std::string url() const;

 private:
  MetricsEndpoint() = default;

  std::vector<std::shared_ptr<prometheus::Collectable>> collectables_;
  std::unique_ptr<prometheus::Exposer> exposer_;
  std::string address_;
  uint16_t port_ = 0;
};

}  // namespace edgepass::obs

#endif  // EDGEPASS_OBS_METRICS_ENDPOINT_H_
