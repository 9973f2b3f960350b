// `edgepass-load`: a load generator for PlaybackService.IssuePlayback. Parses
// the flags, runs the load, prints the report. Exit codes: 0 run completed,
// 1 cannot connect, 2 bad usage or an unusable key or CA file.
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "tests/load/load_options.h"
#include "tests/load/load_report.h"
#include "tests/load/load_runner.h"

int main(int argc, char** argv) {
  namespace load = ::edgepass::load;
  const std::vector<std::string> args(argv + 1, argv + argc);
  absl::StatusOr<load::LoadOptions> options = load::ParseLoadOptions(
      args, [](const char* name) { return std::getenv(name); });
  if (!options.ok()) {
    std::cerr << "edgepass-load: " << options.status().message()
              << "\nrun edgepass-load --help for usage\n";
    return 2;
  }
  if (options->help) {
    std::cout << load::LoadUsage();
    return 0;
  }
  absl::StatusOr<load::LoadReport> report = load::RunLoad(*options);
  if (!report.ok()) {
    std::cerr << "edgepass-load: " << report.status().message() << "\n";
    return report.status().code() == absl::StatusCode::kUnavailable ? 1 : 2;
  }
  std::cout << (options->json ? load::FormatJson(*report)
                              : load::FormatText(*report));
  std::cout.flush();
  return 0;
}
