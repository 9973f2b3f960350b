#include "obs/striped_family.h"

#include <algorithm>
#include <cassert>
#include <functional>
#include <limits>
#include <utility>

#include "prometheus/check_names.h"
#include "prometheus/metric_type.h"

namespace edgepass::obs {
namespace {

// The family as prometheus-cpp's Family::Collect builds it: no family without
// children; each child's labels in name order (prometheus::Labels is a map).
// Children come in label order, so the text does not depend on which label
// set was used first.
template <typename Child, typename CollectChild>
std::vector<prometheus::MetricFamily> CollectFamily(
    const std::string& name, const std::string& help,
    prometheus::MetricType type, const LabelSetIndex<Child>& index,
    CollectChild collect_child) {
  using Entry = typename LabelSetIndex<Child>::Entry;
  std::vector<const Entry*> entries = index.Entries();
  if (entries.empty()) return {};
  std::sort(entries.begin(), entries.end(), [](const Entry* a, const Entry* b) {
    return a->labels < b->labels;
  });
  prometheus::MetricFamily family;
  family.name = name;
  family.help = help;
  family.type = type;
  family.metric.reserve(entries.size());
  for (const Entry* entry : entries) {
    prometheus::ClientMetric metric = collect_child(*entry->child);
    metric.label.reserve(entry->labels.size());
    for (const auto& [label, value] : entry->labels)
      metric.label.push_back({label, value});
    family.metric.push_back(std::move(metric));
  }
  return {std::move(family)};
}

// What prometheus-cpp's family builders throw on; names here are constants
// of the program, so a debug check is enough.
[[maybe_unused]] bool ValidNames(const std::string& name,
                                 const std::vector<std::string>& labels) {
  return prometheus::CheckMetricName(name) &&
         std::all_of(labels.begin(), labels.end(), prometheus::CheckLabelName);
}

}  // namespace

uint64_t StripedCounter::Value() const {
  uint64_t total = 0;
  for (const Cell& cell : cells_)
    total += cell.value.load(std::memory_order_relaxed);
  return total;
}

StripedHistogram::StripedHistogram(const std::vector<double>& boundaries)
    : boundaries_(boundaries),
      // The bucket counts, +Inf's and the sum.
      lines_per_stripe_((boundaries.size() + 2 + kWordsPerLine - 1) /
                        kWordsPerLine),
      // make_unique value-initializes: every count and the sum (0.0's bits)
      // start at 0.
      lines_(std::make_unique<Line[]>(kMetricStripes * lines_per_stripe_)) {
  assert(std::adjacent_find(boundaries.begin(), boundaries.end(),
                            std::greater_equal<double>()) == boundaries.end());
}

prometheus::ClientMetric StripedHistogram::Collect() const {
  const size_t buckets = boundaries_.size();
  prometheus::ClientMetric metric;
  metric.histogram.bucket.reserve(buckets + 1);
  uint64_t cumulative = 0;
  for (size_t b = 0; b <= buckets; ++b) {
    for (size_t s = 0; s < kMetricStripes; ++s) {
      cumulative += Word(s, b).load(std::memory_order_relaxed);
    }
    prometheus::ClientMetric::Bucket bucket;
    bucket.cumulative_count = cumulative;
    bucket.upper_bound =
        b < buckets ? boundaries_[b] : std::numeric_limits<double>::infinity();
    metric.histogram.bucket.push_back(bucket);
  }
  metric.histogram.sample_count = cumulative;
  double sum = 0;
  for (size_t s = 0; s < kMetricStripes; ++s) {
    sum += std::bit_cast<double>(
        Word(s, buckets + 1).load(std::memory_order_relaxed));
  }
  metric.histogram.sample_sum = sum;
  return metric;
}

StripedCounterFamily::StripedCounterFamily(std::string name, std::string help,
                                           std::vector<std::string> label_names,
                                           size_t max_children)
    : name_(std::move(name)),
      help_(std::move(help)),
      index_(std::move(label_names), max_children,
             [this](const prometheus::Labels&) -> StripedCounter& {
               children_.push_back(std::make_unique<StripedCounter>());
               return *children_.back();
             }) {
  assert(ValidNames(name_, index_.label_names()));
  if (index_.label_names().empty()) index_.Get({});
}

std::vector<prometheus::MetricFamily> StripedCounterFamily::Collect() const {
  return CollectFamily(name_, help_, prometheus::MetricType::Counter, index_,
                       [](const StripedCounter& counter) {
                         prometheus::ClientMetric metric;
                         metric.counter.value =
                             static_cast<double>(counter.Value());
                         return metric;
                       });
}

StripedHistogramFamily::StripedHistogramFamily(
    std::string name, std::string help, std::vector<std::string> label_names,
    size_t max_children, std::vector<double> boundaries)
    : name_(std::move(name)),
      help_(std::move(help)),
      boundaries_(std::move(boundaries)),
      index_(std::move(label_names), max_children,
             [this](const prometheus::Labels&) -> StripedHistogram& {
               children_.push_back(
                   std::make_unique<StripedHistogram>(boundaries_));
               return *children_.back();
             }) {
  assert(ValidNames(name_, index_.label_names()));
  if (index_.label_names().empty()) index_.Get({});
}

std::vector<prometheus::MetricFamily> StripedHistogramFamily::Collect() const {
  return CollectFamily(
      name_, help_, prometheus::MetricType::Histogram, index_,
      [](const StripedHistogram& histogram) { return histogram.Collect(); });
}

}  // namespace edgepass::obs
