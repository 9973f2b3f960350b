// The sidecar's log lines. The parts that log (the HTTP service, the state
// loader, the edge-sync subscriber) describe each event as one JSON object
// and hand it to a LogSink, which tests capture. In the binary the sink is
// LogEvent, which writes it through edgepass::logging (logging/json_log.h),
// so every line on stderr carries the project's envelope:
//
//   log(R"({"event":"snapshot_unusable","level":"warning","error":"bad"})");
//   // LogEvent writes
//   // {"ts":"2026-11-21T10:00:00.123Z","level":"warning",
//   //
//   "component":"edgepass-validator","event":"snapshot_unusable","error":"bad"}
#ifndef EDGEPASS_CLIENT_SIDECAR_EVENT_LOG_H_
#define EDGEPASS_CLIENT_SIDECAR_EVENT_LOG_H_

#include <functional>

#include "absl/strings/string_view.h"

namespace edgepass::sidecar {

// Receives one event (no newline): a JSON object whose first member is
// "event" (a string), with an optional "level" ("info", the default,
// "warning" or "error") and then the event's fields. Never keys, API keys or
// a token's signature. Must be thread-safe.
using LogSink = std::function<void(absl::string_view event_json)>;

// Writes the event as one edgepass::logging line: "event" and "level" go to
// the envelope, the other members follow in their order (strings, numbers and
// booleans as such; objects, arrays and null as their JSON text in a
// string). Text that is not such an object is logged whole, as the "text" of
// a warning "unstructured_log" event. Thread-safe.
void LogEvent(absl::string_view event_json);

}  // namespace edgepass::sidecar

#endif  // EDGEPASS_CLIENT_SIDECAR_EVENT_LOG_H_
