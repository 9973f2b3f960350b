// The running service: opens the state stores of the chosen mode (the
// embedded data dir, or Redis in front of it for a fleet), applies the
// start-up policy (seeding the sample catalog, merging --catalog-file and the
// SMD import, TLS or plaintext), builds the service layer (server/app/) and
// serves it over gRPC, REST and metrics until Stop(). main.cc only parses
// options, blocks signals and calls these.
//
//   absl::StatusOr<std::unique_ptr<ServerApp>> app = ServerApp::Start(options);
//   ... wait for SIGTERM ...
//   (*app)->Stop();  // drains within options.shutdown_grace
#ifndef EDGEPASS_SERVER_SERVER_APP_H_
#define EDGEPASS_SERVER_SERVER_APP_H_

#include <memory>

#include "absl/status/statusor.h"
#include "server/config.h"

namespace edgepass::server {

class ServerApp {
 public:
  // How a failed start is reported: the log event ("bad_configuration" for
  // a configuration that cannot work, "start_failed" when a store, file or
  // port cannot be opened) and the process exit code (2 or 1).
  struct Failure {
    const char* event = "start_failed";
    int exit_code = 1;
  };
  // Nothing is served on error; `failure` says how to report it.
  static absl::StatusOr<std::unique_ptr<ServerApp>> Start(const ServerOptions& options, Failure* failure);
  ~ServerApp();  // Stop()s

  // Ends the validators' streams, stops REST, and lets in-flight gRPC calls
  // finish within shutdown_grace. Idempotent.
  void Stop();

  struct Parts;  // server_app.cc

 private:
  explicit ServerApp(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

}  // namespace edgepass::server

#endif  // EDGEPASS_SERVER_SERVER_APP_H_
