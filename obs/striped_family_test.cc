#include "obs/striped_family.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "obs/metrics_text.h"
#include "prometheus/counter.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"
#include "prometheus/text_serializer.h"

namespace edgepass::obs {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// prometheus-cpp's scrape of `registry` with each family's children in label
// order: its own order is that of a hash map, the striped families' is label
// order; nothing else may differ.
std::string CanonicalText(prometheus::Registry& registry) {
  std::vector<prometheus::MetricFamily> families = registry.Collect();
  for (prometheus::MetricFamily& family : families) {
    std::sort(
        family.metric.begin(), family.metric.end(),
        [](const prometheus::ClientMetric& a,
           const prometheus::ClientMetric& b) { return a.label < b.label; });
  }
  return prometheus::TextSerializer().Serialize(families);
}

// Sample values whose sums are exact in binary and values on, between and
// past the bucket bounds.
const std::vector<double> kBounds = {0.001, 0.01, 0.1, 1, 2.5};
const std::vector<double> kValues = {0.0005, 0.001, 0.01, 0.0625, 0.1, 0.5,
                                     1,      2.5,   3,    100,    0};

TEST(StripedCounterFamily, ExpositionMatchesPrometheusCpp) {
  prometheus::Registry registry;
  auto& theirs = prometheus::BuildCounter()
                     .Name("test_requests_total")
                     .Help("Requests, by route and code.")
                     .Register(registry);
  StripedCounterFamily ours("test_requests_total",
                            "Requests, by route and code.", {"route", "code"},
                            100);
  const std::vector<std::pair<std::string, std::string>> sets = {
      {"/v1/b", "200"},
      {"/v1/a", "404"},
      {"/v1/a", "200"},
      {"", "500"},
      {"/v1/b", "200"}};
  for (size_t i = 0; i < sets.size(); ++i) {
    theirs.Add({{"route", sets[i].first}, {"code", sets[i].second}})
        .Increment(i + 1);
    ours.Get({sets[i].first, sets[i].second}).Increment(i + 1);
  }
  const std::string text =
      prometheus::TextSerializer().Serialize(ours.Collect());
  EXPECT_EQ(text, CanonicalText(registry));
  EXPECT_THAT(
      text, HasSubstr("test_requests_total{code=\"200\",route=\"/v1/b\"} 6\n"));
}

TEST(StripedCounterFamily,
     LabelledFamilyWithoutChildrenIsLeftOutUnlabelledIsNot) {
  StripedCounterFamily labelled("test_a_total", "A.", {"route"}, 10);
  EXPECT_TRUE(labelled.Collect().empty());

  prometheus::Registry registry;
  prometheus::BuildCounter()
      .Name("test_b_total")
      .Help("B.")
      .Register(registry)
      .Add({});
  StripedCounterFamily unlabelled("test_b_total", "B.", {}, 1);
  std::vector<prometheus::MetricFamily> ours = unlabelled.Collect();
  EXPECT_EQ(prometheus::TextSerializer().Serialize(ours),
            CanonicalText(registry));
  unlabelled.Get({}).Increment();
  EXPECT_EQ(unlabelled.Collect().at(0).metric.at(0).counter.value, 1);
}

TEST(StripedHistogramFamily, ExpositionMatchesPrometheusCpp) {
  prometheus::Registry registry;
  auto& theirs = prometheus::BuildHistogram()
                     .Name("test_seconds")
                     .Help("Time per request, by route.")
                     .Register(registry);
  StripedHistogramFamily ours("test_seconds", "Time per request, by route.",
                              {"route"}, 10, kBounds);
  for (const std::string route : {"/v1/b", "/v1/a"}) {
    for (double v : kValues) {
      theirs.Add({{"route", route}}, kBounds).Observe(v);
      ours.Get({route}).Observe(v);
    }
  }
  theirs.Add({{"route", "/v1/c"}}, kBounds);  // a child without observations
  ours.Get({"/v1/c"});
  prometheus::TextSerializer serializer;
  const std::string text = serializer.Serialize(ours.Collect());
  EXPECT_EQ(text, CanonicalText(registry));
  EXPECT_THAT(
      text, HasSubstr("test_seconds_bucket{route=\"/v1/a\",le=\"0.01\"} 4\n"));
  EXPECT_THAT(
      text, HasSubstr("test_seconds_bucket{route=\"/v1/a\",le=\"+Inf\"} 11\n"));
}

TEST(StripedHistogramFamily,
     UnlabelledMatchesPrometheusCppBeforeAndAfterObservations) {
  prometheus::Registry registry;
  prometheus::Histogram& theirs = prometheus::BuildHistogram()
                                      .Name("test_issue_seconds")
                                      .Help("Issue time.")
                                      .Register(registry)
                                      .Add({}, kBounds);
  StripedHistogramFamily ours("test_issue_seconds", "Issue time.", {}, 1,
                              kBounds);
  prometheus::TextSerializer serializer;
  EXPECT_EQ(serializer.Serialize(ours.Collect()), CanonicalText(registry));
  // Sums that are not exact in binary: one thread adds in the same order.
  for (double v : {0.1, 0.2, 0.3, 1e-5, 7.0, -1.0,
                   std::numeric_limits<double>::quiet_NaN()}) {
    theirs.Observe(v);
    ours.Get({}).Observe(v);
  }
  EXPECT_EQ(serializer.Serialize(ours.Collect()), CanonicalText(registry));
}

TEST(StripedCounterFamily, CountsLabelSetsPastTheCapUnderOther) {
  auto family = std::make_shared<StripedCounterFamily>(
      "test_requests_total", "Requests.",
      std::vector<std::string>{"route", "code"}, 2);
  family->Get({"/a", "200"}).Increment();
  family->Get({"/a", "200"}).Increment();
  family->Get({"/b", "404"}).Increment();
  family->Get({"/c", "200"}).Increment();  // third set: over the cap
  family->Get({"/d", "500"}).Increment(3);
  family->Get({"/c", "200"}).Increment();
  family->Get({"/a", "200"})
      .Increment();  // existing sets still count as themselves
  const std::string text = MetricsText({family});
  EXPECT_THAT(text,
              HasSubstr("test_requests_total{code=\"200\",route=\"/a\"} 3\n"));
  EXPECT_THAT(text,
              HasSubstr("test_requests_total{code=\"404\",route=\"/b\"} 1\n"));
  EXPECT_THAT(
      text,
      HasSubstr("test_requests_total{code=\"(other)\",route=\"(other)\"} 5\n"));
  EXPECT_THAT(text, Not(HasSubstr("/c")));
  EXPECT_THAT(text, Not(HasSubstr("/d")));
}

TEST(StripedHistogramFamily, CountsLabelSetsPastTheCapUnderOther) {
  StripedHistogramFamily family("test_seconds", "Time.", {"route"}, 1, kBounds);
  family.Get({"/a"}).Observe(0.5);
  family.Get({"/b"}).Observe(0.5);
  family.Get({"/c"}).Observe(0.5);
  const std::string text =
      prometheus::TextSerializer().Serialize(family.Collect());
  EXPECT_THAT(text, HasSubstr("test_seconds_count{route=\"/a\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("test_seconds_count{route=\"(other)\"} 2\n"));
  EXPECT_THAT(text, Not(HasSubstr("/b")));
}

TEST(LabelSetIndex, OverflowValuesUsedBeforeTheCapAreTheOverflowChild) {
  StripedCounterFamily family("test_total", "T.", {"route"}, 2);
  family.Get({kOverflowLabelValue})
      .Increment();  // a real set, as prometheus-cpp would share it
  family.Get({"/a"}).Increment();
  family.Get({"/b"}).Increment();  // over the cap
  const std::string text =
      prometheus::TextSerializer().Serialize(family.Collect());
  EXPECT_THAT(text, HasSubstr("test_total{route=\"(other)\"} 2\n"));
  EXPECT_EQ(family.Collect().at(0).metric.size(), 2u);
}

TEST(LabelSetIndex, KeysOfDifferentValueListsNeverCollide) {
  StripedCounterFamily family("test_total", "T.", {"a", "b"}, 100);
  StripedCounter& one = family.Get({"x\x1fy", "z"});
  StripedCounter& two = family.Get({"x", "y\x1fz"});
  StripedCounter& three = family.Get({"x", std::string(1, '\x01') + "z"});
  EXPECT_NE(&one, &two);
  EXPECT_NE(&two, &three);
  // Missing values are empty; extra ones ignored.
  EXPECT_EQ(&family.Get({"x"}), &family.Get({"x", ""}));
  EXPECT_EQ(&family.Get({"x", "y", "extra"}), &family.Get({"x", "y"}));
  // Keys past the inline buffer take the heap path and still find their child.
  const std::string long_value(1000, 'r');
  StripedCounter& long_child = family.Get({long_value, "200"});
  EXPECT_EQ(&long_child, &family.Get({long_value, "200"}));
  EXPECT_NE(&long_child, &family.Get({long_value, "201"}));
}

TEST(LabelSetIndex, FindsEveryChildAfterTheTableGrows) {
  StripedCounterFamily family("test_total", "T.", {"id"}, 1000);
  std::vector<StripedCounter*> children;
  for (int i = 0; i < 500; ++i)
    children.push_back(&family.Get({absl::StrCat(i)}));
  for (int i = 0; i < 500; ++i)
    EXPECT_EQ(children[i], &family.Get({absl::StrCat(i)})) << i;
  EXPECT_EQ(family.Collect().at(0).metric.size(), 500u);
}

// Threads record concurrently, over shared stripes and while new label sets
// are created: no count is lost.
TEST(StripedFamilies, ConcurrentRecordingLosesNoCounts) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 100000;
  constexpr int kRoutes = 40;
  StripedCounterFamily counters("test_total", "T.", {"route"}, 64);
  StripedHistogramFamily histograms("test_seconds", "T.", {"route"}, 64,
                                    kBounds);
  std::vector<std::string> routes;
  for (int i = 0; i < kRoutes; ++i) routes.push_back(absl::StrCat("/r", i));
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const absl::string_view route = routes[(i + t) % kRoutes];
        counters.Get({route}).Increment();
        histograms.Get({route}).Observe(0.0625 * (i % 4));  // sums exact
      }
    });
  }
  for (std::thread& thread : threads) thread.join();

  const std::vector<prometheus::MetricFamily> counted = counters.Collect();
  ASSERT_EQ(counted.at(0).metric.size(), size_t{kRoutes});
  double count_total = 0;
  for (const prometheus::ClientMetric& m : counted.at(0).metric) {
    count_total += m.counter.value;
  }
  EXPECT_EQ(count_total, kThreads * kPerThread);
  uint64_t samples = 0;
  double sum = 0;
  const std::vector<prometheus::MetricFamily> observed = histograms.Collect();
  for (const prometheus::ClientMetric& m : observed.at(0).metric) {
    samples += m.histogram.sample_count;
    sum += m.histogram.sample_sum;
    EXPECT_EQ(m.histogram.bucket.back().cumulative_count,
              m.histogram.sample_count);
  }
  EXPECT_EQ(samples, uint64_t{kThreads} * kPerThread);
  EXPECT_EQ(sum, kThreads * (kPerThread / 4) * (0.0625 + 0.125 + 0.1875));
}

// A scrape while threads record and create label sets never crashes, and
// what it reads only grows. Halfway, the threads wait for a few scrapes, so
// some scrapes overlap the recording however the threads are scheduled.
TEST(StripedFamilies, CollectDuringRecordingIsMonotonic) {
  constexpr int kThreads = 3;
  constexpr int kPerThread = 50000;
  auto counters = std::make_shared<StripedCounterFamily>(
      "test_total", "T.", std::vector<std::string>{"route"}, 32);
  auto histograms = std::make_shared<StripedHistogramFamily>(
      "test_seconds", "T.", std::vector<std::string>{"route"}, 32, kBounds);
  std::atomic<int> running{kThreads};
  std::atomic<int> scrapes{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        if (i == kPerThread / 2) {
          while (scrapes.load() < 5) std::this_thread::yield();
        }
        const std::string route =
            absl::StrCat("/r", (i / 100 + t) % 48);  // some over the cap
        counters->Get({route}).Increment();
        histograms->Get({route}).Observe(0.5);
      }
      running.fetch_sub(1);
    });
  }
  double last_count = 0;
  uint64_t last_samples = 0;
  auto scrape = [&] {
    double count = 0;
    for (const prometheus::MetricFamily& f : counters->Collect()) {
      for (const prometheus::ClientMetric& m : f.metric)
        count += m.counter.value;
    }
    uint64_t samples = 0;
    for (const prometheus::MetricFamily& f : histograms->Collect()) {
      for (const prometheus::ClientMetric& m : f.metric) {
        samples += m.histogram.sample_count;
        for (size_t b = 1; b < m.histogram.bucket.size(); ++b) {
          ASSERT_LE(m.histogram.bucket[b - 1].cumulative_count,
                    m.histogram.bucket[b].cumulative_count);
        }
      }
    }
    EXPECT_GE(count, last_count);
    EXPECT_GE(samples, last_samples);
    last_count = count;
    last_samples = samples;
    ++scrapes;
    const std::string text = MetricsText({counters, histograms});
    if (count > 0) EXPECT_THAT(text, HasSubstr("# TYPE test_total counter\n"));
  };
  while (running.load() > 0) scrape();
  for (std::thread& thread : threads) thread.join();
  scrape();
  EXPECT_EQ(last_count, kThreads * kPerThread);
  EXPECT_EQ(last_samples, uint64_t{kThreads} * kPerThread);
  EXPECT_GT(scrapes.load(), 5);
}

}  // namespace
}  // namespace edgepass::obs
