#include "client/cli/flags.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace edgepass::cli {

absl::StatusOr<std::pair<std::string, std::string>> SplitNameValue(absl::string_view flag,
                                                                   absl::string_view arg) {
  size_t eq = arg.find('=');
  if (eq == absl::string_view::npos || eq == 0) {
    return absl::InvalidArgumentError(absl::StrCat("--", flag, " '", arg, "': expected NAME=VALUE"));
  }
  return std::make_pair(std::string(arg.substr(0, eq)), std::string(arg.substr(eq + 1)));
}

}  // namespace edgepass::cli
