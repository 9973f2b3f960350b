#include "client/cli/cli_util.h"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "client/cli/commands.h"
#include "absl/strings/str_cat.h"

namespace edgepass::cli {

absl::StatusOr<std::string> ReadFlagFile(absl::string_view flag,
                                         const std::string& path,
                                         size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, " file '", path, "': ", std::strerror(errno)));
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, " file '", path, "': read error"));
  }
  std::string text = std::move(buffer).str();
  if (text.size() > max_bytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--", flag, " file '", path, "': larger than ", max_bytes, " bytes"));
  }
  return text;
}

absl::StatusOr<absl::Time> ParseEpochFlag(absl::string_view flag,
                                          absl::string_view text) {
  int64_t seconds = 0;
  if (absl::SimpleAtoi(text, &seconds)) return absl::FromUnixSeconds(seconds);
  double value = 0;
  if (absl::SimpleAtod(text, &value) && std::isfinite(value) &&
      std::fabs(value) < 1e15) {
    return absl::FromUnixMicros(
        static_cast<int64_t>(std::llround(value * 1e6)));
  }
  return absl::InvalidArgumentError(
      absl::StrCat("--", flag, " '", text, "': expected Unix seconds"));
}

std::string FailedCallText(const absl::Status& status) {
  return absl::StrCat(absl::StatusCodeToString(status.code()), ": ", status.message());
}

int ReportFailedCall(absl::string_view command, const absl::Status& status, std::ostream& err) {
  const absl::StatusCode code = status.code();
  err << "edgepass " << command << ": " << FailedCallText(status) << "\n";
  return code == absl::StatusCode::kUnavailable || code == absl::StatusCode::kDeadlineExceeded ? kExitUnavailable
                                                                                               : kExitDenied;
}

}  // namespace edgepass::cli
