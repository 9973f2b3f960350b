// The edge of an end-to-end test: a real edgepass-validator and a real nginx
// running the shipped deploy/nginx/edgepass.conf (ports and paths
// substituted) on loopback, both killed when their objects go.
//
//   Sidecar sidecar(dir, {"--server", addr, "--listen", "127.0.0.1:0"});
//   uint16_t port = sidecar.WaitListening();
//   absl::StatusOr<EdgePorts> ports = WriteNginxConf(dir, port);  // then Nginx nginx(dir, ...)
#ifndef EDGEPASS_TESTS_E2E_EDGE_STACK_H_
#define EDGEPASS_TESTS_E2E_EDGE_STACK_H_

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "http/http_test_client.h"
#include "tests/support/test_process.h"

namespace edgepass::testing {

std::string RandomBytes(size_t n);

// Asks `status` every 10 ms until it has answered `want` without a break for
// `hold` (true), or `timeout` has passed (false). With the nginx module each
// worker reads the published state itself, at most every
// edgepass_state_check_interval (50 ms), so one worker's answer says nothing
// yet of the next request, which another worker may serve.
bool SettlesAt(int want, const std::function<int()>& status, absl::Duration timeout,
               absl::Duration hold = absl::Milliseconds(200));

// True when the end-to-end tests run nginx with ngx_http_edgepass_module
// (EDGEPASS_E2E_NGINX=module; ctest registers the module runs so): the
// Sidecar then also publishes the module's state file (--module-state), and
// WriteNginxConf writes deploy/nginx/edgepass-module.conf reading it.
bool ModuleMode();

// The edgepass-validator process; the port it bound is read from its stderr.
class Sidecar {
 public:
  // `extra_env`: "NAME=VALUE" added to the environment (e.g. EDGEPASS_VALIDATOR_ID).
  Sidecar(const std::string& dir, std::vector<std::string> args, std::vector<std::string> extra_env = {});
  // The HTTP port from the start line ({..,"event":"listening","http":
  // "127.0.0.1:PORT",..}), or 0 when it exited / timed out.
  uint16_t WaitListening(absl::Duration timeout = absl::Seconds(10));
  // WaitListening(), then until /healthz answers 200 (it holds a keyring,
  // from a server or its snapshot).
  ::testing::AssertionResult WaitReady(absl::Duration timeout = absl::Seconds(15));
  // Port of /metrics from the same line ("metrics":"127.0.0.1:PORT"), or 0
  // (none yet, or "off"). Unless `args` set --metrics-addr, the sidecar is
  // started with --metrics-addr 127.0.0.1:0.
  uint16_t MetricsPort() const;
  std::optional<int> Stop();
  // The process id (to hold it back with SIGSTOP), or -1.
  pid_t pid() const { return process_->pid(); }
  std::string log() const;
  ChildProcess& process() { return *process_; }

 private:
  std::string err_path_;
  std::string module_state_;  // ModuleMode(): its --module-state file
  std::string cloudfront_keys_;  // its --cloudfront-public-keys file, if any
  std::unique_ptr<ChildProcess> process_;
};

// nginx in the foreground; SIGTERM on destruction so its workers exit too.
class Nginx {
 public:
  // `extra_env`: "NAME=VALUE" added (e.g. LD_PRELOAD of the ASan runtime).
  Nginx(const std::string& prefix, const std::string& conf, std::vector<std::string> extra_env = {});
  ~Nginx();
  bool Running() { return process_->Running(); }

 private:
  std::unique_ptr<ChildProcess> process_;
};

// True once something accepts connections on the loopback port.
bool WaitForPort(uint16_t port, absl::Duration timeout = absl::Seconds(10));

// The response header's value, or "<none>".
std::string HeaderOr(const http::testing::TestResponse& r, absl::string_view name);

// True when nginx is installed where the build found it.
bool NginxAvailable();

struct EdgePorts {
  uint16_t edge = 0;    // where viewers connect
  uint16_t origin = 0;  // the example origin serving `root`/hls
};

// Writes `root`/nginx.conf: the shipped config with free edge and origin
// ports, the sidecar at `sidecar_port` and the origin tree at `root`/hls.
// ModuleMode(): the shipped module config instead, with the module built here
// and the state file of the Sidecar listening on `sidecar_port` (and its
// CloudFront routes, when it was given --cloudfront-public-keys).
// Creates `root`/logs and `root`/tmp. FAILED_PRECONDITION when the shipped
// config lost a literal the substitution relies on.
absl::StatusOr<EdgePorts> WriteNginxConf(const std::string& root, uint16_t sidecar_port);
// nginx on the config `write_conf` writes to `root`/nginx.conf with free
// ports (returning them; its `pid` must be logs/nginx.pid), once nginx holds
// them: it has written its pid file, which nginx does only after binding
// every listening socket. A free port another process took before nginx
// bound it (nginx cannot bind, retries for 2.5 s and exits; meanwhile a test
// would reach the other process) gets the config written again with new
// ports and nginx started again, up to three times. `extra_env` as Nginx's.
struct EdgeNginx {
  std::unique_ptr<Nginx> nginx;
  EdgePorts ports;
};
absl::StatusOr<EdgeNginx> StartNginxOn(const std::string& root,
                                       const std::function<absl::StatusOr<EdgePorts>()>& write_conf,
                                       std::vector<std::string> extra_env = {});
// StartNginxOn WriteNginxConf's config.
absl::StatusOr<EdgeNginx> StartEdgeNginx(const std::string& root, uint16_t sidecar_port);
// The shipped module config (deploy/nginx/edgepass-module.conf) with free
// ports, the origin tree at `root`/hls, `module` loaded and `state_file`;
// written to `root`/nginx.conf. Creates `root`/logs and `root`/tmp.
// `cloudfront_keys` non-empty: the config's CloudFront lines enabled (url base
// https://cdn.example.com, route /premium/) with that public keys file.
absl::StatusOr<EdgePorts> WriteModuleNginxConf(const std::string& root, const std::string& module,
                                               const std::string& state_file,
                                               const std::string& cloudfront_keys = "");
// The module's builds: for production, and under ASan with the test clock.
std::string NginxModulePath();
std::string NginxModuleTestPath();

// A small HLS tree (master playlist, media playlist, three segments of
// random bytes, and a free clip) written under `root`/hls; path -> bytes.
std::map<std::string, std::string> WriteHlsTree(const std::string& root);

}  // namespace edgepass::testing

#endif  // EDGEPASS_TESTS_E2E_EDGE_STACK_H_
