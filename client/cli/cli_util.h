// Helpers shared by the `edgepass` commands: reading a flag's file and
// parsing an epoch flag, with errors that name the flag; reporting a failed
// call to the service with the exit code scripts rely on.
//
//   absl::StatusOr<std::string> text = ReadFlagFile("keyring", path);
//   absl::StatusOr<absl::Time> now = ParseEpochFlag("now", "1767225600");
#ifndef EDGEPASS_CLIENT_CLI_CLI_UTIL_H_
#define EDGEPASS_CLIENT_CLI_CLI_UTIL_H_

#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace edgepass::cli {

// The whole file. INVALID_ARGUMENT "--<flag> file '<path>': <errno text>" when
// it cannot be read; "... is larger than N bytes" past `max_bytes`.
absl::StatusOr<std::string> ReadFlagFile(absl::string_view flag,
                                         const std::string& path,
                                         size_t max_bytes = 16 << 20);

// Unix seconds, integer or decimal ("1767225600", "1767225600.5").
// INVALID_ARGUMENT "--<flag> '<text>': ..." otherwise.
absl::StatusOr<absl::Time> ParseEpochFlag(absl::string_view flag,
                                          absl::string_view text);

// "<CODE>: <message>", e.g. "UNAVAILABLE: failed to connect".
std::string FailedCallText(const absl::Status& status);

// A call to the service failed: prints "edgepass <command>: <CODE>: <message>"
// on `err` and returns the exit code, kExitUnavailable for UNAVAILABLE and
// DEADLINE_EXCEEDED (worth a retry), kExitDenied for any other refusal.
int ReportFailedCall(absl::string_view command, const absl::Status& status, std::ostream& err);

}  // namespace edgepass::cli

#endif  // EDGEPASS_CLIENT_CLI_CLI_UTIL_H_
