// The log files `edgepass analyze` reads under the paths it is given: files
// as they are, directories recursively, Hive partitions outside the window
// skipped.
//
//   absl::StatusOr<std::vector<std::string>> files = ListLogFiles({"logs/"}, window);
#ifndef EDGEPASS_CLIENT_ANALYZE_LOG_FILES_H_
#define EDGEPASS_CLIENT_ANALYZE_LOG_FILES_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/analyze/session_table.h"

namespace edgepass::analyze {

// Every regular file under `paths` (files as given; directories recursively,
// skipping names that start with '.' or '_'), sorted, without duplicates.
// Directories named year=YYYY, month=MM, day=DD, hour=HH (Hive partitions,
// nested in that order) whose hours all miss `window` are not entered.
// NOT_FOUND naming the path when one does not exist.
absl::StatusOr<std::vector<std::string>> ListLogFiles(const std::vector<std::string>& paths,
                                                      const Window& window);

}  // namespace edgepass::analyze

#endif  // EDGEPASS_CLIENT_ANALYZE_LOG_FILES_H_
