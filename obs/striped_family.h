// Counter and histogram families for hot paths. prometheus-cpp's children
// make every recording thread write one shared atomic (a CAS loop per
// counter increment) and take a std::mutex per histogram observation; with
// many threads on few cores that is cache-line ping-pong and futex wakes on
// every call. Here each child keeps kMetricStripes copies of its counts,
// each on its own cache lines; a thread always writes the stripe it picked
// on first use, and a scrape adds the stripes up. The exposition is what
// prometheus-cpp's Family<Counter> / Family<Histogram> produce for the same
// name, help, labels and observations, and the label sets are capped like
// BoundedFamily's (LabelSetIndex).
//
//   auto requests = std::make_shared<obs::StripedCounterFamily>(
//       "x_requests_total", "Requests, by route.", {"route"},
//       /*max_children=*/64);
//   requests->Get({"/v1/assets/{id}"}).Increment();
//   auto endpoint = obs::MetricsEndpoint::Start(addr, {requests, registry});
#ifndef EDGEPASS_OBS_STRIPED_FAMILY_H_
#define EDGEPASS_OBS_STRIPED_FAMILY_H_

#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "obs/label_set_index.h"
#include "prometheus/client_metric.h"
#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"

namespace edgepass::obs {

// Copies of each child's counts. More stripes than cores that record at once
// keeps two threads off the same line most of the time; threads beyond that
// share stripes, which stays correct (atomic adds) and only costs contention.
inline constexpr size_t kMetricStripes = 16;

// The stripe the calling thread writes, picked round-robin on its first call
// so that threads started together spread over the stripes.
inline size_t MetricStripe() {
  static std::atomic<size_t> next{0};
  thread_local const size_t stripe =
      next.fetch_add(1, std::memory_order_relaxed) % kMetricStripes;
  return stripe;
}

// A counter of whole events. Thread-safe; Increment is a relaxed add on the
// caller's stripe: no lock, no shared cache line.
class alignas(64) StripedCounter {
 public:
  StripedCounter() = default;
  StripedCounter(const StripedCounter&) = delete;
  StripedCounter& operator=(const StripedCounter&) = delete;

  void Increment(uint64_t n = 1) {
    cells_[MetricStripe()].value.fetch_add(n, std::memory_order_relaxed);
  }

  // The sum of the stripes. Monotonic across calls from one thread.
  uint64_t Value() const;

 private:
  struct alignas(64) Cell {
    std::atomic<uint64_t> value{0};
  };
  Cell cells_[kMetricStripes];
};

// A histogram with fixed bucket boundaries, as prometheus::Histogram counts
// it (std::lower_bound): an observation goes to the first bucket whose upper
// bound is not below it, values past the last bound to +Inf, NaN to the first.
// Per stripe: one uint64 count per bucket and the sum as a double's bits,
// updated by a CAS loop that only repeats when another thread shares the
// stripe. Thread-safe; no lock.
class StripedHistogram {
 public:
  // `boundaries` must be strictly increasing and outlive the histogram.
  explicit StripedHistogram(const std::vector<double>& boundaries);
  StripedHistogram(const StripedHistogram&) = delete;
  StripedHistogram& operator=(const StripedHistogram&) = delete;

  void Observe(double value) {
    const size_t buckets = boundaries_.size();
    size_t b = 0;
    while (b < buckets && boundaries_[b] < value) ++b;
    const size_t stripe = MetricStripe();
    Word(stripe, b).fetch_add(1, std::memory_order_relaxed);
    std::atomic<uint64_t>& sum = Word(stripe, buckets + 1);
    uint64_t old = sum.load(std::memory_order_relaxed);
    while (!sum.compare_exchange_weak(
        old, std::bit_cast<uint64_t>(std::bit_cast<double>(old) + value),
        std::memory_order_relaxed)) {
    }
  }

  // Cumulative buckets (the last one +Inf), count and sum, without labels.
  // Each bucket's count is monotonic across calls from one thread; the sum
  // may lag or lead the counts by the observations made during the call.
  prometheus::ClientMetric Collect() const;

 private:
  struct alignas(64) Line {
    std::atomic<uint64_t> word[8];
  };
  static constexpr size_t kWordsPerLine = 8;

  // Word i of a stripe: buckets 0..boundaries.size() (the last one +Inf),
  // then the sum.
  std::atomic<uint64_t>& Word(size_t stripe, size_t i) const {
    return lines_[stripe * lines_per_stripe_ + i / kWordsPerLine]
        .word[i % kWordsPerLine];
  }

  const std::vector<double>& boundaries_;
  const size_t lines_per_stripe_;
  const std::unique_ptr<Line[]> lines_;
};

// A capped family of StripedCounters that is a prometheus::Collectable: its
// scrape is prometheus-cpp's Family<Counter> with the same name, help and
// label sets (children in label order; a family without children is left
// out). Thread-safe. Without label names it has its one child from the
// start, as a prometheus-cpp family registered with Add({}).
class StripedCounterFamily : public prometheus::Collectable {
 public:
  StripedCounterFamily(std::string name, std::string help,
                       std::vector<std::string> label_names,
                       size_t max_children);

  // The child for `values`, one per label name in order (missing values are
  // empty, extra ones ignored); past `max_children` sets, the one counted
  // under kOverflowLabelValue. Lives as long as the family.
  StripedCounter& Get(absl::Span<const absl::string_view> values) {
    return index_.Get(values);
  }
  StripedCounter& Get(std::initializer_list<absl::string_view> values) {
    return index_.Get(values);
  }

  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const std::string name_;
  const std::string help_;
  // Appended to only by index_'s factory, which runs under the index's lock.
  std::vector<std::unique_ptr<StripedCounter>> children_;
  LabelSetIndex<StripedCounter> index_;
};

// The same for StripedHistograms with `boundaries` (strictly increasing, as
// prometheus::Histogram requires).
class StripedHistogramFamily : public prometheus::Collectable {
 public:
  StripedHistogramFamily(std::string name, std::string help,
                         std::vector<std::string> label_names,
                         size_t max_children, std::vector<double> boundaries);

  StripedHistogram& Get(absl::Span<const absl::string_view> values) {
    return index_.Get(values);
  }
  StripedHistogram& Get(std::initializer_list<absl::string_view> values) {
    return index_.Get(values);
  }

  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const std::string name_;
  const std::string help_;
  const std::vector<double> boundaries_;
  // Appended to only by index_'s factory, which runs under the index's lock.
  std::vector<std::unique_ptr<StripedHistogram>> children_;
  LabelSetIndex<StripedHistogram> index_;
};

}  // namespace edgepass::obs

#endif  // EDGEPASS_OBS_STRIPED_FAMILY_H_
