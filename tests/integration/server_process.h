// A real edgepass-server started by a test on a free loopback port: waits
// until it serves, and hands out a channel to it. The process is killed when
// the object goes, even when the test fails.
//
//   ServerProcess server(work.path(), work.path() + "/data", {"--redis-addr", addr});
//   ASSERT_TRUE(server.WaitUntilServing());
//   auto stub = v1::SessionService::NewStub(server.channel());
#ifndef EDGEPASS_TESTS_INTEGRATION_SERVER_PROCESS_H_
#define EDGEPASS_TESTS_INTEGRATION_SERVER_PROCESS_H_

#include <grpcpp/channel.h>
#include <grpcpp/security/credentials.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "edgepass/v1/playback.grpc.pb.h"
#include "gtest/gtest.h"
#include "tests/support/test_process.h"

namespace edgepass::testing {

class ServerProcess {
 public:
  // Starts EDGEPASS_SERVER_PATH with --data-dir `data_dir` --grpc-addr
  // 127.0.0.1:0 --rest-addr 127.0.0.1:0 --metrics-addr 127.0.0.1:0 and
  // `extra_args` (which may override them), the environment plus
  // `extra_env` ("NAME=VALUE"); logs go to files under `work_dir`.
  ServerProcess(const std::string& work_dir, const std::string& data_dir,
                std::vector<std::string> extra_args = {}, std::vector<std::string> extra_env = {});

  // Channel credentials for a server started with TLS (default: plaintext);
  // `target_name` overrides the name checked against its certificate.
  void SetChannelCredentials(std::shared_ptr<grpc::ChannelCredentials> credentials,
                             std::string target_name = "") {
    credentials_ = std::move(credentials);
    target_name_override_ = std::move(target_name);
  }

  // Waits for the "listening" log line, then for health SERVING.
  ::testing::AssertionResult WaitUntilServing(absl::Duration timeout = absl::Seconds(15));

  // grpc.health.v1.Health/Check for the whole server; the status (1 =
  // SERVING) or -1.
  int HealthStatus();

  v1::PlaybackService::Stub& stub() { return *stub_; }
  std::shared_ptr<grpc::Channel> channel() const { return channel_; }
  const std::string& address() const { return address_; }
  // HOST:PORT of /metrics from the "listening" line ("" when metrics are
  // off); known once WaitUntilServing() succeeded.
  const std::string& metrics_address() const { return metrics_address_; }
  // The REST gateway's HOST:PORT, or "off".
  const std::string& rest_address() const { return rest_address_; }
  // The ports of those two addresses (0 when off or not known yet).
  uint16_t metrics_port() const { return PortOf(metrics_address_); }
  uint16_t rest_port() const { return PortOf(rest_address_); }
  ChildProcess& process() { return *process_; }
  std::string log() const { return ReadFileOrEmpty(err_path_); }

 private:
  std::string err_path_;
  std::unique_ptr<ChildProcess> process_;
  std::string address_;
  std::string metrics_address_;
  std::string rest_address_;
  std::shared_ptr<grpc::ChannelCredentials> credentials_;
  std::string target_name_override_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::PlaybackService::Stub> stub_;
};

// A client context with a 10 s deadline.
std::unique_ptr<grpc::ClientContext> Context();

// A new API key made the operator's way, `edgepass-server --new-api-key SPEC`
// ("NAME:SCOPE[,SCOPE...]"): the key and the access-file entry that admits
// it. Empty fields and a test failure when the command fails.
struct NewApiKey {
  std::string key;
  std::string entry_json;
};
NewApiKey MakeApiKey(const std::string& spec, const std::string& scratch_dir);

}  // namespace edgepass::testing

#endif  // EDGEPASS_TESTS_INTEGRATION_SERVER_PROCESS_H_
