// The real edgepass-server's transport rules: idle REST connections are
// closed (a silent one after --rest-read-timeout, a kept-alive one after
// --rest-idle-timeout); a non-loopback --grpc-addr without TLS is refused at
// start unless --insecure-plaintext (then a warning); an http:// --oidc-jwks
// off loopback is refused at start. Label: integration.
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "http/http_test_client.h"
#include "tests/integration/server_process.h"
#include "tests/support/test_process.h"

namespace edgepass {
namespace {

using ::edgepass::http::testing::TestConnection;
using ::edgepass::http::testing::TestResponse;
using ::edgepass::testing::RunProcess;
using ::edgepass::testing::RunResult;
using ::edgepass::testing::ServerProcess;
using ::edgepass::testing::TempDir;

constexpr char kServerPath[] = EDGEPASS_SERVER_PATH;

TEST(RestIdleConnections, SilentAndKeptAliveConnectionsAreClosed) {
  TempDir dir;
  ServerProcess server(
      dir.path(), dir.path() + "/data",
      {"--rest-read-timeout", "1s", "--rest-idle-timeout", "3s"});
  ASSERT_TRUE(server.WaitUntilServing()) << server.log();
  const uint16_t port = server.rest_port();
  ASSERT_NE(port, 0) << server.rest_address();

  // Connects and sends nothing: closed after the read timeout (1 s), long
  // before the idle timeout (and the old 60 s).
  auto silent = TestConnection::Connect(port);
  ASSERT_NE(silent, nullptr);
  absl::Time since = absl::Now();
  EXPECT_TRUE(silent->WaitForClose(absl::Seconds(2.5)));
  EXPECT_GE(absl::Now() - since, absl::Milliseconds(700));

  // Kept alive after a response: still open past the read timeout, closed
  // after the idle timeout.
  auto kept = TestConnection::Connect(port);
  ASSERT_NE(kept, nullptr);
  kept->Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  std::optional<TestResponse> r = kept->ReadResponse();
  ASSERT_TRUE(r.has_value());
  since = absl::Now();
  EXPECT_FALSE(kept->WaitForClose(absl::Milliseconds(1500)));
  EXPECT_TRUE(kept->WaitForClose(absl::Seconds(10)));
  EXPECT_GE(absl::Now() - since, absl::Milliseconds(2500));
}

// Lines of `log` (JSON, one per line) with this event.
int CountEvents(const std::string& log, absl::string_view event) {
  int n = 0;
  for (absl::string_view line : absl::StrSplit(log, '\n')) {
    if (absl::StrContains(line, absl::StrCat("\"event\":\"", event, "\""))) ++n;
  }
  return n;
}

TEST(PlaintextGrpc, NonLoopbackWithoutTlsIsAConfigurationError) {
  TempDir dir;
  // Authentication is waived so that only the transport rule is in play.
  for (const char* addr : {"0.0.0.0:0", "[::]:0"}) {
    RunResult r =
        RunProcess({kServerPath, "--data-dir", dir.path() + "/data",
                    "--grpc-addr", addr, "--rest-addr", "127.0.0.1:0",
                    "--metrics-addr", "127.0.0.1:0", "--insecure-allow-remote"},
                   dir.path());
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_EQ(CountEvents(r.err, "bad_configuration"), 1) << r.err;
    EXPECT_TRUE(absl::StrContains(
        r.err,
        absl::StrCat(
            "--grpc-addr: ", addr,
            " is not a loopback address and TLS is off: EdgeSync would send "
            "HMAC "
            "keys (and callers API keys) in cleartext; give --tls-cert and "
            "--tls-key, or --insecure-plaintext to allow it")))
        << r.err;
    EXPECT_EQ(CountEvents(r.err, "listening"), 0) << r.err;
  }
}

// REST callers send API keys, ID tokens and CloudFront private keys.
TEST(PlaintextGrpc, NonLoopbackRestWithoutTlsIsAConfigurationError) {
  TempDir dir;
  RunResult r = RunProcess({kServerPath, "--data-dir", dir.path() + "/data", "--grpc-addr",
                            "127.0.0.1:0", "--rest-addr", "0.0.0.0:0", "--metrics-addr",
                            "127.0.0.1:0", "--insecure-allow-remote"},
                           dir.path());
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "--rest-addr: 0.0.0.0:0 is not a loopback address and TLS "
                                       "is off"))
      << r.err;
  EXPECT_EQ(CountEvents(r.err, "listening"), 0) << r.err;
}

TEST(PlaintextGrpc, InsecurePlaintextStartsAndWarns) {
  TempDir dir;
  ServerProcess server(dir.path(), dir.path() + "/data",
                       {"--grpc-addr", "0.0.0.0:0", "--insecure-allow-remote",
                        "--insecure-plaintext"});
  ASSERT_TRUE(server.WaitUntilServing()) << server.log();
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (CountEvents(server.log(), "insecure_plaintext") == 0 &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  const std::string log = server.log();
  EXPECT_EQ(CountEvents(log, "insecure_plaintext"), 1) << log;
  EXPECT_TRUE(absl::StrContains(
      log,
      R"("level":"warning","component":"edgepass-server","event":"insecure_plaintext")"))
      << log;
}

TEST(PlaintextGrpc, LoopbackNeedsNoTlsAndDoesNotWarn) {
  TempDir dir;
  ServerProcess server(dir.path(), dir.path() + "/data");
  ASSERT_TRUE(server.WaitUntilServing()) << server.log();
  EXPECT_EQ(CountEvents(server.log(), "insecure_plaintext"), 0) << server.log();
}

TEST(OidcJwks, PlainHttpOffLoopbackIsAConfigurationError) {
  TempDir dir;
  // 192.0.2.1 (TEST-NET-1) never answers: refused before any fetch.
  const absl::Time start = absl::Now();
  RunResult r = RunProcess(
      {kServerPath, "--data-dir", dir.path() + "/data", "--grpc-addr",
       "127.0.0.1:0", "--rest-addr", "127.0.0.1:0", "--metrics-addr",
       "127.0.0.1:0", "--oidc-issuer", "https://idp.example", "--oidc-audience",
       "app", "--oidc-jwks", "http://192.0.2.1/jwks.json"},
      dir.path());
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_LT(absl::Now() - start, absl::Seconds(4)) << "it tried to fetch";
  EXPECT_EQ(CountEvents(r.err, "bad_configuration"), 1) << r.err;
  EXPECT_TRUE(
      absl::StrContains(r.err,
                        "--oidc-jwks: jwks url http://192.0.2.1/jwks.json: "
                        "http:// is allowed on loopback only "
                        "(127.0.0.0/8, ::1, localhost); use https://"))
      << r.err;
}

}  // namespace
}  // namespace edgepass
