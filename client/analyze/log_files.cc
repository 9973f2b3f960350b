#include "client/analyze/log_files.h"

#include <filesystem>
#include <optional>
#include <set>
#include <system_error>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "client/analyze/log_text.h"

namespace edgepass::analyze {
namespace {

namespace fs = std::filesystem;

// The hours [first, last] a Hive partition path covers, from its year=,
// month=, day=, hour= components; nullopt when it names no year.
std::optional<std::pair<int64_t, int64_t>> PartitionHours(const fs::path& dir) {
  int64_t year = -1, month = -1, day = -1, hour = -1;
  for (const fs::path& part : dir) {
    const std::string s = part.string();
    int64_t* slot = nullptr;
    absl::string_view value;
    for (auto [prefix, target] : {std::pair<absl::string_view, int64_t*>{"year=", &year},
                                  {"month=", &month}, {"day=", &day}, {"hour=", &hour}}) {
      if (absl::StartsWith(s, prefix)) {
        slot = target;
        value = absl::string_view(s).substr(prefix.size());
      }
    }
    int64_t v;
    if (slot != nullptr && absl::SimpleAtoi(value, &v)) *slot = v;
  }
  if (year < 1970 || year > 9999) return std::nullopt;
  const bool m = month >= 1 && month <= 12;
  const bool d = m && day >= 1 && day <= 31;
  const bool h = d && hour >= 0 && hour <= 23;
  const int64_t first_day = DaysFromCivil(year, m ? static_cast<unsigned>(month) : 1, d ? static_cast<unsigned>(day) : 1);
  int64_t end_day;  // exclusive
  if (d) {
    end_day = first_day + 1;
  } else if (m) {
    end_day = month == 12 ? DaysFromCivil(year + 1, 1, 1) : DaysFromCivil(year, static_cast<unsigned>(month + 1), 1);
  } else {
    end_day = DaysFromCivil(year + 1, 1, 1);
  }
  if (h) return std::make_pair(first_day * 24 + hour, first_day * 24 + hour);
  return std::make_pair(first_day * 24, end_day * 24 - 1);
}

bool PartitionMissesWindow(const fs::path& dir, const Window& window) {
  std::optional<std::pair<int64_t, int64_t>> hours = PartitionHours(dir);
  if (!hours.has_value()) return false;
  constexpr int64_t kHourMs = 3600000;
  const int64_t first_ms = hours->first * kHourMs;
  const int64_t last_ms = hours->second * kHourMs + kHourMs - 1;
  return last_ms < window.start_ms || first_ms > window.end_ms;
}

bool Hidden(const fs::path& p) {
  const std::string name = p.filename().string();
  return !name.empty() && (name[0] == '.' || name[0] == '_');
}

}  // namespace

absl::StatusOr<std::vector<std::string>> ListLogFiles(const std::vector<std::string>& paths,
                                                      const Window& window) {
  std::set<std::string> files;
  for (const std::string& path : paths) {
    std::error_code ec;
    const fs::file_status st = fs::status(path, ec);
    if (ec || !fs::exists(st)) return absl::NotFoundError(absl::StrCat("log path '", path, "': does not exist"));
    if (!fs::is_directory(st)) {
      files.insert(path);
      continue;
    }
    fs::recursive_directory_iterator it(path, fs::directory_options::skip_permission_denied, ec);
    if (ec) return absl::NotFoundError(absl::StrCat("log path '", path, "': ", ec.message()));
    for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (ec) break;
      const fs::path& p = it->path();
      if (Hidden(p)) {
        if (it->is_directory(ec)) it.disable_recursion_pending();
        continue;
      }
      if (it->is_directory(ec)) {
        if (PartitionMissesWindow(p.lexically_relative(path), window)) it.disable_recursion_pending();
        continue;
      }
      if (it->is_regular_file(ec)) files.insert(p.string());
    }
    if (ec) return absl::NotFoundError(absl::StrCat("log path '", path, "': ", ec.message()));
  }
  return std::vector<std::string>(files.begin(), files.end());
}

}  // namespace edgepass::analyze
