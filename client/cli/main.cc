// The `edgepass` CLI: builds the environment (streams, clock, CSPRNG) and
// hands the arguments to the command functions in edgepass_cli_lib.
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "client/cli/commands.h"
#include "core/random.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  edgepass::core::SecureRandom random;
  edgepass::cli::CliEnv env{
      .out = std::cout,
      .err = std::cerr,
      .now = absl::Now(),
      .random = random,
      .lookup_env = [](const char* name) { return std::getenv(name); }};
  const int code = edgepass::cli::RunCli(args, env);
  std::cout.flush();
  return code;
}
