#include "client/cli/operator_command.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/cli/cli_util.h"

namespace edgepass::cli {
namespace {

constexpr absl::string_view kCommonFlags = R"(Flags every subcommand takes:
  --server ADDR         the service's gRPC address (host:port), required
  --json                print the reply as JSON (protobuf's JSON, proto field
                        names) for scripts, instead of a table
  --deadline DURATION   per call (default 5s; keys rotate: 60s)
  --api-key-file FILE   API key sent as a bearer token (default
                        $EDGEPASS_API_KEY_FILE); the file must be private
                        (chmod 600). Scopes: asset, policy: catalog; session:
                        revoke; validators: edge-sync; keys, cloudfront-key: keys
  --server-ca FILE      TLS to the server, verified against this CA bundle;
                        without it a key is sent only to a loopback --server
  --insecure-plaintext  send the key in cleartext to a non-loopback --server
)";

constexpr absl::string_view kExitCodes = R"(Exit codes:
  0  done
  1  the service refused the call: stderr says "edgepass <command>: <CODE>:
     <message>" (NOT_FOUND, INVALID_ARGUMENT naming the field,
     FAILED_PRECONDITION, UNAUTHENTICATED, PERMISSION_DENIED, ...)
  2  bad usage: unknown or missing flag, unreadable or malformed file (the
     file, line and column or field are named); nothing was sent
  3  the service was not reached in time (UNAVAILABLE, DEADLINE_EXCEEDED);
     worth a retry
)";

std::string SubcommandUsage(const OperatorGroup& group, const OperatorSubcommand& sub) {
  return absl::StrCat("  edgepass ", group.name, " ", sub.name, " ", sub.synopsis, sub.synopsis.empty() ? "" : " ",
                      "--server ADDR [--json]\n", sub.help);
}

bool IsHelp(const std::string& word) { return word == "--help" || word == "-h" || word == "help"; }

}  // namespace

std::string OperatorGroupUsage(const OperatorGroup& group) {
  std::string out = absl::StrCat("Usage: edgepass ", group.name, " <subcommand> [flags]: ", group.summary, "\n\n");
  for (const OperatorSubcommand& sub : group.subcommands) absl::StrAppend(&out, SubcommandUsage(group, sub), "\n");
  absl::StrAppend(&out, kCommonFlags, "\n", kExitCodes);
  return out;
}

int ReportUsageError(absl::string_view command, CliEnv& env, absl::string_view message) {
  env.err << "edgepass " << command << ": " << message << "\n"
          << "Run 'edgepass " << command << " --help' for usage.\n";
  return kExitUsage;
}

int ReportCallError(const OperatorArgs& args, CliEnv& env, const absl::Status& status) {
  return ReportFailedCall(args.command, status, env.err);
}

int RunOperatorGroup(const OperatorGroup& group, absl::Span<const std::string> args, CliEnv& env) {
  if (args.empty()) {
    env.err << OperatorGroupUsage(group);
    return kExitUsage;
  }
  if (IsHelp(args[0])) {
    env.out << OperatorGroupUsage(group);
    return kExitOk;
  }
  const OperatorSubcommand* sub = nullptr;
  for (const OperatorSubcommand& s : group.subcommands) {
    if (s.name == args[0]) sub = &s;
  }
  if (sub == nullptr) {
    std::vector<absl::string_view> names;
    for (const OperatorSubcommand& s : group.subcommands) names.push_back(s.name);
    return ReportUsageError(
        group.name, env, absl::StrCat("unknown subcommand '", args[0], "' (one of: ", absl::StrJoin(names, ", "), ")"));
  }
  OperatorArgs parsed;
  parsed.command = absl::StrCat(group.name, " ", sub->name);
  absl::StatusOr<ParsedFlags> flags = ParseFlags(args.subspan(1), sub->flags);
  if (!flags.ok()) return ReportUsageError(parsed.command, env, flags.status().message());
  if (flags->help()) {
    env.out << "Usage:\n" << SubcommandUsage(group, *sub) << "\n" << kCommonFlags << "\n" << kExitCodes;
    return kExitOk;
  }
  const size_t n = flags->positional().size();
  if (n < sub->min_positional) {
    return ReportUsageError(parsed.command, env, absl::StrCat("missing argument: ", sub->synopsis));
  }
  if (n > sub->max_positional) {
    return ReportUsageError(parsed.command, env,
                            absl::StrCat("unexpected argument '", flags->positional()[sub->max_positional], "'"));
  }
  const std::string* server = flags->Get("server");
  if (server == nullptr) return ReportUsageError(parsed.command, env, "missing required flag --server");
  absl::StatusOr<client::ClientOptions> options = ClientOptionsFromFlags(*flags, env, "--server", *server);
  if (!options.ok()) return ReportUsageError(parsed.command, env, options.status().message());
  if (!flags->Has("deadline") && sub->default_deadline > absl::ZeroDuration()) {
    options->deadline = sub->default_deadline;
  }
  parsed.json = flags->Has("json");
  parsed.flags = *std::move(flags);
  parsed.options = *std::move(options);
  return sub->run(parsed, env);
}

}  // namespace edgepass::cli
