// gRPC over TLS and mTLS on loopback: a tiny server whose only method answers
// with GrpcPeerIdentity(), credentials from the test PKI; clients use
// client/channel's MakeGrpcChannelCredentials.
#include "server/auth/grpc_tls.h"

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>
#include <grpcpp/support/byte_buffer.h>

#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "client/channel/grpc_channel_tls.h"
#include "gtest/gtest.h"
#include "tests/support/test_pki.h"

namespace edgepass::server {
namespace {

using ClientCert = GrpcTlsOptions::ClientCert;
using ::edgepass::client::GrpcClientTlsOptions;
using ::edgepass::client::MakeGrpcChannelCredentials;

constexpr char kWhoami[] = "/edgepass.test.Identity/Whoami";

// Any method: one request in, the caller's certificate CN out.
class IdentityEchoService : public grpc::CallbackGenericService {
 public:
  grpc::ServerGenericBidiReactor* CreateReactor(
      grpc::GenericCallbackServerContext* context) override {
    class Reactor : public grpc::ServerGenericBidiReactor {
     public:
      explicit Reactor(grpc::GenericCallbackServerContext* context) {
        grpc::Slice slice(GrpcPeerIdentity(*context));
        response_ = grpc::ByteBuffer(&slice, 1);
        StartRead(&request_);
      }
      void OnReadDone(bool ok) override {
        if (!ok) return Finish(grpc::Status(grpc::INTERNAL, "no request"));
        StartWriteAndFinish(&response_, grpc::WriteOptions(), grpc::Status::OK);
      }
      void OnDone() override { delete this; }

     private:
      grpc::ByteBuffer request_;
      grpc::ByteBuffer response_;
    };
    return new Reactor(context);
  }
};

struct CallResult {
  grpc::Status status;
  std::string identity;
};

class GrpcTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<edgepass::testing::TestPki> pki =
        edgepass::testing::MakeTestPki(dir_.path(), {"alice"});
    ASSERT_TRUE(pki.ok()) << pki.status();
    pki_ = *std::move(pki);
  }
  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown();
  }

  GrpcTlsOptions Tls(ClientCert mode) const {
    return {.cert_file = pki_.server.cert_file,
            .key_file = pki_.server.key_file,
            .client_ca_file = mode == ClientCert::kNone ? "" : pki_.ca_file,
            .client_cert = mode};
  }

  // Starts the echo server on 127.0.0.1:0; false (with a test failure) when
  // the credentials or the server cannot be made.
  bool StartServer(const GrpcTlsOptions& options) {
    absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> creds =
        MakeGrpcServerCredentials(options);
    EXPECT_TRUE(creds.ok()) << creds.status();
    if (!creds.ok()) return false;
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", *creds, &port_);
    builder.RegisterCallbackGenericService(&service_);
    server_ = builder.BuildAndStart();
    EXPECT_NE(server_, nullptr);
    EXPECT_NE(port_, 0);
    return server_ != nullptr && port_ != 0;
  }

  GrpcClientTlsOptions Client(const std::string& name) const {
    GrpcClientTlsOptions options{.ca_file = pki_.ca_file};
    if (name == "rogue") {
      options.cert_file = pki_.rogue_client.cert_file;
      options.key_file = pki_.rogue_client.key_file;
    } else if (!name.empty()) {
      options.cert_file = pki_.clients.at(name).cert_file;
      options.key_file = pki_.clients.at(name).key_file;
    }
    return options;
  }

  CallResult Call(const std::shared_ptr<grpc::ChannelCredentials>& creds,
                  const std::string& host = "127.0.0.1") {
    std::shared_ptr<grpc::Channel> channel =
        grpc::CreateChannel(absl::StrCat(host, ":", port_), creds);
    grpc::GenericStub stub(channel);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(10));
    grpc::Slice empty("");
    grpc::ByteBuffer request(&empty, 1);
    grpc::ByteBuffer response;
    std::promise<grpc::Status> done;
    stub.UnaryCall(&context, kWhoami, grpc::StubOptions(), &request, &response,
                   [&done](grpc::Status status) { done.set_value(status); });
    CallResult result;
    result.status = done.get_future().get();
    std::vector<grpc::Slice> slices;
    if (result.status.ok() && response.Dump(&slices).ok()) {
      for (const grpc::Slice& s : slices) {
        result.identity.append(reinterpret_cast<const char*>(s.begin()),
                               s.size());
      }
    }
    return result;
  }

  CallResult CallAs(const std::string& name) {
    absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> creds =
        MakeGrpcChannelCredentials(Client(name));
    EXPECT_TRUE(creds.ok()) << creds.status();
    if (!creds.ok()) return {grpc::Status(grpc::INTERNAL, "no creds"), ""};
    return Call(*creds);
  }

  edgepass::testing::TempDir dir_;
  edgepass::testing::TestPki pki_;
  IdentityEchoService service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

TEST_F(GrpcTlsTest, RequiredClientCertGivesTheCallerCommonName) {
  ASSERT_TRUE(StartServer(Tls(ClientCert::kRequire)));
  CallResult alice = CallAs("alice");
  ASSERT_TRUE(alice.status.ok()) << alice.status.error_message();
  EXPECT_EQ(alice.identity, "alice");
}

TEST_F(GrpcTlsTest, RequiredClientCertRefusesRogueAndCertlessCallers) {
  ASSERT_TRUE(StartServer(Tls(ClientCert::kRequire)));
  for (const char* name : {"rogue", ""}) {
    CallResult r = CallAs(name);
    EXPECT_EQ(r.status.error_code(), grpc::UNAVAILABLE)
        << name << ": " << r.status.error_message();
    EXPECT_EQ(r.identity, "");
  }
}

TEST_F(GrpcTlsTest, OptionalClientCertLetsBearerCallersInOverTls) {
  ASSERT_TRUE(StartServer(Tls(ClientCert::kOptional)));
  CallResult anonymous = CallAs("");
  ASSERT_TRUE(anonymous.status.ok()) << anonymous.status.error_message();
  EXPECT_EQ(anonymous.identity, "");
  CallResult alice = CallAs("alice");
  ASSERT_TRUE(alice.status.ok()) << alice.status.error_message();
  EXPECT_EQ(alice.identity, "alice");
  // A certificate that is sent must verify.
  EXPECT_EQ(CallAs("rogue").status.error_code(), grpc::UNAVAILABLE);
}

TEST_F(GrpcTlsTest, ServerTlsWithoutClientCertsHasNoIdentity) {
  ASSERT_TRUE(StartServer(Tls(ClientCert::kNone)));
  CallResult alice = CallAs("alice");  // not asked for, so not sent
  ASSERT_TRUE(alice.status.ok()) << alice.status.error_message();
  EXPECT_EQ(alice.identity, "");
  // Plaintext clients cannot talk to it.
  EXPECT_EQ(Call(grpc::InsecureChannelCredentials()).status.error_code(),
            grpc::UNAVAILABLE);
}

TEST_F(GrpcTlsTest, ClientRefusesAServerItsCaDidNotSign) {
  ASSERT_TRUE(StartServer(Tls(ClientCert::kOptional)));
  GrpcClientTlsOptions wrong_ca = Client("alice");
  wrong_ca.ca_file = pki_.rogue_ca_file;
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> creds =
      MakeGrpcChannelCredentials(wrong_ca);
  ASSERT_TRUE(creds.ok()) << creds.status();
  EXPECT_EQ(Call(*creds).status.error_code(), grpc::UNAVAILABLE);
}

TEST_F(GrpcTlsTest, EmptyOptionsGivePlaintextWithoutIdentity) {
  ASSERT_TRUE(StartServer({}));
  CallResult r = Call(grpc::InsecureChannelCredentials());
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  EXPECT_EQ(r.identity, "");
}

TEST_F(GrpcTlsTest, BadFilesAndFieldsAreRefusedNamingTheFile) {
  auto status = [](const GrpcTlsOptions& options) {
    return MakeGrpcServerCredentials(options).status();
  };
  GrpcTlsOptions missing = Tls(ClientCert::kRequire);
  missing.cert_file = dir_.path() + "/absent.pem";
  absl::Status s = status(missing);
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound) << s;
  EXPECT_TRUE(absl::StrContains(
      s.message(), absl::StrCat("grpc tls: cert_file '", missing.cert_file,
                                "': No such file or directory")))
      << s;

  GrpcTlsOptions mismatched = Tls(ClientCert::kRequire);
  mismatched.key_file = pki_.clients.at("alice").key_file;
  s = status(mismatched);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_TRUE(absl::StrContains(
      s.message(), absl::StrCat("key_file '", mismatched.key_file,
                                "': does not match the certificate")))
      << s;
  EXPECT_FALSE(absl::StrContains(s.message(), "PRIVATE KEY")) << s;

  GrpcTlsOptions not_pem = Tls(ClientCert::kRequire);
  not_pem.client_ca_file = pki_.server.key_file;
  s = status(not_pem);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_TRUE(absl::StrContains(
      s.message(),
      "client_ca_file '" + not_pem.client_ca_file + "': no PEM certificate"))
      << s;

  GrpcTlsOptions key_not_pem = Tls(ClientCert::kNone);
  key_not_pem.key_file = pki_.ca_file;
  s = status(key_not_pem);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "no PEM private key")) << s;

  GrpcTlsOptions no_ca = Tls(ClientCert::kOptional);
  no_ca.client_ca_file.clear();
  EXPECT_EQ(status(no_ca).code(), absl::StatusCode::kInvalidArgument);
  GrpcTlsOptions unused_ca = Tls(ClientCert::kNone);
  unused_ca.client_ca_file = pki_.ca_file;
  EXPECT_EQ(status(unused_ca).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status({.key_file = pki_.server.key_file}).code(),
            absl::StatusCode::kInvalidArgument);

  GrpcClientTlsOptions client = Client("alice");
  client.ca_file = dir_.path() + "/absent-ca.pem";
  s = MakeGrpcChannelCredentials(client).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "grpc client tls: ca_file '"))
      << s;
  client = Client("alice");
  client.key_file.clear();
  EXPECT_EQ(MakeGrpcChannelCredentials(client).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace edgepass::server
