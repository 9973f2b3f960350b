// A fixed-precision latency histogram in the manner of HdrHistogram:
// log-linear buckets (exact below 256, then 128 sub-buckets per power of two),
// so any recorded value is reported within 1/128 (< 0.8%) of itself, with
// constant-time Record() and a fixed ~58 KiB footprint. Not thread-safe: give
// each recording thread its own histogram and Merge() them.
//
//   LatencyHistogram h;
//   h.Record(latency_ns);
//   int64_t p99 = h.ValueAtPercentile(99.0);
#ifndef EDGEPASS_TESTS_LOAD_LATENCY_HISTOGRAM_H_
#define EDGEPASS_TESTS_LOAD_LATENCY_HISTOGRAM_H_

#include <cstdint>
#include <vector>

namespace edgepass::load {

class LatencyHistogram {
 public:
  LatencyHistogram();

  // Adds one value (any unit; the caller's choice). Negative values count as 0.
  void Record(int64_t value);
  // Adds every value recorded in `other`.
  void Merge(const LatencyHistogram& other);

  int64_t count() const { return count_; }
  // Exact smallest / largest recorded value; 0 when empty.
  int64_t min() const { return count_ == 0 ? 0 : min_; }
  int64_t max() const { return max_; }
  // Exact arithmetic mean; 0 when empty.
  double mean() const;

  // The smallest value v such that at least `percentile` percent of the
  // recorded values are <= v, reported as the upper end of v's bucket and
  // clamped to [min(), max()]: never below the true percentile, and above it
  // by less than 1/128. `percentile` is clamped to [0, 100]; 0 when empty.
  int64_t ValueAtPercentile(double percentile) const;

 private:
  static int BucketIndex(uint64_t value);
  static uint64_t BucketUpperBound(int index);

  std::vector<int64_t> counts_;
  int64_t count_ = 0;
  int64_t min_ = 0;
  int64_t max_ = 0;
  // Sum in long double: 2^63 ns samples would overflow an integer sum.
  long double sum_ = 0;
};

}  // namespace edgepass::load

#endif  // EDGEPASS_TESTS_LOAD_LATENCY_HISTOGRAM_H_
