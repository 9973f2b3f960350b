// Command-line options of `edgepass-load`, parsed and validated once.
//
//   absl::StatusOr<LoadOptions> options = ParseLoadOptions(args);
//   if (!options.ok()) { /* print options.status().message(), exit 2 */ }
//   absl::StatusOr<LoadReport> report = RunLoad(*options);
#ifndef EDGEPASS_TESTS_LOAD_LOAD_OPTIONS_H_
#define EDGEPASS_TESTS_LOAD_LOAD_OPTIONS_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"

namespace edgepass::load {

struct LoadOptions {
  // HOST:PORT of each replica; calls are spread round-robin over connections,
  // and connections round-robin over servers.
  std::vector<std::string> servers;
  std::string asset_id = "1";
  // Requests per second, scheduled at fixed intervals (open loop); 0 = closed
  // loop: keep `concurrency` calls in flight, as fast as the server answers.
  double rate = 100;
  absl::Duration duration = absl::Seconds(10);
  // Most calls in flight; a scheduled call beyond it is dropped, not sent.
  int concurrency = 256;
  // Separate channels (TCP connections); at least one per server.
  int connections = 1;
  // Viewer.ip sent with every call; empty = not set.
  std::string viewer_ip;
  // Deadline of each call.
  absl::Duration timeout = absl::Seconds(5);
  // Completion-queue polling threads.
  int poll_threads = 1;
  // Bearer API key (scope issue) read from this file by RunLoad; empty: none.
  std::string api_key_file;
  // TLS to the servers, verified against this CA bundle; empty: plaintext.
  std::string server_ca_file;
  // With a key and no TLS, servers that are not loopback are refused unless
  // this is set (--insecure-plaintext).
  bool insecure_plaintext = false;
  bool json = false;
  bool help = false;
};

// The --help text.
const char* LoadUsage();

// Parses the arguments after the program name; `env` (std::getenv in main,
// may be null) supplies EDGEPASS_API_KEY_FILE when --api-key-file is not
// given. INVALID_ARGUMENT naming the flag for an unknown flag, a missing or
// malformed value, a value out of range, no --server, --connections below
// the number of servers, or an API key for a --server that is not loopback
// without --server-ca or --insecure-plaintext. With -h/--help, returns options
// with help set and nothing else checked. Files are not read here.
absl::StatusOr<LoadOptions> ParseLoadOptions(
    absl::Span<const std::string> args,
    const std::function<const char*(const char*)>& env = nullptr);

}  // namespace edgepass::load

#endif  // EDGEPASS_TESTS_LOAD_LOAD_OPTIONS_H_
