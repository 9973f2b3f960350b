#include "text/host_port.h"

#include <string>

#include "gtest/gtest.h"

namespace edgepass::text {
namespace {

std::string Error(absl::string_view text, HostPortRules rules = {}) {
  absl::StatusOr<HostPort> parsed = ParseHostPort(text, rules);
  EXPECT_FALSE(parsed.ok()) << text;
  if (parsed.ok()) return "";
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(parsed.status().message());
}

TEST(ParseHostPort, SplitsNamesV4AndBracketedV6) {
  for (const auto& [text, host, port] : {std::tuple<const char*, const char*, int>{"localhost:50051", "localhost", 50051},
                                         {"127.0.0.1:0", "127.0.0.1", 0},
                                         {"[::1]:65535", "::1", 65535},
                                         {"[fe80::1%eth0]:80", "fe80::1%eth0", 80}}) {
    absl::StatusOr<HostPort> parsed = ParseHostPort(text);
    ASSERT_TRUE(parsed.ok()) << text << ": " << parsed.status();
    EXPECT_EQ(parsed->host, host);
    EXPECT_EQ(parsed->port, port);
    EXPECT_EQ(JoinHostPort(parsed->host, parsed->port), text);
  }
}

TEST(ParseHostPort, NamesWhatIsWrong) {
  EXPECT_EQ(Error("localhost"), "expected HOST:PORT");
  EXPECT_EQ(Error("[::1]"), "expected HOST:PORT");
  EXPECT_EQ(Error("[::1]80"), "expected HOST:PORT");
  EXPECT_EQ(Error("[::1:80"), "unbalanced '[' in host");
  EXPECT_EQ(Error("a]:80"), "stray '[' or ']' in host");
  EXPECT_EQ(Error("[a[b]:80"), "stray '[' or ']' in host");
  EXPECT_EQ(Error("::1:80"), "IPv6 hosts must be bracketed: [::1]:PORT");
  EXPECT_EQ(Error(":80"), "host is empty");
  EXPECT_EQ(Error("[]:80"), "host is empty");
  EXPECT_EQ(Error(std::string(254, 'h') + ":80"), "host is longer than 253 bytes");
  EXPECT_TRUE(ParseHostPort(std::string(253, 'h') + ":80").ok());
  for (const char* port : {"h:", "h:65536", "h:-1", "h:+80", "h: 80", "h:80 ", "h:0x50", "h:000080", "h:99999999999"}) {
    EXPECT_EQ(Error(port), "port must be 0-65535") << port;
  }
  EXPECT_EQ(Error("h:0", {.min_port = 1}), "port must be 1-65535");
  EXPECT_EQ(Error(""), "expected HOST:PORT");
}

TEST(ParseHostPort, APortCanBeOptional) {
  const HostPortRules optional{.min_port = 1, .port_optional = true};
  for (const auto& [text, host, port] : {std::tuple<const char*, const char*, int>{"example.com", "example.com", -1},
                                         {"[::1]", "::1", -1},
                                         {"example.com:8443", "example.com", 8443}}) {
    absl::StatusOr<HostPort> parsed = ParseHostPort(text, optional);
    ASSERT_TRUE(parsed.ok()) << text << ": " << parsed.status();
    EXPECT_EQ(parsed->host, host);
    EXPECT_EQ(parsed->port, port);
  }
  EXPECT_EQ(Error("example.com:", optional), "port must be 1-65535");
  EXPECT_EQ(Error("", optional), "host is empty");
  EXPECT_EQ(Error("::1", optional), "IPv6 hosts must be bracketed: [::1]:PORT");
}

TEST(JoinHostPort, BracketsOnlyIpv6) {
  EXPECT_EQ(JoinHostPort("10.0.0.1", 6379), "10.0.0.1:6379");
  EXPECT_EQ(JoinHostPort("redis-0.redis", 6379), "redis-0.redis:6379");
  EXPECT_EQ(JoinHostPort("2001:db8::1", 443), "[2001:db8::1]:443");
}

}  // namespace
}  // namespace edgepass::text
