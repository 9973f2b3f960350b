#include "text/flags.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace edgepass::text {

const std::string* ParsedFlags::Get(absl::string_view name) const {
  for (auto it = flags_.rbegin(); it != flags_.rend(); ++it) {
    if (it->name == name) return &it->value;
  }
  return nullptr;
}

std::vector<std::string> ParsedFlags::All(absl::string_view name) const {
  std::vector<std::string> values;
  for (const Flag& flag : flags_) {
    if (flag.name == name) values.push_back(flag.value);
  }
  return values;
}

FlagParse TokenizeFlags(absl::Span<const std::string> args, absl::Span<const FlagSpec> specs,
                        FlagSyntax syntax) {
  FlagParse parse;
  ParsedFlags& parsed = parse.flags;
  auto fail = [&](FlagError::Kind kind, absl::string_view arg, absl::string_view name) {
    parse.error = FlagError{kind, std::string(arg), std::string(name)};
    return std::move(parse);
  };
  bool flags_done = false;
  for (size_t i = 0; i < args.size(); ++i) {
    absl::string_view arg = args[i];
    if (flags_done || arg == "-" || !absl::StartsWith(arg, "-")) {
      if (!syntax.positional) return fail(FlagError::Kind::kUnexpectedArgument, arg, "");
      parsed.positional_.emplace_back(arg);
      continue;
    }
    if (arg == "--") {
      if (!syntax.positional) return fail(FlagError::Kind::kUnknownFlag, arg, "");
      flags_done = true;
      continue;
    }
    if (arg == "-h" || arg == "--help") {
      parsed.help_ = true;
      if (syntax.help_stops) break;
      continue;
    }
    if (!absl::StartsWith(arg, "--")) return fail(FlagError::Kind::kUnknownFlag, arg, "");
    absl::string_view name = arg.substr(2);
    std::optional<absl::string_view> inline_value;
    if (size_t eq = name.find('='); eq != absl::string_view::npos) {
      inline_value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    absl::string_view written = arg.substr(0, name.size() + 2);
    const FlagSpec* spec = nullptr;
    for (const FlagSpec& s : specs) {
      if (s.name == name) spec = &s;
    }
    if (spec == nullptr) return fail(FlagError::Kind::kUnknownFlag, written, name);
    if ((spec->kind == FlagKind::kSingle || spec->kind == FlagKind::kSwitchOnce) && parsed.Has(name)) {
      return fail(FlagError::Kind::kGivenTwice, written, name);
    }
    std::string value;
    if (spec->kind == FlagKind::kSwitch || spec->kind == FlagKind::kSwitchOnce) {
      if (inline_value.has_value() && !syntax.switch_value) {
        return fail(FlagError::Kind::kValueOnSwitch, written, name);
      }
      value = inline_value.has_value() ? std::string(*inline_value) : "true";
    } else {
      if (inline_value.has_value()) {
        value = std::string(*inline_value);
      } else if (i + 1 < args.size()) {
        value = args[++i];
      } else {
        return fail(FlagError::Kind::kMissingValue, written, name);
      }
    }
    parsed.flags_.push_back({std::string(name), std::move(value)});
  }
  return parse;
}

absl::StatusOr<ParsedFlags> ParseFlags(absl::Span<const std::string> args, absl::Span<const FlagSpec> specs) {
  FlagParse parse = TokenizeFlags(args, specs);
  if (!parse.error.has_value()) return std::move(parse.flags);
  const FlagError& e = *parse.error;
  switch (e.kind) {
    case FlagError::Kind::kUnknownFlag:
    case FlagError::Kind::kUnexpectedArgument:  // not with FlagSyntax{}
      return absl::InvalidArgumentError(absl::StrCat("unknown flag '", e.arg, "'"));
    case FlagError::Kind::kMissingValue:
      return absl::InvalidArgumentError(absl::StrCat(e.arg, " needs a value"));
    case FlagError::Kind::kGivenTwice:
      return absl::InvalidArgumentError(absl::StrCat(e.arg, " given more than once"));
    case FlagError::Kind::kValueOnSwitch:
      return absl::InvalidArgumentError(absl::StrCat(e.arg, " takes no value"));
  }
  return absl::InternalError("unreachable");
}

}  // namespace edgepass::text
