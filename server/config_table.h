// The server's options, each declared once: its config-file key (from which
// the flag and the environment variable are derived), the value it takes,
// its help line and where it lands in ServerOptions. ParseServerOptions,
// HelpText and ConfigurationMarkdown all read this one table.
//
//   for (const ConfigOption& option : ConfigTable()) {
//     if (option.Flag() == arg) EDGEPASS_RETURN_IF_ERROR(option.Apply(v, arg,
//     &o));
//   }
#ifndef EDGEPASS_SERVER_CONFIG_TABLE_H_
#define EDGEPASS_SERVER_CONFIG_TABLE_H_

#include <string>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/config.h"

namespace edgepass::server::config_internal {

// An integer option and its inclusive range.
struct IntField {
  int ServerOptions::*field;
  int min;
  int max;
};

// A duration option and its range, declared once: --help and the docs show
// it where the help says "{range}", and ValidateServerOptions checks it
// ("<key>: must be ...") once every layer is read.
struct DurationField {
  absl::Duration ServerOptions::*field;
  absl::Duration min = absl::ZeroDuration();      // 0: any positive duration
  absl::Duration max = absl::InfiniteDuration();  // infinite: no upper bound
  bool off = false;                               // 0 (or "0s") turns the feature off
};

// A text option that takes one of a few words.
struct ChoiceField {
  std::string ServerOptions::*field;
  std::vector<std::string> choices;
};

// Where a value lands, and so how it is parsed: text as given, an integer in
// range, a positive duration ("30s", or 0 for off) in range, a boolean
// ("true"/"false"/"1"/"0"; a switch on the command line), a comma list, a
// word from a list. monostate: handled by the parser itself (--config).
using ConfigField =
    std::variant<std::monostate, std::string ServerOptions::*, IntField, DurationField, bool ServerOptions::*,
                 std::vector<std::string> ServerOptions::*, ChoiceField>;

struct ConfigOption {
  // Config-file key, e.g. "grpc_addr"; the flag is "--grpc-addr" and the
  // environment variable "EDGEPASS_GRPC_ADDR".
  std::string key;
  // What the flag takes, shown in --help and the docs ("HOST:PORT", "DUR");
  // empty for a switch (a bool field).
  std::string value_name;
  // One or two sentences for --help and the docs table (Markdown code spans
  // allowed; --help drops the backquotes); "{range}" stands for a duration's
  // range (HelpShown).
  std::string help;
  // More for the docs table only (Markdown); may be empty.
  std::string details;
  ConfigField field;
  // False for --config, which names the file and cannot be in it.
  bool in_config_file = true;

  std::string Flag() const;  // "--grpc-addr"
  std::string Env() const;   // "EDGEPASS_GRPC_ADDR"
  bool IsSwitch() const;     // a bool: "--flag" alone means true
  // The default as shown in --help and the docs ("127.0.0.1:50051", "1h");
  // empty when the option is unset by default.
  std::string DefaultShown() const;

  // `help` with "{range}" replaced by the range of a DurationField:
  // "up to 5m", "1s to 24h", "0: off; 1s to 8784h".
  std::string HelpShown() const;
  // A DurationField's value in `options` within its range: OK, or
  // INVALID_ARGUMENT "<key>: must be at most 5m" (or "must be 1s to 24h",
  // "must be 0 (off) or 1s to 24h"). OK for every other option.
  absl::Status CheckRange(const ServerOptions& options) const;

  // Parses `value` into `options`. INVALID_ARGUMENT "<where>: <reason>" on a
  // value that does not parse or is out of range.
  absl::Status Apply(const std::string& value, absl::string_view where,
                     ServerOptions* options) const;
};

// Every option, in the order --help and the docs list them (also the order
// environment variables are applied in).
const std::vector<ConfigOption>& ConfigTable();

// The option with this config key or flag ("--grpc-addr"); nullptr when
// there is none.
const ConfigOption* FindByKey(absl::string_view key);
const ConfigOption* FindByFlag(absl::string_view flag);

}  // namespace edgepass::server::config_internal

#endif  // EDGEPASS_SERVER_CONFIG_TABLE_H_
