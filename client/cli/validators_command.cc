// `edgepass validators list`: the validators streaming from a replica, the
// version each holds and how far behind it is (EdgeSyncService).
#include <string>

#include "absl/strings/str_cat.h"
#include "client/cli/commands.h"
#include "client/cli/operator_command.h"
#include "client/cli/operator_output.h"
#include "client/lib/validators_client.h"

namespace edgepass::cli {
namespace {

int RunList(const OperatorArgs& args, CliEnv& env) {
  client::ValidatorsClient fleet(args.options);
  absl::StatusOr<v1::ListValidatorsResponse> list = fleet.ListValidators();
  if (!list.ok()) return ReportCallError(args, env, list.status());
  if (args.json) return PrintJson(args, env, *list);
  env.out << "replica version " << list->current_version() << "\n";
  Table table({"VALIDATOR", "PEER", "CONNECTED", "SENT", "ACKED", "LAG", "SINCE"});
  for (const v1::ValidatorInfo& v : list->validators()) {
    const uint64_t lag = list->current_version() > v.acked_version() ? list->current_version() - v.acked_version() : 0;
    table.AddRow({v.validator_id(), v.peer(), v.connected() ? "yes" : "no", absl::StrCat(v.sent_version()),
                  absl::StrCat(v.acked_version()), absl::StrCat(lag), FormatTimestamp(v.connected_at())});
  }
  table.Print(env.out);
  return kExitOk;
}

constexpr FlagSpec kFlags[] = {EDGEPASS_OPERATOR_FLAG_SPECS};

const OperatorSubcommand kSubcommands[] = {
    {"list", "",
     R"(    The validators connected to the replica at --server: the version sent to
    each, the version it acknowledged, LAG = the replica's version minus the
    acknowledged one (0: up to date). Ask every replica for the whole fleet.
    --json: edgepass.v1.ListValidatorsResponse.
)",
     kFlags, 0, 0, RunList},
};

}  // namespace

int RunValidators(absl::Span<const std::string> args, CliEnv& env) {
  return RunOperatorGroup({"validators", "edge validators of a replica (EdgeSyncService)", kSubcommands}, args, env);
}

}  // namespace edgepass::cli
