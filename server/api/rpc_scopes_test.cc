// The one scope table covers the whole API: every RPC the edgepass.v1 protos
// declare has a row, so a method added to a proto without one fails here
// rather than being refused to every caller at run time.
#include "server/api/rpc_scopes.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "edgepass/v1/catalog.pb.h"
#include "edgepass/v1/edge_sync.pb.h"
#include "edgepass/v1/keys.pb.h"
#include "edgepass/v1/playback.pb.h"
#include "edgepass/v1/session.pb.h"
#include "google/protobuf/descriptor.h"
#include "gtest/gtest.h"

namespace edgepass::server {
namespace {

TEST(RpcScopes, EveryRpcTheProtosDeclareHasAScope) {
  // A message of each file: its descriptor leads to the file's services.
  const google::protobuf::FileDescriptor* files[] = {
      v1::IssuePlaybackRequest::descriptor()->file(), v1::PutAssetRequest::descriptor()->file(),
      v1::RevokeSessionRequest::descriptor()->file(), v1::AcknowledgeRequest::descriptor()->file(),
      v1::RotateKeysRequest::descriptor()->file()};
  for (const google::protobuf::FileDescriptor* file : files) {
    ASSERT_GT(file->service_count(), 0) << file->name();
    for (int s = 0; s < file->service_count(); ++s) {
      const google::protobuf::ServiceDescriptor* service = file->service(s);
      for (int m = 0; m < service->method_count(); ++m) {
        const std::string name = absl::StrCat("/", service->full_name(), "/", service->method(m)->name());
        EXPECT_TRUE(RpcScope(name).has_value()) << name << " has no row in the scope table (rpc_scopes.cc)";
      }
    }
  }
  EXPECT_FALSE(RpcScope("/edgepass.v1.PlaybackService/NoSuchMethod").has_value());
  EXPECT_FALSE(RpcScope("/grpc.health.v1.Health/Check").has_value());
}

}  // namespace
}  // namespace edgepass::server
