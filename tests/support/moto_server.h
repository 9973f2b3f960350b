// RAII harness for tests against moto's server (an AWS emulation in Python):
// starts `python3 -m moto.server` (what `moto_server` runs) on a free
// loopback port with request authentication on — every request must be
// signed by a known IAM access key, and a bad signature gets HTTP 403
// SignatureDoesNotMatch — and kills it when destroyed.
//
//   MotoServer moto;
//   ASSERT_TRUE(moto.Start());
//   absl::StatusOr<MotoServer::AccessKey> admin = moto.CreateUser("edgepass");
//   // endpoint moto.endpoint() == "http://127.0.0.1:PORT"
#ifndef EDGEPASS_TESTS_SUPPORT_MOTO_SERVER_H_
#define EDGEPASS_TESTS_SUPPORT_MOTO_SERVER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/support/test_process.h"

namespace edgepass::testing {

class MotoServer {
 public:
  struct AccessKey {
    std::string access_key_id;
    std::string secret_access_key;
  };

  MotoServer();
  ~MotoServer();
  MotoServer(const MotoServer&) = delete;
  MotoServer& operator=(const MotoServer&) = delete;

  // Starts the server (INITIAL_NO_AUTH_ACTION_COUNT=0) and waits until it answers.
  ::testing::AssertionResult Start(absl::Duration timeout = absl::Seconds(30));
  void Stop();

  // An IAM user allowed every action, with a new access key. Runs the IAM
  // calls unauthenticated (moto's /moto-api/reset-auth), then turns
  // authentication back on for everything that follows.
  absl::StatusOr<AccessKey> CreateUser(const std::string& name);
  // An IAM role allowed every action (for AssumeRoleWithWebIdentity); its ARN.
  absl::StatusOr<std::string> CreateRole(const std::string& name);
  // Lets the next `count` requests through without a signature (STS's
  // AssumeRoleWithWebIdentity is unsigned in AWS, but moto checks it like any
  // other action once authentication is on).
  ::testing::AssertionResult AllowUnauthenticated(int count);

  int port() const { return port_; }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  const std::string& dir() const { return dir_.path(); }
  // The server's log (stderr), for failure messages.
  std::string log() const;

 private:
  RunResult Python(const std::vector<std::string>& args);

  TempDir dir_;
  int port_ = 0;
  std::string python_;
  std::unique_ptr<ChildProcess> process_;
};

// The python3 that can import moto.server (EDGEPASS_MOTO_VENV, the venv of
// scripts/deps.sh, or python3 on PATH), or "" when none (tests skip then).
std::string MotoPython();

}  // namespace edgepass::testing

#endif  // EDGEPASS_TESTS_SUPPORT_MOTO_SERVER_H_
