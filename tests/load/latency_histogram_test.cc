#include "tests/load/latency_histogram.h"

#include <cmath>
#include <cstdint>
#include <limits>

#include "gtest/gtest.h"

namespace edgepass::load {
namespace {

TEST(LatencyHistogram, EmptyReportsZero) {
  LatencyHistogram h;
  EXPECT_EQ(h.count(), 0);
  EXPECT_EQ(h.min(), 0);
  EXPECT_EQ(h.max(), 0);
  EXPECT_EQ(h.mean(), 0);
  EXPECT_EQ(h.ValueAtPercentile(50), 0);
  EXPECT_EQ(h.ValueAtPercentile(100), 0);
}

TEST(LatencyHistogram, SmallValuesAreExact) {
  LatencyHistogram h;
  for (int v = 1; v <= 100; ++v) h.Record(v);
  EXPECT_EQ(h.count(), 100);
  EXPECT_EQ(h.min(), 1);
  EXPECT_EQ(h.max(), 100);
  EXPECT_DOUBLE_EQ(h.mean(), 50.5);
  EXPECT_EQ(h.ValueAtPercentile(0), 1);
  EXPECT_EQ(h.ValueAtPercentile(50), 50);
  EXPECT_EQ(h.ValueAtPercentile(90), 90);
  EXPECT_EQ(h.ValueAtPercentile(99), 99);
  EXPECT_EQ(h.ValueAtPercentile(99.9), 100);
  EXPECT_EQ(h.ValueAtPercentile(100), 100);
}

TEST(LatencyHistogram, RankUsesNearestRankDespiteInexactPercentile) {
  LatencyHistogram h;
  for (int v = 0; v < 1000; ++v) h.Record(v < 999 ? 10 : 200);
  // 99.9% of 1000 is rank 999 (value 10), not 1000 (value 200).
  EXPECT_EQ(h.ValueAtPercentile(99.9), 10);
  EXPECT_EQ(h.ValueAtPercentile(99.95), 200);
}

TEST(LatencyHistogram, LargeValuesWithinRelativeError) {
  LatencyHistogram h;
  // 1 ms .. 10 ms in nanoseconds, evenly spaced: percentile p is near
  // 1 ms + p% of 9 ms.
  constexpr int kN = 10000;
  for (int i = 1; i <= kN; ++i) h.Record(1'000'000 + int64_t{i} * 900);
  for (double p : {50.0, 90.0, 99.0, 99.9}) {
    const double exact = 1'000'000 + std::ceil(p / 100 * kN) * 900;
    const int64_t got = h.ValueAtPercentile(p);
    EXPECT_GE(got, exact) << p;
    EXPECT_LE(got, exact * (1 + 1.0 / 128)) << p;
  }
  EXPECT_EQ(h.ValueAtPercentile(100), 1'000'000 + int64_t{kN} * 900);
}

TEST(LatencyHistogram, PercentilesAreOrderedAndBoundedByMinMax) {
  LatencyHistogram h;
  uint64_t x = 12345;
  for (int i = 0; i < 5000; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;  // LCG
    h.Record(static_cast<int64_t>(x >> 40));                  // up to 2^24
  }
  int64_t previous = h.min();
  for (double p : {0.0, 1.0, 10.0, 50.0, 90.0, 99.0, 99.9, 99.99, 100.0}) {
    const int64_t v = h.ValueAtPercentile(p);
    EXPECT_GE(v, previous) << p;
    EXPECT_LE(v, h.max()) << p;
    previous = v;
  }
}

TEST(LatencyHistogram, ExtremesDoNotOverflow) {
  LatencyHistogram h;
  h.Record(-5);  // counted as 0
  h.Record(std::numeric_limits<int64_t>::max());
  EXPECT_EQ(h.count(), 2);
  EXPECT_EQ(h.min(), 0);
  EXPECT_EQ(h.max(), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(h.ValueAtPercentile(50), 0);
  EXPECT_EQ(h.ValueAtPercentile(99), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(h.ValueAtPercentile(-1), 0);
  EXPECT_EQ(h.ValueAtPercentile(1000), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(h.ValueAtPercentile(std::nan("")), 0);
}

TEST(LatencyHistogram, MergeEqualsRecordingEverything) {
  LatencyHistogram a, b, all;
  for (int i = 0; i < 1000; ++i) {
    const int64_t v = int64_t{i} * 7919 % 100000;
    (i % 3 == 0 ? a : b).Record(v);
    all.Record(v);
  }
  LatencyHistogram empty;
  a.Merge(empty);
  a.Merge(b);
  EXPECT_EQ(a.count(), all.count());
  EXPECT_EQ(a.min(), all.min());
  EXPECT_EQ(a.max(), all.max());
  EXPECT_DOUBLE_EQ(a.mean(), all.mean());
  for (double p : {50.0, 90.0, 99.0, 99.9}) {
    EXPECT_EQ(a.ValueAtPercentile(p), all.ValueAtPercentile(p)) << p;
  }
  empty.Merge(all);
  EXPECT_EQ(empty.min(), all.min());
}

}  // namespace
}  // namespace edgepass::load
