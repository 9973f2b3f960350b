// edgepass-server: wiring only. Parses options, blocks the stop signals,
// starts the service (server/server_app.h) and drains it on SIGTERM/SIGINT.
#include <pthread.h>
#include <signal.h>

#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/random.h"
#include "logging/json_log.h"
#include "server/auth/access.h"
#include "server/config.h"
#include "server/server_app.h"

namespace {

namespace server = edgepass::server;
namespace logging = edgepass::logging;

constexpr int kExitBadConfig = 2;

// --new-api-key NAME:SCOPES: prints the key (once) and the entry to add to
// the access file, which keeps only its hash.
int PrintNewApiKey(const std::string& spec) {
  auto parsed = server::ParseKeySpec(spec);
  edgepass::core::SecureRandom random;
  absl::StatusOr<server::NewApiKey> key = parsed.ok() ? server::MakeApiKey(parsed->first, parsed->second, random)
                                                      : absl::StatusOr<server::NewApiKey>(parsed.status());
  if (!key.ok()) {
    std::cerr << "edgepass-server: " << key.status().message() << "\n";
    return kExitBadConfig;
  }
  std::cout << "api key (shown once, give it to the caller):\n  " << key->key
            << "\naccess-file entry (add it to \"api_keys\"):\n  " << key->entry_json << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Lock-order checking costs every mutex operation; the tests (debug and
  // sanitizer builds) keep it.
#ifdef NDEBUG
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
#endif
  absl::StatusOr<server::ServerOptions> options = server::ParseServerOptions(
      std::vector<std::string>(argv + 1, argv + argc), [](const char* name) { return std::getenv(name); });
  logging::SetComponent("edgepass-server");
  if (!options.ok()) {
    logging::Error("bad_configuration").Str("error", options.status().message()).Str("hint", "see --help");
    return kExitBadConfig;
  }
  if (options->help) {
    std::cout << server::HelpText();
    return 0;
  }
  if (!options->new_api_key.empty()) return PrintNewApiKey(options->new_api_key);

  // Blocked before gRPC starts its threads, so only sigwait() below sees them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  server::ServerApp::Failure failure;
  absl::StatusOr<std::unique_ptr<server::ServerApp>> app = server::ServerApp::Start(*options, &failure);
  if (!app.ok()) {
    logging::Error(failure.event).Str("error", app.status().message());
    return failure.exit_code;
  }
  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  logging::Info("draining").Str("signal", strsignal(signal_number)).Str(
      "grace", absl::FormatDuration(options->shutdown_grace));
  (*app)->Stop();
  logging::Info("stopped");
  return 0;
}
