// The one scope table covers the whole API: every RPC the edgepass.v1 protos
// declare has a row, so a method added to a proto without one fails here
// rather than being refused to every caller at run time.
#include "server/api/rpc_scopes.h"

#include "gtest/gtest.h"

namespace edgepass::server {
namespace {

TEST(RpcScopes, EveryRpcTheProtosDeclareHasAScope) {
  const std::vector<DeclaredRpc> rpcs = DeclaredRpcs();
  ASSERT_GE(rpcs.size(), 22u);  // the five services as they are today, at least
  for (const DeclaredRpc& rpc : rpcs) {
    EXPECT_TRUE(RpcScope(rpc.full_method).has_value())
        << rpc.full_method << " has no row in the scope table (rpc_scopes.cc)";
  }
  EXPECT_FALSE(RpcScope("/edgepass.v1.PlaybackService/NoSuchMethod").has_value());
  EXPECT_FALSE(RpcScope("/grpc.health.v1.Health/Check").has_value());
}

}  // namespace
}  // namespace edgepass::server
