// RAII helpers for tests that start real processes: a temporary directory that
// is removed, and a child process that is killed and reaped, even when the
// test fails.
//
//   TempDir dir;
//   ChildProcess server({"/path/edgepass-server", "--data-dir", dir.path()},
//                       dir.path() + "/out.log", dir.path() + "/err.log");
//   std::optional<int> code = server.WaitForExit(absl::Seconds(5));
#ifndef EDGEPASS_TESTS_SUPPORT_TEST_PROCESS_H_
#define EDGEPASS_TESTS_SUPPORT_TEST_PROCESS_H_

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "tests/support/temp_dir.h"  // TempDir, used with these helpers

namespace edgepass::testing {

// The port of "HOST:PORT" ("[V6]:PORT" too); 0 when there is none.
uint16_t PortOf(absl::string_view host_port);

class ChildProcess {
 public:
  // Starts `argv` with stdout and stderr redirected to the given files and
  // this process's environment plus `extra_env` ("NAME=VALUE" each).
  // pid() is -1 when fork failed.
  ChildProcess(const std::vector<std::string>& argv, const std::string& stdout_path,
               const std::string& stderr_path, const std::vector<std::string>& extra_env = {});
  // SIGKILL and reap if still running.
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  bool Signal(int signal_number);
  // Exit code (128 + signal when killed by a signal), or nullopt on timeout.
  std::optional<int> WaitForExit(absl::Duration timeout);
  // True while the process has not exited (reaps it when it has).
  bool Running();

 private:
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
};

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs `argv` to completion (killed after `timeout`, exit code -1 then).
RunResult RunProcess(const std::vector<std::string>& argv, const std::string& scratch_dir,
                     absl::Duration timeout = absl::Seconds(20));

// A loopback TCP port that was free when asked (bind port 0, close), or 0.
// Another process may take it before the caller binds it: prefer letting the
// program under test bind port 0 itself where it can report its port.
uint16_t FreeLoopbackPort();

// Whole file, or "" when it cannot be read.
std::string ReadFileOrEmpty(const std::string& path);
void WriteFileOrDie(const std::string& path, const std::string& contents);

}  // namespace edgepass::testing

#endif  // EDGEPASS_TESTS_SUPPORT_TEST_PROCESS_H_
