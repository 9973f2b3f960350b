#include "obs/callback_collector.h"

#include <utility>

namespace edgepass::obs {

void CallbackCollector::AddFamily(std::string name, std::string help,
                                  prometheus::MetricType type, Read read) {
  absl::MutexLock lock(&mu_);
  entries_.push_back(
      Entry{std::move(name), std::move(help), type, std::move(read)});
}

void CallbackCollector::AddGauge(std::string name, std::string help,
                                 std::function<double()> read) {
  AddFamily(std::move(name), std::move(help), prometheus::MetricType::Gauge,
            [read = std::move(read)] {
              return std::vector<Sample>{{{}, read()}};
            });
}

void CallbackCollector::AddCounter(std::string name, std::string help,
                                   std::function<double()> read) {
  AddFamily(std::move(name), std::move(help), prometheus::MetricType::Counter,
            [read = std::move(read)] {
              return std::vector<Sample>{{{}, read()}};
            });
}

std::vector<prometheus::MetricFamily> CallbackCollector::Collect() const {
  absl::ReaderMutexLock lock(&mu_);
  std::vector<prometheus::MetricFamily> families;
  families.reserve(entries_.size());
  for (const Entry& entry : entries_) {
    std::vector<Sample> samples = entry.read();
    if (samples.empty()) continue;
    prometheus::MetricFamily family;
    family.name = entry.name;
    family.help = entry.help;
    family.type = entry.type;
    family.metric.reserve(samples.size());
    for (Sample& sample : samples) {
      prometheus::ClientMetric metric;
      for (auto& [label, value] : sample.labels) {
        metric.label.push_back(
            {label, std::move(value)});  // Labels is ordered: sorted already
      }
      if (entry.type == prometheus::MetricType::Counter) {
        metric.counter.value = sample.value;
      } else {
        metric.gauge.value = sample.value;
      }
      family.metric.push_back(std::move(metric));
    }
    families.push_back(std::move(family));
  }
  return families;
}

}  // namespace edgepass::obs
