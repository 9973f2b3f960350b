// Structured logs: one JSON object per line on stderr, so log pipelines parse
// them without rules. Every line has "ts" (UTC, ms), "level", "component" and
// "event"; request-scoped lines add "request_id" and, when there is one,
// "session_id". Never pass keys, API keys or a token's signature as a field.
//
//   logging::SetComponent("edgepass-server");
//   logging::Info("listening").Str("grpc", addr).Int("assets", n);
//   // {"ts":"2026-11-21T10:00:00.123Z","level":"info","component":"edgepass-server",
//   //  "event":"listening","grpc":"127.0.0.1:50051","assets":3}
#ifndef EDGEPASS_LOGGING_JSON_LOG_H_
#define EDGEPASS_LOGGING_JSON_LOG_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/strings/string_view.h"

namespace edgepass::logging {

enum class Level { kInfo, kWarning, kError };

// One log line under construction; written (one write(2), whole line) when
// the temporary dies at the end of the statement. Thread-safe to use from
// many threads; each Line belongs to one.
class Line {
 public:
  Line(Level level, absl::string_view event);
  ~Line();
  Line(const Line&) = delete;
  Line& operator=(const Line&) = delete;

  Line& Str(absl::string_view key, absl::string_view value);
  Line& Int(absl::string_view key, int64_t value);
  Line& Double(absl::string_view key, double value);
  Line& Bool(absl::string_view key, bool value);

 private:
  void Key(absl::string_view key);
  std::string text_;
};

inline Line Info(absl::string_view event) { return Line(Level::kInfo, event); }
inline Line Warning(absl::string_view event) { return Line(Level::kWarning, event); }
inline Line Error(absl::string_view event) { return Line(Level::kError, event); }

// Names the process in every line. Call once at start, before other threads.
void SetComponent(absl::string_view component);
// Tests: capture lines instead of writing them to stderr (nullptr restores).
void SetSinkForTesting(std::function<void(absl::string_view line)> sink);

}  // namespace edgepass::logging

#endif  // EDGEPASS_LOGGING_JSON_LOG_H_
