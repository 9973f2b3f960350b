#include "core/ip_address.h"

#include <string>

#include "gtest/gtest.h"

namespace edgepass::core {
namespace {

// Where listeners and clients may go without TLS.
TEST(IsLoopbackHost, LoopbackAddressesAndLocalhostOnly) {
  for (const char* host :
       {"127.0.0.1", "127.255.0.9", "::1", "[::1]", "0:0:0:0:0:0:0:1",
        "::ffff:127.0.0.1", "localhost", "LocalHost"}) {
    EXPECT_TRUE(IsLoopbackHost(host)) << host;
  }
  for (const char* host :
       {"0.0.0.0", "::", "[::]", "192.0.2.1", "10.0.0.1", "2001:db8::1",
        "::ffff:192.0.2.1", "128.0.0.1", "edgepass.internal",
        "127.0.0.1.nip.io", "localhost.example", "127.1", "", "[::1", "::2"}) {
    EXPECT_FALSE(IsLoopbackHost(host)) << host;
  }
}

TEST(CanonicalizeIp, KeepsIpv4) {
  auto ip = CanonicalizeIp("203.0.113.45");
  ASSERT_TRUE(ip.ok());
  EXPECT_EQ(ip->text, "203.0.113.45");
  EXPECT_EQ(ip->version, 4);
}

TEST(CanonicalizeIp, WritesEveryOctetInDecimalWithoutLeadingZeros) {
  for (int b = 0; b < 256; ++b) {
    const std::string text =
        std::to_string(b) + ".0.255." + std::to_string(255 - b);
    auto ip = CanonicalizeIp(text);
    ASSERT_TRUE(ip.ok()) << text;
    EXPECT_EQ(ip->text, text);
  }
}

TEST(CanonicalizeIp, ExpandsEveryIpv6FormToEightPaddedLowerCaseHextets) {
  const std::string want = "2001:0db8:85a3:0000:0000:8a2e:0370:7334";
  for (const char* form : {"2001:db8:85a3::8a2e:370:7334", "2001:DB8:85A3:0:0:8A2E:370:7334",
                           "2001:0db8:85a3:0000:0000:8a2e:0370:7334"}) {
    auto ip = CanonicalizeIp(form);
    ASSERT_TRUE(ip.ok()) << form;
    EXPECT_EQ(ip->text, want) << form;
    EXPECT_EQ(ip->version, 6);
  }
  EXPECT_EQ(CanonicalizeIp("::1")->text, "0000:0000:0000:0000:0000:0000:0000:0001");
  EXPECT_EQ(CanonicalizeIp("::ffff:1.2.3.4")->text, "0000:0000:0000:0000:0000:ffff:0102:0304");
}

TEST(CanonicalizeIp, RejectsEmbeddedNul) {
  EXPECT_FALSE(CanonicalizeIp(absl::string_view("1.2.3.4\0junk", 12)).ok());
}

TEST(CanonicalizeIp, RejectsNonAddresses) {
  for (const char* bad : {"", "1.2.3", "1.2.3.256", "01.2.3.4", "2001:db8::1::2", "host", "1.2.3.4 ",
                          "2001:db8:0:0:0:0:0:0:1"}) {
    EXPECT_EQ(CanonicalizeIp(bad).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST(IpAddressBytes, V4IsMappedAndV6IsAsWritten) {
  std::optional<std::array<uint8_t, 16>> v4 = IpAddressBytes("192.0.2.10");
  ASSERT_TRUE(v4.has_value());
  EXPECT_EQ(*v4, (std::array<uint8_t, 16>{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 10}));
  std::optional<std::array<uint8_t, 16>> v6 = IpAddressBytes("2001:DB8::a:1");
  ASSERT_TRUE(v6.has_value());
  EXPECT_EQ(*v6, (std::array<uint8_t, 16>{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0a, 0, 1}));
  EXPECT_EQ(IpAddressBytes("::ffff:192.0.2.10"), v4);  // the mapped form is the same address
  for (const char* bad : {"", "192.0.2", "1.2.3.4:80", "[::1]", "host", "::g"}) {
    EXPECT_FALSE(IpAddressBytes(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace edgepass::core
