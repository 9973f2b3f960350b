// The gRPC services serve the whole API: every RPC the edgepass.v1 protos
// declare reaches GrpcServices (a caller without credentials is refused by
// the scope check, not UNIMPLEMENTED by gRPC), so a method added to a proto
// without its adapter line fails here.
#include "server/api/grpc_services.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>

#include <future>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "core/random.h"
#include "gtest/gtest.h"
#include "server/api/rpc_scopes.h"

namespace edgepass::server {
namespace {

TEST(GrpcServices, EveryRpcTheProtosDeclareIsServed) {
  core::SecureRandom random;
  absl::StatusOr<NewApiKey> key = MakeApiKey("ops", {Scope::kAdmin}, random);
  ASSERT_TRUE(key.ok()) << key.status();
  absl::StatusOr<AccessPolicy> policy =
      AccessPolicy::Parse(absl::StrCat(R"({"api_keys": [)", key->entry_json, "]}"), "access.json");
  ASSERT_TRUE(policy.ok()) << policy.status();
  GrpcAccess access(&*policy);
  GrpcServices services({}, &access);  // no app behind it: every call stops at the scope check
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  services.RegisterWith(builder);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);
  grpc::GenericStub stub(
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));

  for (const DeclaredRpc& rpc : DeclaredRpcs()) {
    grpc::ClientContext context;
    grpc::ByteBuffer request(nullptr, 0), response;
    std::promise<grpc::Status> done;
    stub.UnaryCall(&context, rpc.full_method, grpc::StubOptions(), &request, &response,
                   [&done](grpc::Status s) { done.set_value(std::move(s)); });
    const grpc::Status status = done.get_future().get();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED)
        << rpc.full_method << ": " << status.error_message()
        << (status.error_code() == grpc::StatusCode::UNIMPLEMENTED ? " (no adapter line in grpc_services.cc)"
                                                                   : "");
  }
  server->Shutdown();
}

}  // namespace
}  // namespace edgepass::server
