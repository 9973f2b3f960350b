// edgepass::http::Server over TLS and mTLS on real loopback sockets, with
// certificates from the test PKI.
#include <sys/stat.h>

#include <atomic>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "http/http_server.h"
#include "http/http_test_client.h"
#include "tests/support/test_pki.h"

namespace edgepass::http {
namespace {

using ClientCert = TlsOptions::ClientCert;
using testing::FetchTls;
using testing::TestConnection;
using testing::TestResponse;
using testing::TlsClientOptions;

class HttpTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<edgepass::testing::TestPki> pki =
        edgepass::testing::MakeTestPki(dir_.path(), {"alice", "bob"});
    ASSERT_TRUE(pki.ok()) << pki.status();
    pki_ = *std::move(pki);
  }

  TlsOptions Tls(ClientCert mode = ClientCert::kNone) const {
    return {.cert_file = pki_.server.cert_file,
            .key_file = pki_.server.key_file,
            .client_ca_file = mode == ClientCert::kNone ? "" : pki_.ca_file,
            .client_cert = mode};
  }

  // Answers "METHOD TARGET id=IDENTITY" and counts the requests it saw.
  std::unique_ptr<Server> StartServer(TlsOptions tls,
                                      ServerOptions options = {}) {
    options.tls = std::move(tls);
    absl::StatusOr<std::unique_ptr<Server>> server =
        Server::Start(options, [this](const Request& request) {
          handled_.fetch_add(1);
          Response r;
          r.body = absl::StrCat(request.method, " ", request.target,
                                " id=", request.peer_identity);
          return r;
        });
    EXPECT_TRUE(server.ok()) << server.status();
    return server.ok() ? std::move(*server) : nullptr;
  }

  TlsClientOptions Client(const std::string& name = "") const {
    TlsClientOptions options{.ca_file = pki_.ca_file};
    if (name == "rogue") {
      options.cert_file = pki_.rogue_client.cert_file;
      options.key_file = pki_.rogue_client.key_file;
    } else if (!name.empty()) {
      options.cert_file = pki_.clients.at(name).cert_file;
      options.key_file = pki_.clients.at(name).key_file;
    }
    return options;
  }

  edgepass::testing::TempDir dir_;
  edgepass::testing::TestPki pki_;
  std::atomic<int> handled_{0};
};

TEST_F(HttpTlsTest, ServesGetOverTlsAndEndsWithCloseNotify) {
  std::unique_ptr<Server> server = StartServer(Tls());
  ASSERT_NE(server, nullptr);
  std::string error;
  std::unique_ptr<TestConnection> conn =
      TestConnection::ConnectTls(server->port(), Client(), &error);
  ASSERT_NE(conn, nullptr) << error;
  ASSERT_TRUE(conn->Send("GET /a?b=1 HTTP/1.1\r\nHost: localhost\r\n\r\n"));
  std::optional<TestResponse> r = conn->ReadResponse();
  ASSERT_TRUE(r.has_value()) << conn->tls_error();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "GET /a?b=1 id=");
  // Keep-alive works over TLS; Connection: close ends with close_notify.
  ASSERT_TRUE(conn->Send(
      "GET /b HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"));
  r = conn->ReadResponse();
  ASSERT_TRUE(r.has_value()) << conn->tls_error();
  EXPECT_EQ(r->body, "GET /b id=");
  EXPECT_TRUE(conn->WaitForClose(absl::Seconds(5)));
  EXPECT_TRUE(conn->got_close_notify()) << conn->tls_error();

  // The certificate also names 127.0.0.1.
  TlsClientOptions by_ip = Client();
  by_ip.server_name = "127.0.0.1";
  r = FetchTls(server->port(), by_ip, "GET", "/ip", {}, absl::Seconds(10),
               &error);
  ASSERT_TRUE(r.has_value()) << error;
  EXPECT_EQ(r->status, 200);
}

TEST_F(HttpTlsTest, ClientMustVerifyTheServerAndPlainHttpGetsNothing) {
  std::unique_ptr<Server> server = StartServer(Tls());
  ASSERT_NE(server, nullptr);
  // A client that trusts only the rogue CA refuses the server.
  TlsClientOptions wrong_ca = Client();
  wrong_ca.ca_file = pki_.rogue_ca_file;
  std::string error;
  EXPECT_EQ(TestConnection::ConnectTls(server->port(), wrong_ca, &error),
            nullptr);
  EXPECT_TRUE(absl::StrContains(error, "certificate verify failed")) << error;
  // Plain HTTP on the TLS port is not served.
  std::unique_ptr<TestConnection> plain =
      TestConnection::Connect(server->port());
  ASSERT_NE(plain, nullptr);
  ASSERT_TRUE(plain->Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::optional<TestResponse> r = plain->ReadResponse(absl::Seconds(5));
  EXPECT_FALSE(r.has_value() && r->status == 200);
  EXPECT_EQ(handled_.load(), 0);
}

TEST_F(HttpTlsTest, RequiredClientCertGivesTheVerifiedCommonName) {
  std::unique_ptr<Server> server = StartServer(Tls(ClientCert::kRequire));
  ASSERT_NE(server, nullptr);
  std::string error;
  std::unique_ptr<TestConnection> conn =
      TestConnection::ConnectTls(server->port(), Client("alice"), &error);
  ASSERT_NE(conn, nullptr) << error;
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(conn->Send("GET /me HTTP/1.1\r\nHost: localhost\r\n\r\n"));
    std::optional<TestResponse> r = conn->ReadResponse();
    ASSERT_TRUE(r.has_value()) << conn->tls_error();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "GET /me id=alice");
  }
  std::optional<TestResponse> bob =
      FetchTls(server->port(), Client("bob"), "GET", "/me", {},
               absl::Seconds(10), &error);
  ASSERT_TRUE(bob.has_value()) << error;
  EXPECT_EQ(bob->body, "GET /me id=bob");
}

TEST_F(HttpTlsTest, RequiredClientCertRefusesClientsWithoutOne) {
  std::unique_ptr<Server> server = StartServer(Tls(ClientCert::kRequire));
  ASSERT_NE(server, nullptr);
  std::string error;
  std::optional<TestResponse> r = FetchTls(
      server->port(), Client(), "GET", "/me", {}, absl::Seconds(10), &error);
  EXPECT_FALSE(r.has_value());
  // TLS 1.3's alert for a missing certificate (TLS 1.2: handshake failure).
  EXPECT_TRUE(absl::StrContains(error, "certificate required") ||
              absl::StrContains(error, "handshake failure"))
      << error;
  EXPECT_EQ(handled_.load(), 0);
}

TEST_F(HttpTlsTest, ClientCertFromAnotherCaIsRefusedInBothModes) {
  for (ClientCert mode : {ClientCert::kRequire, ClientCert::kOptional}) {
    std::unique_ptr<Server> server = StartServer(Tls(mode));
    ASSERT_NE(server, nullptr);
    std::string error;
    std::optional<TestResponse> r =
        FetchTls(server->port(), Client("rogue"), "GET", "/me", {},
                 absl::Seconds(10), &error);
    EXPECT_FALSE(r.has_value());
    EXPECT_TRUE(absl::StrContains(error, "unknown ca")) << error;
  }
  EXPECT_EQ(handled_.load(), 0);
}

TEST_F(HttpTlsTest, OptionalClientCertServesBothKindsOfClient) {
  std::unique_ptr<Server> server = StartServer(Tls(ClientCert::kOptional));
  ASSERT_NE(server, nullptr);
  std::string error;
  std::optional<TestResponse> anonymous = FetchTls(
      server->port(), Client(), "GET", "/me", {}, absl::Seconds(10), &error);
  ASSERT_TRUE(anonymous.has_value()) << error;
  EXPECT_EQ(anonymous->status, 200);
  EXPECT_EQ(anonymous->body, "GET /me id=");
  std::optional<TestResponse> alice =
      FetchTls(server->port(), Client("alice"), "GET", "/me", {},
               absl::Seconds(10), &error);
  ASSERT_TRUE(alice.has_value()) << error;
  EXPECT_EQ(alice->body, "GET /me id=alice");
}

TEST_F(HttpTlsTest, StalledHandshakeIsDroppedWhileOthersAreServed) {
  ServerOptions options;
  options.read_timeout = absl::Milliseconds(400);
  options.threads = 1;
  std::unique_ptr<Server> server = StartServer(Tls(), options);
  ASSERT_NE(server, nullptr);
  const absl::Time start = absl::Now();
  // One says nothing; one sends the first bytes of a ClientHello and stops.
  std::unique_ptr<TestConnection> silent =
      TestConnection::Connect(server->port());
  std::unique_ptr<TestConnection> partial =
      TestConnection::Connect(server->port());
  ASSERT_NE(silent, nullptr);
  ASSERT_NE(partial, nullptr);
  ASSERT_TRUE(partial->Send(std::string("\x16\x03\x01\x02\x00\x01", 6)));
  for (int i = 0; i < 3; ++i) {
    std::string error;
    std::optional<TestResponse> r =
        FetchTls(server->port(), Client(), "GET", absl::StrCat("/", i), {},
                 absl::Seconds(5), &error);
    ASSERT_TRUE(r.has_value()) << error;
    EXPECT_EQ(r->status, 200);
  }
  EXPECT_TRUE(silent->WaitForClose(absl::Seconds(5)));
  EXPECT_TRUE(partial->WaitForClose(absl::Seconds(5)));
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(350));
  EXPECT_LT(absl::Now() - start, absl::Seconds(4));
}

TEST_F(HttpTlsTest, StopClosesIdleTlsConnectionsAndPendingHandshakes) {
  ServerOptions options;
  options.shutdown_grace = absl::Seconds(5);
  std::unique_ptr<Server> server =
      StartServer(Tls(ClientCert::kOptional), options);
  ASSERT_NE(server, nullptr);
  std::string error;
  std::unique_ptr<TestConnection> idle =
      TestConnection::ConnectTls(server->port(), Client("alice"), &error);
  ASSERT_NE(idle, nullptr) << error;
  ASSERT_TRUE(idle->Send("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"));
  ASSERT_TRUE(idle->ReadResponse().has_value());
  std::unique_ptr<TestConnection> handshaking =
      TestConnection::Connect(server->port());
  ASSERT_NE(handshaking, nullptr);
  const absl::Time start = absl::Now();
  server->Stop();
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
  EXPECT_TRUE(idle->WaitForClose(absl::Seconds(2)));
  EXPECT_TRUE(handshaking->WaitForClose(absl::Seconds(2)));
}

TEST_F(HttpTlsTest, BadTlsOptionsAreRefusedNamingTheField) {
  auto start = [](TlsOptions tls) {
    ServerOptions options;
    options.tls = std::move(tls);
    return Server::Start(options, [](const Request&) { return Response{}; })
        .status();
  };
  TlsOptions missing = Tls();
  missing.cert_file = dir_.path() + "/nope.pem";
  absl::Status status = start(missing);
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound) << status;
  EXPECT_TRUE(absl::StrContains(status.message(),
                                "cert_file '" + missing.cert_file + "'"))
      << status;

  TlsOptions mismatched = Tls();
  mismatched.key_file = pki_.clients.at("alice").key_file;
  status = start(mismatched);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_TRUE(absl::StrContains(
      status.message(),
      "key_file '" + mismatched.key_file + "': does not match the certificate"))
      << status;

  TlsOptions not_pem = Tls(ClientCert::kRequire);
  not_pem.client_ca_file = pki_.server.key_file;  // a key, no certificate
  status = start(not_pem);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), "client_ca_file")) << status;

  TlsOptions key_as_cert = Tls();
  key_as_cert.cert_file = pki_.server.key_file;
  status = start(key_as_cert);
  EXPECT_TRUE(absl::StrContains(status.message(), "no PEM certificate"))
      << status;

  TlsOptions directory = Tls();
  directory.key_file = dir_.path();
  EXPECT_EQ(start(directory).code(), absl::StatusCode::kInvalidArgument);

  TlsOptions no_ca = Tls(ClientCert::kRequire);
  no_ca.client_ca_file.clear();
  EXPECT_EQ(start(no_ca).code(), absl::StatusCode::kInvalidArgument);
  TlsOptions ca_unused = Tls();
  ca_unused.client_ca_file = pki_.ca_file;
  EXPECT_EQ(start(ca_unused).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(start({.key_file = pki_.server.key_file}).code(),
            absl::StatusCode::kInvalidArgument);
  // Key material never appears in an error.
  EXPECT_FALSE(absl::StrContains(status.message(), "PRIVATE KEY"));
}

}  // namespace
}  // namespace edgepass::http
