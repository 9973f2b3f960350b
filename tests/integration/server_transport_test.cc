// The real edgepass-server's transport rules: idle REST connections are
// closed (a silent one after --rest-read-timeout, a kept-alive one after
// --rest-idle-timeout). Label: integration.
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "http/http_test_client.h"
#include "tests/integration/server_process.h"
#include "tests/integration/test_process.h"

namespace edgepass {
namespace {

using ::edgepass::http::testing::TestConnection;
using ::edgepass::http::testing::TestResponse;
using ::edgepass::testing::ServerProcess;
using ::edgepass::testing::TempDir;

uint16_t PortOf(const std::string& address) {
  uint32_t port = 0;
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos ||
      !absl::SimpleAtoi(address.substr(colon + 1), &port)) {
    return 0;
  }
  return static_cast<uint16_t>(port);
}

TEST(RestIdleConnections, SilentAndKeptAliveConnectionsAreClosed) {
  TempDir dir;
  ServerProcess server(
      dir.path(), dir.path() + "/data",
      {"--rest-read-timeout", "1s", "--rest-idle-timeout", "3s"});
  ASSERT_TRUE(server.WaitUntilServing()) << server.log();
  const uint16_t port = PortOf(server.rest_address());
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

}  // namespace
}  // namespace edgepass
