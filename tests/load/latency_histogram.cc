#include "tests/load/latency_histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>

namespace edgepass::load {
namespace {

// Values below kExact get a bucket each; above, each power-of-two band
// [2^m, 2^(m+1)) is split into kHalf equal sub-buckets.
constexpr int kSubBucketBits = 8;
constexpr uint64_t kExact = uint64_t{1} << kSubBucketBits;  // 256
constexpr uint64_t kHalf = kExact / 2;                      // 128
// One band per shift 1..(63 - (kSubBucketBits - 1)).
constexpr int kBands = 64 - kSubBucketBits;
constexpr int kBucketCount = static_cast<int>(kExact + kBands * kHalf);

}  // namespace

LatencyHistogram::LatencyHistogram() : counts_(kBucketCount, 0) {}

int LatencyHistogram::BucketIndex(uint64_t value) {
  if (value < kExact) return static_cast<int>(value);
  const int msb = 63 - std::countl_zero(value);  // >= kSubBucketBits
  const int shift = msb - (kSubBucketBits - 1);  // >= 1
  const uint64_t top = value >> shift;           // in [kHalf, kExact)
  return static_cast<int>(kExact + (shift - 1) * kHalf + (top - kHalf));
}

uint64_t LatencyHistogram::BucketUpperBound(int index) {
  if (static_cast<uint64_t>(index) < kExact) return index;
  const uint64_t offset = index - kExact;
  const int shift = static_cast<int>(offset / kHalf) + 1;
  const uint64_t top = offset % kHalf + kHalf;
  return (top << shift) + ((uint64_t{1} << shift) - 1);
}

void LatencyHistogram::Record(int64_t value) {
  if (value < 0) value = 0;
  ++counts_[BucketIndex(static_cast<uint64_t>(value))];
  if (count_ == 0 || value < min_) min_ = value;
  if (value > max_) max_ = value;
  ++count_;
  sum_ += value;
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  if (other.count_ == 0) return;
  for (int i = 0; i < kBucketCount; ++i) counts_[i] += other.counts_[i];
  min_ = count_ == 0 ? other.min_ : std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  count_ += other.count_;
  sum_ += other.sum_;
}

double LatencyHistogram::mean() const {
  return count_ == 0 ? 0.0 : static_cast<double>(sum_ / count_);
}

int64_t LatencyHistogram::ValueAtPercentile(double percentile) const {
  if (count_ == 0) return 0;
  if (!(percentile > 0)) percentile = 0;  // also maps NaN to 0
  if (percentile >= 100) return max_;
  // The tolerance keeps 99.9% of 1000 at rank 999 despite 99.9 being inexact.
  const double exact_rank = percentile / 100.0 * static_cast<double>(count_);
  int64_t rank =
      static_cast<int64_t>(std::ceil(exact_rank - 1e-9 * exact_rank));
  rank = std::clamp<int64_t>(rank, 1, count_);
  int64_t seen = 0;
  for (int i = 0; i < kBucketCount; ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      const uint64_t upper = BucketUpperBound(i);
      if (upper >= static_cast<uint64_t>(max_)) return max_;
      return std::max(static_cast<int64_t>(upper), min_);
    }
  }
  return max_;
}

}  // namespace edgepass::load
