// How the operator commands print: aligned tables for people, protobuf's
// JSON (proto field names, as `edgepass issue --json`; the REST gateway
// reads it too) for scripts.
//
//   Table table({"ID", "HOSTNAME"});
//   table.AddRow({asset.id(), asset.hostname()});
//   table.Print(env.out);
//   return PrintJson(args, env, asset);   // --json
#ifndef EDGEPASS_CLIENT_CLI_OPERATOR_OUTPUT_H_
#define EDGEPASS_CLIENT_CLI_OPERATOR_OUTPUT_H_

#include <ostream>
#include <string>
#include <vector>

#include "client/cli/operator_command.h"
#include "google/protobuf/message.h"
#include "google/protobuf/timestamp.pb.h"

namespace edgepass::cli {

// Columns left-aligned, two spaces apart, a header row first; "(none)"
// under the header when there are no rows. Cells are printed as given, with
// control characters replaced by '?' so a stored value cannot move the
// terminal.
class Table {
 public:
  explicit Table(std::vector<std::string> headers);
  void AddRow(std::vector<std::string> cells);
  void Print(std::ostream& out) const;

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
};

// "NAME: value" lines, names aligned.
void PrintFields(std::ostream& out, const std::vector<std::pair<std::string, std::string>>& fields);

// The message as protobuf's JSON on one line, proto field names, fields at
// their default left out. Returns the exit code (1 when it cannot be printed,
// with a message on stderr).
int PrintJson(const OperatorArgs& args, CliEnv& env, const google::protobuf::Message& message);

// RFC 3339 in UTC, whole seconds ("2026-12-06T10:00:00Z"); "-" when unset.
std::string FormatTimestamp(const google::protobuf::Timestamp& ts);

}  // namespace edgepass::cli

#endif  // EDGEPASS_CLIENT_CLI_OPERATOR_OUTPUT_H_
