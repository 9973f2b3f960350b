// The Prometheus text exposition (format 0.0.4) of some collectables, as a
// MetricsEndpoint serving them answers a scrape: for unit tests that check
// families in process, and for debugging.
//
//   std::string text = obs::MetricsText({registry, state_collector});
//   EXPECT_THAT(text, HasSubstr("edgepass_tokens_issued_total{"));
#ifndef EDGEPASS_OBS_METRICS_TEXT_H_
#define EDGEPASS_OBS_METRICS_TEXT_H_

#include <memory>
#include <string>
#include <vector>

#include "prometheus/collectable.h"

namespace edgepass::obs {

// Collects each in order and serializes the families. Thread-safe as far as
// the collectables are.
std::string MetricsText(
    const std::vector<std::shared_ptr<prometheus::Collectable>>& collectables);

}  // namespace edgepass::obs

#endif  // EDGEPASS_OBS_METRICS_TEXT_H_
