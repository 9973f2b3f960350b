#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "http/http_test_client.h"
#include "obs/bounded_family.h"
#include "obs/callback_collector.h"
#include "obs/metrics_endpoint.h"
#include "obs/metrics_text.h"
#include "prometheus/counter.h"
#include "prometheus/registry.h"

namespace edgepass::obs {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(ValidateMetricsAddress, AcceptsIpv4AndNamesWithAnyPort) {
  EXPECT_TRUE(ValidateMetricsAddress("127.0.0.1:9464").ok());
  EXPECT_TRUE(ValidateMetricsAddress("127.0.0.1:0").ok());
  EXPECT_TRUE(ValidateMetricsAddress("0.0.0.0:9464").ok());
  EXPECT_TRUE(ValidateMetricsAddress("localhost:9464").ok());
}

TEST(ValidateMetricsAddress, RefusesMalformedAndIpv6) {
  EXPECT_EQ(ValidateMetricsAddress("127.0.0.1").message(),
            "expected HOST:PORT");
  EXPECT_EQ(ValidateMetricsAddress(":9464").message(), "host is empty");
  EXPECT_EQ(ValidateMetricsAddress("127.0.0.1:65536").message(),
            "port must be 0-65535");
  EXPECT_EQ(ValidateMetricsAddress("127.0.0.1:x").message(),
            "port must be 0-65535");
  EXPECT_EQ(ValidateMetricsAddress("[::1]:9464").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateMetricsAddress("a b:1").code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(CallbackCollector, ReadsValuesAtEachScrape) {
  auto collector = std::make_shared<CallbackCollector>();
  double size = 3;
  collector->AddGauge("test_list_entries", "Entries on the list.",
                      [&size] { return size; });
  collector->AddCounter("test_reads_total", "Reads so far.",
                        [] { return 7.0; });
  collector->AddFamily(
      "test_things", "Things by kind.", prometheus::MetricType::Gauge, [] {
        return std::vector<Sample>{{{{"kind", "a"}}, 1}, {{{"kind", "b"}}, 2}};
      });
  collector->AddFamily("test_nothing_total", "Never sampled.",
                       prometheus::MetricType::Counter,
                       [] { return std::vector<Sample>{}; });

  std::string text = MetricsText({collector});
  EXPECT_THAT(
      text, HasSubstr("# TYPE test_list_entries gauge\ntest_list_entries 3\n"));
  EXPECT_THAT(
      text, HasSubstr("# TYPE test_reads_total counter\ntest_reads_total 7\n"));
  EXPECT_THAT(
      text,
      HasSubstr("test_things{kind=\"a\"} 1\ntest_things{kind=\"b\"} 2\n"));
  EXPECT_THAT(text, Not(HasSubstr("test_nothing_total")));

  size = 4;
  EXPECT_THAT(MetricsText({collector}), HasSubstr("test_list_entries 4\n"));
}

TEST(BoundedFamily, CountsLabelSetsPastTheCapUnderOther) {
  auto registry = std::make_shared<prometheus::Registry>();
  BoundedFamily<prometheus::Counter> family(prometheus::BuildCounter()
                                                .Name("test_requests_total")
                                                .Help("Requests.")
                                                .Register(*registry),
                                            {"route", "code"}, 2);
  family.Get({"/a", "200"}).Increment();
  family.Get({"/a", "200"}).Increment();
  family.Get({"/b", "404"}).Increment();
  family.Get({"/c", "200"}).Increment();  // third set: over the cap
  family.Get({"/d", "500"}).Increment(3);
  family.Get({"/a", "200"})
      .Increment();  // existing sets still count as themselves

  std::string text = MetricsText({registry});
  EXPECT_THAT(text,
              HasSubstr("test_requests_total{code=\"200\",route=\"/a\"} 3\n"));
  EXPECT_THAT(text,
              HasSubstr("test_requests_total{code=\"404\",route=\"/b\"} 1\n"));
  EXPECT_THAT(
      text,
      HasSubstr("test_requests_total{code=\"(other)\",route=\"(other)\"} 4\n"));
  EXPECT_THAT(text, Not(HasSubstr("/c")));
}

TEST(MetricsEndpoint, ServesCollectablesOnAFreePort) {
  auto registry = std::make_shared<prometheus::Registry>();
  prometheus::BuildCounter()
      .Name("test_served_total")
      .Help("Served.")
      .Register(*registry)
      .Add({})
      .Increment(5);
  auto collector = std::make_shared<CallbackCollector>();
  collector->AddGauge("test_up", "Always 1.", [] { return 1.0; });

  absl::StatusOr<std::unique_ptr<MetricsEndpoint>> endpoint =
      MetricsEndpoint::Start("127.0.0.1:0", {registry, collector});
  ASSERT_TRUE(endpoint.ok()) << endpoint.status();
  const uint16_t port = (*endpoint)->port();
  ASSERT_NE(port, 0);
  EXPECT_EQ((*endpoint)->address(), "127.0.0.1:" + std::to_string(port));
  EXPECT_EQ((*endpoint)->url(),
            "http://127.0.0.1:" + std::to_string(port) + "/metrics");

  // The bound port is taken: a second endpoint on it fails cleanly.
  absl::StatusOr<std::unique_ptr<MetricsEndpoint>> again =
      MetricsEndpoint::Start((*endpoint)->address(), {registry});
  EXPECT_EQ(again.status().code(), absl::StatusCode::kUnavailable);

  auto conn = http::testing::TestConnection::Connect(port);
  ASSERT_NE(conn, nullptr);
  ASSERT_TRUE(conn->Send(
      "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  std::optional<http::testing::TestResponse> r = conn->ReadResponse();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  ASSERT_NE(r->Header("Content-Type"), nullptr);
  EXPECT_THAT(*r->Header("Content-Type"), HasSubstr("text/plain"));
  EXPECT_THAT(r->body, HasSubstr("test_served_total 5\n"));
  EXPECT_THAT(r->body, HasSubstr("test_up 1\n"));
}

TEST(MetricsEndpoint, RefusesBadAddresses) {
  EXPECT_EQ(MetricsEndpoint::Start("[::1]:0", {}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(MetricsEndpoint::Start("nowhere", {}).status().message(),
            "metrics address \"nowhere\": expected HOST:PORT");
}

}  // namespace
}  // namespace edgepass::obs
