// The small command-line flag parser the `edgepass` CLI uses: long flags
// (`--name value` or `--name=value`), repeatable flags, boolean switches and
// positional arguments, with errors that name the flag at fault.
//
//   constexpr FlagSpec kSpecs[] = {{"keyring"}, {"header",
//   FlagKind::kRepeated}}; absl::StatusOr<ParsedFlags> f = ParseFlags(args,
//   kSpecs); const std::string* keyring = f->Get("keyring");   // nullptr when
//   absent
#ifndef EDGEPASS_CLIENT_CLI_FLAGS_H_
#define EDGEPASS_CLIENT_CLI_FLAGS_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace edgepass::cli {

enum class FlagKind {
  kSingle,    // takes a value, at most once
  kRepeated,  // takes a value, any number of times
  kSwitch,    // no value
};

struct FlagSpec {
  absl::string_view name;  // without the leading "--"
  FlagKind kind = FlagKind::kSingle;
};

class ParsedFlags {
 public:
  // The value of a single flag, or nullptr when it was not given.
  const std::string* Get(absl::string_view name) const;
  // Every value of a flag, in command-line order (empty when not given).
  const std::vector<std::string>& All(absl::string_view name) const;
  bool Has(absl::string_view name) const { return values_.contains(name); }
  const std::vector<std::string>& positional() const { return positional_; }
  // True when -h or --help was given anywhere.
  bool help() const { return help_; }

 private:
  friend absl::StatusOr<ParsedFlags> ParseFlags(absl::Span<const std::string>,
                                                absl::Span<const FlagSpec>);
  absl::flat_hash_map<std::string, std::vector<std::string>> values_;
  std::vector<std::string> positional_;
  bool help_ = false;
};

// INVALID_ARGUMENT naming the flag for an unknown flag, a missing value, or a
// single flag given twice. "--" ends the flags; later arguments are positional.
absl::StatusOr<ParsedFlags> ParseFlags(absl::Span<const std::string> args,
                                       absl::Span<const FlagSpec> specs);

// Splits "NAME=VALUE" at the first '='. INVALID_ARGUMENT "--<flag> '<arg>':
// ..." when there is no '=' or NAME is empty.
absl::StatusOr<std::pair<std::string, std::string>> SplitNameValue(
    absl::string_view flag, absl::string_view arg);

}  // namespace edgepass::cli

#endif  // EDGEPASS_CLIENT_CLI_FLAGS_H_
