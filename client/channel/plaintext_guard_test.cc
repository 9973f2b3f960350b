#include "client/channel/plaintext_guard.h"

#include <string>

#include "gtest/gtest.h"

namespace edgepass::client {
namespace {

TEST(GrpcTargetHosts, FindsEveryHostBehindSchemesAndBrackets) {
  using V = std::vector<std::string>;
  EXPECT_EQ(GrpcTargetHosts("192.0.2.1:443"), V{"192.0.2.1"});
  EXPECT_EQ(GrpcTargetHosts("[::1]:50051"), V{"::1"});
  EXPECT_EQ(GrpcTargetHosts("localhost:50051"), V{"localhost"});
  EXPECT_EQ(GrpcTargetHosts("dns:///edgepass.internal:50051"), V{"edgepass.internal"});
  EXPECT_EQ(GrpcTargetHosts("dns://8.8.8.8/edgepass.internal:50051"), V{"edgepass.internal"});
  EXPECT_EQ(GrpcTargetHosts("dns:127.0.0.1:1"), V{"127.0.0.1"});
  EXPECT_EQ(GrpcTargetHosts("ipv4:10.0.0.1:1,127.0.0.1:2"), (V{"10.0.0.1", "127.0.0.1"}));
  EXPECT_EQ(GrpcTargetHosts("ipv6:[::1]:1,[2001:db8::1]:2"), (V{"::1", "2001:db8::1"}));
  EXPECT_EQ(GrpcTargetHosts("unix:/run/edgepass.sock"), V{""});
  EXPECT_EQ(GrpcTargetAddresses("dns:///edgepass.internal:50051"), V{"edgepass.internal:50051"});
  EXPECT_EQ(GrpcTargetAddresses("ipv6:[::1]:1,[2001:db8::1]:2"), (V{"[::1]:1", "[2001:db8::1]:2"}));
  EXPECT_EQ(GrpcTargetAddresses("unix:/run/edgepass.sock"), V{});
}

// gRPC's pick_first falls through to the next address: every one counts.
TEST(IsLoopbackTarget, EveryAddressMustBeLoopback) {
  EXPECT_TRUE(IsLoopbackTarget("ipv4:127.0.0.1:1,127.0.0.2:2"));
  EXPECT_FALSE(IsLoopbackTarget("ipv4:127.0.0.1:1,192.0.2.1:443"));
  EXPECT_FALSE(IsLoopbackTarget("ipv6:[::1]:1,[2001:db8::1]:443"));
  EXPECT_FALSE(CheckPlaintextServer("--server", "ipv4:127.0.0.1:1,192.0.2.1:443", "x").ok());
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
