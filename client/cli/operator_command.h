// What the operator commands (`edgepass asset|policy|session|validators|keys|
// cloudfront-key ...`) share: a table of subcommands per group, one parser
// for their flags (--server, --json and the client flags of
// client_flags.h), the usage text per subcommand, and the exit code of a
// failed call.
//
//   constexpr FlagSpec kGetFlags[] = {EDGEPASS_OPERATOR_FLAG_SPECS};
//   const OperatorSubcommand kSubcommands[] = {{"get", "ID", "prints one asset", kGetFlags, 1, 1, RunGet}};
//   return RunOperatorGroup({"asset", "the catalog's assets", kSubcommands}, args, env);
#ifndef EDGEPASS_CLIENT_CLI_OPERATOR_COMMAND_H_
#define EDGEPASS_CLIENT_CLI_OPERATOR_COMMAND_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "client/cli/client_flags.h"
#include "client/cli/commands.h"
#include "client/cli/flags.h"
#include "client/lib/playback_client.h"

namespace edgepass::cli {

// The flags every operator subcommand takes; list them in its FlagSpec table.
#define EDGEPASS_OPERATOR_FLAG_SPECS {"server"}, {"json", FlagKind::kSwitch}, EDGEPASS_CLIENT_FLAG_SPECS

// One parsed invocation of a subcommand.
struct OperatorArgs {
  std::string command;  // "asset put", for messages
  ParsedFlags flags;
  client::ClientOptions options;  // from --server and the client flags
  bool json = false;              // --json
  const std::vector<std::string>& positional() const { return flags.positional(); }
};

struct OperatorSubcommand {
  absl::string_view name;            // "put"
  absl::string_view synopsis;        // "ID --file FILE | ID --hostname H ..." (after the flags every one takes)
  absl::string_view help;            // what it does, its flags, its output; lines indented by four spaces
  absl::Span<const FlagSpec> flags;  // including EDGEPASS_OPERATOR_FLAG_SPECS
  size_t min_positional = 0;
  size_t max_positional = 0;
  int (*run)(const OperatorArgs& args, CliEnv& env) = nullptr;
  // Deadline of the call when --deadline is not given (0: the SDK's 5 s).
  absl::Duration default_deadline = absl::ZeroDuration();
};

struct OperatorGroup {
  absl::string_view name;     // "asset"
  absl::string_view summary;  // one line
  absl::Span<const OperatorSubcommand> subcommands;
};

// `edgepass <group> <subcommand> [flags]`: dispatches, answers --help (of the
// group or of one subcommand, on stdout, exit 0), parses the flags and builds
// the client options (usage errors on stderr naming the flag, exit 2), then
// runs the subcommand.
int RunOperatorGroup(const OperatorGroup& group, absl::Span<const std::string> args, CliEnv& env);

// The usage text of a group: every subcommand with its help, the common flags
// and the exit codes.
std::string OperatorGroupUsage(const OperatorGroup& group);

// Prints "edgepass <command>: <CODE>: <message>" on stderr and returns the
// exit code of a failed call: 3 for UNAVAILABLE / DEADLINE_EXCEEDED (worth a
// retry), 1 for every other refusal.
int ReportCallError(const OperatorArgs& args, CliEnv& env, const absl::Status& status);

// Prints "edgepass <command>: <message>" and "Run 'edgepass <command> --help'
// for usage." on stderr; returns 2.
int ReportUsageError(absl::string_view command, CliEnv& env, absl::string_view message);

}  // namespace edgepass::cli

#endif  // EDGEPASS_CLIENT_CLI_OPERATOR_COMMAND_H_
