#include "client/channel/plaintext_guard.h"

#include <string>

#include "gtest/gtest.h"

namespace edgepass::client {
namespace {

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

TEST(GrpcTargetHost, FindsTheHostBehindSchemesAndBrackets) {
  EXPECT_EQ(GrpcTargetHost("192.0.2.1:443"), "192.0.2.1");
  EXPECT_EQ(GrpcTargetHost("[::1]:50051"), "::1");
  EXPECT_EQ(GrpcTargetHost("localhost:50051"), "localhost");
  EXPECT_EQ(GrpcTargetHost("dns:///edgepass.internal:50051"),
            "edgepass.internal");
  EXPECT_EQ(GrpcTargetHost("dns://8.8.8.8/edgepass.internal:50051"),
            "edgepass.internal");
  EXPECT_EQ(GrpcTargetHost("dns:127.0.0.1:1"), "127.0.0.1");
  EXPECT_EQ(GrpcTargetHost("ipv4:10.0.0.1:1,127.0.0.1:2"), "10.0.0.1");
  EXPECT_EQ(GrpcTargetHost("ipv6:[::1]:1"), "::1");
  EXPECT_EQ(GrpcTargetHost("unix:/run/edgepass.sock"), "");
}

TEST(CheckPlaintextServer, RefusesNonLoopbackNamingFlagAndAddress) {
  EXPECT_TRUE(CheckPlaintextServer("--server", "127.0.0.1:50051", "x").ok());
  EXPECT_TRUE(CheckPlaintextServer("--server", "[::1]:50051", "x").ok());
  EXPECT_TRUE(CheckPlaintextServer("--server", "localhost:1", "x").ok());
  absl::Status s =
      CheckPlaintextServer("--server", "192.0.2.1:443", "the API key");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "--server: 192.0.2.1:443 is not a loopback address and there is "
            "no TLS: the API key would cross the network in cleartext; give "
            "--server-ca, or --insecure-plaintext to allow it");
  for (const char* target :
       {"0.0.0.0:1", "[::]:1", "edgepass.internal:50051",
        "dns:///edgepass.internal:50051", "unix:/run/edgepass.sock"}) {
    EXPECT_EQ(CheckPlaintextServer("--server", target, "x").code(),
              absl::StatusCode::kInvalidArgument)
        << target;
  }
}

}  // namespace
}  // namespace edgepass::client
