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

#include "absl/status/status.h"
#include "client/cli/operator_command.h"
#include "google/protobuf/message.h"
#include "google/protobuf/timestamp.pb.h"

namespace edgepass::cli {

// Columns left-aligned, two spaces apart, a header row first; "(none)"
// under the header when there are no rows. Cells are printed as given, with
// control characters replaced by '?' so a stored value cannot move the
// terminal. A long listing prints as it goes with Flush() after each part:
// the first part sets the widths, and a wider cell later only pushes its row.
class Table {
 public:
  explicit Table(std::vector<std::string> headers);
  void AddRow(std::vector<std::string> cells);
  // Prints the rows added since the last Flush() (the header first, once)
  // and forgets them.
  void Flush(std::ostream& out);
  // Flush(), then "(none)" when no row was ever added.
  void Print(std::ostream& out);

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
  std::vector<size_t> width_;  // set by the first Flush()
  bool printed_rows_ = false;
};

// A list reply printed as its pages arrive, byte for byte what PrintJson
// prints for the whole reply: {"<list_field>":[...],"<field>":..., ...}.
//   JsonListWriter list(env.out, "sessions");
//   for (const auto& s : page.sessions()) {                 // per page
//     if (!list.Add(s).ok()) return ...;                      // ReportJsonError
//   }
//   list.Finish({{"version", "\"5\""}});                  // fields after the list
class JsonListWriter {
 public:
  JsonListWriter(std::ostream& out, std::string list_field);
  // An error when protobuf cannot print the element (ReportJsonError).
  absl::Status Add(const google::protobuf::Message& element);
  // Closes the list and the object; `fields` are name and JSON value (those
  // at their default left out by the caller, as protobuf's printer does).
  void Finish(const std::vector<std::pair<std::string, std::string>>& fields);

 private:
  std::ostream& out_;
  const std::string list_field_;
  bool any_ = false;
};

// "NAME: value" lines, names aligned.
void PrintFields(std::ostream& out, const std::vector<std::pair<std::string, std::string>>& fields);

// The message as protobuf's JSON on one line, proto field names, fields at
// their default left out. Returns the exit code (1 when it cannot be printed,
// with a message on stderr).
int PrintJson(const OperatorArgs& args, CliEnv& env, const google::protobuf::Message& message);
// "edgepass <command>: cannot print the reply as JSON: ..." on stderr; the
// exit code (1).
int ReportJsonError(const OperatorArgs& args, CliEnv& env, const absl::Status& error);

// RFC 3339 in UTC, whole seconds ("2026-12-06T10:00:00Z"); "-" when unset.
std::string FormatTimestamp(const google::protobuf::Timestamp& ts);

}  // namespace edgepass::cli

#endif  // EDGEPASS_CLIENT_CLI_OPERATOR_OUTPUT_H_
