#include "client/cli/flags.h"

#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace edgepass::cli {

const std::string* ParsedFlags::Get(absl::string_view name) const {
  auto it = values_.find(name);
  if (it == values_.end() || it->second.empty()) return nullptr;
  return &it->second.back();
}

const std::vector<std::string>& ParsedFlags::All(absl::string_view name) const {
  static const std::vector<std::string>* const kEmpty =
      new std::vector<std::string>();
  auto it = values_.find(name);
  return it == values_.end() ? *kEmpty : it->second;
}

absl::StatusOr<ParsedFlags> ParseFlags(absl::Span<const std::string> args,
                                       absl::Span<const FlagSpec> specs) {
  ParsedFlags parsed;
  bool flags_done = false;
  for (size_t i = 0; i < args.size(); ++i) {
    absl::string_view arg = args[i];
    if (flags_done || arg == "-" || !absl::StartsWith(arg, "-")) {
      parsed.positional_.emplace_back(arg);
      continue;
    }
    if (arg == "--") {
      flags_done = true;
      continue;
    }
    if (arg == "-h" || arg == "--help") {
      parsed.help_ = true;
      continue;
    }
    if (!absl::StartsWith(arg, "--")) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown flag '", arg, "'"));
    }
    absl::string_view body = arg.substr(2);
    absl::string_view name = body;
    std::optional<std::string> inline_value;
    if (size_t eq = body.find('='); eq != absl::string_view::npos) {
      name = body.substr(0, eq);
      inline_value = std::string(body.substr(eq + 1));
    }
    const FlagSpec* spec = nullptr;
    for (const FlagSpec& s : specs) {
      if (s.name == name) spec = &s;
    }
    if (spec == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown flag '--", name, "'"));
    }
    std::vector<std::string>& values = parsed.values_[std::string(name)];
    if (spec->kind == FlagKind::kSwitch) {
      if (inline_value.has_value()) {
        return absl::InvalidArgumentError(
            absl::StrCat("--", name, " takes no value"));
      }
      values.emplace_back("true");
      continue;
    }
    if (spec->kind == FlagKind::kSingle && !values.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", name, " given more than once"));
    }
    if (inline_value.has_value()) {
      values.push_back(*std::move(inline_value));
    } else if (i + 1 < args.size()) {
      values.push_back(args[++i]);
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("--", name, " needs a value"));
    }
  }
  return parsed;
}

absl::StatusOr<std::pair<std::string, std::string>> SplitNameValue(
    absl::string_view flag, absl::string_view arg) {
  size_t eq = arg.find('=');
  if (eq == absl::string_view::npos || eq == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, " '", arg, "': expected NAME=VALUE"));
  }
  return std::make_pair(std::string(arg.substr(0, eq)),
                        std::string(arg.substr(eq + 1)));
}

}  // namespace edgepass::cli
