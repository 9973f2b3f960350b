// Command-line flags as every edgepass program reads them: long flags
// (`--name value` or `--name=value`), repeatable flags, switches, positional
// arguments and "--", with -h/--help. The one tokenizer of the server's, the
// validator's, the CLI's and the load tool's argv; each program keeps its
// own wording of the errors, which come typed.
//
//   constexpr text::FlagSpec kSpecs[] = {{"keyring"}, {"header", text::FlagKind::kRepeated}};
//   absl::StatusOr<text::ParsedFlags> f = text::ParseFlags(args, kSpecs);
//   const std::string* keyring = f->Get("keyring");  // nullptr when absent
#ifndef EDGEPASS_TEXT_FLAGS_H_
#define EDGEPASS_TEXT_FLAGS_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace edgepass::text {

enum class FlagKind {
  kSingle,    // takes a value, at most once
  kRepeated,  // takes a value, any number of times
  kSwitch,    // no value ("true"), unless FlagSyntax::switch_value allows one; any number of times
  kSwitchOnce,  // a switch at most once
};

struct FlagSpec {
  absl::string_view name;  // without the leading "--"
  FlagKind kind = FlagKind::kSingle;
};

// What a program accepts around its flags.
struct FlagSyntax {
  // false: a non-flag argument is kUnexpectedArgument, and "--" (which would
  // start them) kUnknownFlag.
  bool positional = true;
  bool switch_value = false;  // true: "--switch=false" gives the switch "false"
  bool help_stops = false;    // true: nothing after -h/--help is read
};

struct FlagError {
  enum class Kind {
    kUnknownFlag,         // "--bogus", "-k": no such flag
    kMissingValue,        // a flag that takes a value is the last argument
    kGivenTwice,          // a kSingle or kSwitchOnce flag again
    kValueOnSwitch,       // "--json=yes" without FlagSyntax::switch_value
    kUnexpectedArgument,  // a positional argument without FlagSyntax::positional
  };
  Kind kind;
  // The argument at fault: a "--flag" without its "=VALUE" ("--bogus"), any
  // other argument whole ("-k=1", "extra", "--" where positionals are not
  // taken).
  std::string arg;
  // The flag's name without "--" ("bogus"); empty for a positional argument
  // and for a single-dash one.
  std::string name;
};

struct FlagParse;

class ParsedFlags {
 public:
  struct Flag {
    std::string name;
    std::string value;
  };
  // The value of a flag (its last), or nullptr when it was not given.
  const std::string* Get(absl::string_view name) const;
  // Every value of a flag, in command-line order (empty when not given).
  std::vector<std::string> All(absl::string_view name) const;
  bool Has(absl::string_view name) const { return Get(name) != nullptr; }
  // Every flag given, in command-line order.
  const std::vector<Flag>& flags() const { return flags_; }
  const std::vector<std::string>& positional() const { return positional_; }
  // True when -h or --help was given.
  bool help() const { return help_; }

 private:
  friend FlagParse TokenizeFlags(absl::Span<const std::string>, absl::Span<const FlagSpec>, FlagSyntax);
  std::vector<Flag> flags_;
  std::vector<std::string> positional_;
  bool help_ = false;
};

// The flags read, up to the first error if there is one.
struct FlagParse {
  ParsedFlags flags;
  std::optional<FlagError> error;
};

// Splits `args` by `specs`. "--" ends the flags; later arguments are
// positional. A switch's value is "true" (or its "=VALUE"
// under switch_value).
FlagParse TokenizeFlags(absl::Span<const std::string> args, absl::Span<const FlagSpec> specs,
                        FlagSyntax syntax = {});

// TokenizeFlags with FlagSyntax{} and the CLI's wording: INVALID_ARGUMENT
// "unknown flag '--bogus'", "--keyring needs a value", "--keyring given
// more than once", "--json takes no value".
absl::StatusOr<ParsedFlags> ParseFlags(absl::Span<const std::string> args, absl::Span<const FlagSpec> specs);

}  // namespace edgepass::text

#endif  // EDGEPASS_TEXT_FLAGS_H_
