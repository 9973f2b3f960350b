// The load engine of `edgepass-load`: drives PlaybackService.IssuePlayback
// over asynchronous gRPC (completion queues, a thread per queue, no thread per
// call) at a fixed schedule (open loop) or with a fixed number of calls in
// flight (closed loop), and measures each call.
//
//   absl::StatusOr<LoadOptions> options = ParseLoadOptions(args);
//   absl::StatusOr<LoadReport> report = RunLoad(*options);
//   std::cout << FormatText(*report);
#ifndef EDGEPASS_TESTS_LOAD_LOAD_RUNNER_H_
#define EDGEPASS_TESTS_LOAD_LOAD_RUNNER_H_

#include "absl/status/statusor.h"
#include "tests/load/load_options.h"
#include "tests/load/load_report.h"

namespace edgepass::load {

// Opens options.connections channels (separate TCP connections, round-robin
// over options.servers), waits until each is connected, then sends for
// options.duration and waits for the calls still in flight (each bounded by
// options.timeout). Open loop (rate > 0): call i is due at start + i/rate;
// its latency runs from that due time, so a slow server or a late sender
// shows up as latency instead of being hidden; a due call finding
// options.concurrency calls in flight is dropped. Closed loop (rate == 0):
// options.concurrency calls in flight, each answer starting the next.
// UNAVAILABLE naming the address when a server refuses the connection or is
// not connected within 10 s; nothing is sent then. Before that, the API key
// and CA files are read: their errors (client/channel: INVALID_ARGUMENT,
// NOT_FOUND, PERMISSION_DENIED, naming the flag and the file) are returned.
// Every call carries the API key when there is one. Call errors (including
// UNAUTHENTICATED) are counted, not returned.
absl::StatusOr<LoadReport> RunLoad(const LoadOptions& options);

}  // namespace edgepass::load

#endif  // EDGEPASS_TESTS_LOAD_LOAD_RUNNER_H_
