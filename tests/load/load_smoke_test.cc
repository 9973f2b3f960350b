// Runs the real edgepass-load against the real edgepass-server (free loopback
// port, temporary data directory). Label: integration.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/support/test_process.h"

namespace edgepass {
namespace {

using ::edgepass::testing::ChildProcess;
using ::edgepass::testing::ReadFileOrEmpty;
using ::edgepass::testing::RunProcess;
using ::edgepass::testing::RunResult;
using ::edgepass::testing::TempDir;

constexpr char kServerPath[] = EDGEPASS_SERVER_PATH;
constexpr char kLoadPath[] = EDGEPASS_LOAD_PATH;

// Starts edgepass-server on 127.0.0.1:0 and reads its address from the log.
class Server {
 public:
  explicit Server(const std::string& dir) : log_(dir + "/server.err") {
    process_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{kServerPath, "--data-dir", dir + "/data",
                                 "--grpc-addr", "127.0.0.1:0", "--metrics-addr",
                                 "127.0.0.1:0", "--rest-addr", ""},
        dir + "/server.out", log_);
  }

  ::testing::AssertionResult WaitForAddress() {
    static const std::regex kListening(R"re("event":"listening","grpc":"([0-9.]+:[0-9]+)")re");
    const absl::Time deadline = absl::Now() + absl::Seconds(15);
    for (;;) {
      std::smatch m;
      const std::string log = ReadFileOrEmpty(log_);
      if (std::regex_search(log, m, kListening)) {
        address_ = m[1];
        return ::testing::AssertionSuccess();
      }
      if (!process_->Running())
        return ::testing::AssertionFailure() << "server exited: " << log;
      if (absl::Now() > deadline)
        return ::testing::AssertionFailure() << "no address: " << log;
      absl::SleepFor(absl::Milliseconds(20));
    }
  }

  const std::string& address() const { return address_; }

 private:
  std::string log_;
  std::unique_ptr<ChildProcess> process_;
  std::string address_;
};

// A loopback port that nothing listens on (bound, then released).
int UnusedPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

// Checks the report of a clean run: calls answered, no errors, ordered
// percentiles.
void ExpectCleanRun(const RunResult& run) {
  ASSERT_EQ(run.exit_code, 0) << run.err;
  nlohmann::json report =
      nlohmann::json::parse(run.out, nullptr, /*allow_exceptions=*/false);
  ASSERT_TRUE(report.is_object()) << run.out;
  EXPECT_GT(report["ok"].get<int64_t>(), 0) << run.out;
  EXPECT_EQ(report["ok"], report["sent"]) << run.out;
  EXPECT_EQ(report["error_count"], 0) << run.out;
  EXPECT_EQ(report["errors"], nlohmann::json::object()) << run.out;
  EXPECT_GT(report["throughput_rps"].get<double>(), 0) << run.out;
  const nlohmann::json& latency = report["latency_us"];
  EXPECT_EQ(latency["samples"], report["ok"]) << run.out;
  double previous = 0;
  for (const char* key : {"min", "p50", "p90", "p99", "p999", "max"}) {
    ASSERT_TRUE(latency[key].is_number()) << key << " in " << run.out;
    const double value = latency[key].get<double>();
    EXPECT_GT(value, 0) << key;
    EXPECT_GE(value, previous) << key << " in " << run.out;
    previous = value;
  }
}

TEST(LoadSmoke, OpenLoopAgainstRealServer) {
  TempDir dir;
  Server server(dir.path());
  ASSERT_TRUE(server.WaitForAddress());
  RunResult run =
      RunProcess({kLoadPath, "--server", server.address(), "--rate", "200",
                  "--duration", "2s", "--connections", "2", "--json"},
                 dir.path(), absl::Seconds(30));
  ExpectCleanRun(run);
  nlohmann::json report = nlohmann::json::parse(run.out, nullptr, false);
  EXPECT_EQ(report["mode"], "open_loop");
  EXPECT_EQ(report["scheduled"], 400) << run.out;
  EXPECT_EQ(report["dropped"], 0) << run.out;
}

TEST(LoadSmoke, ClosedLoopAgainstRealServer) {
  TempDir dir;
  Server server(dir.path());
  ASSERT_TRUE(server.WaitForAddress());
  RunResult run = RunProcess(
      {kLoadPath, "--server", server.address(), "--rate", "0", "--concurrency",
       "4", "--duration", "500ms", "--poll-threads", "2", "--json"},
      dir.path(), absl::Seconds(30));
  ExpectCleanRun(run);
  nlohmann::json report = nlohmann::json::parse(run.out, nullptr, false);
  EXPECT_EQ(report["mode"], "closed_loop");
}

TEST(LoadSmoke, UnknownAssetIsCountedAsNotFound) {
  TempDir dir;
  Server server(dir.path());
  ASSERT_TRUE(server.WaitForAddress());
  RunResult run =
      RunProcess({kLoadPath, "--server", server.address(), "--asset", "nope",
                  "--rate", "50", "--duration", "200ms", "--json"},
                 dir.path(), absl::Seconds(30));
  ASSERT_EQ(run.exit_code, 0) << run.err;
  nlohmann::json report = nlohmann::json::parse(run.out, nullptr, false);
  ASSERT_TRUE(report.is_object()) << run.out;
  EXPECT_EQ(report["ok"], 0);
  EXPECT_EQ(report["errors"]["NOT_FOUND"], report["sent"]) << run.out;
  EXPECT_TRUE(report["latency_us"]["p99"].is_null()) << run.out;
}

TEST(LoadUsage, UnknownFlagExitsTwoWithMessage) {
  TempDir dir;
  RunResult run =
      RunProcess({kLoadPath, "--server", "127.0.0.1:1", "--bogus"}, dir.path());
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_TRUE(
      absl::StrContains(run.err, "edgepass-load: unknown flag '--bogus'"))
      << run.err;
  EXPECT_EQ(run.out, "");
}

TEST(LoadUsage, BadValueExitsTwoNamingTheFlag) {
  TempDir dir;
  RunResult run = RunProcess(
      {kLoadPath, "--server", "127.0.0.1:1", "--rate", "-3"}, dir.path());
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(run.err, "--rate '-3'")) << run.err;
}

TEST(LoadUsage, HelpExitsZero) {
  TempDir dir;
  RunResult run = RunProcess({kLoadPath, "--help"}, dir.path());
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_TRUE(absl::StrContains(run.out, "usage: edgepass-load")) << run.out;
}

TEST(LoadUsage, UnreachableServerExitsOneNamingIt) {
  TempDir dir;
  const int port = UnusedPort();
  ASSERT_GT(port, 0);
  const std::string address = absl::StrCat("127.0.0.1:", port);
  RunResult run = RunProcess(
      {kLoadPath, "--server", address, "--duration", "1s"}, dir.path());
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_TRUE(
      absl::StrContains(run.err, absl::StrCat("cannot connect to ", address)))
      << run.err;
}

}  // namespace
}  // namespace edgepass
