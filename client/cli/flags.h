// The CLI's flags: text/flags.h's tokenizer in its default wording (the CLI
// and the load tool read their argv with it), and NAME=VALUE arguments.
//
//   constexpr FlagSpec kSpecs[] = {{"keyring"}, {"header", FlagKind::kRepeated}};
//   absl::StatusOr<ParsedFlags> f = ParseFlags(args, kSpecs);
//   for (const std::string& h : f->All("header")) { auto name_value = SplitNameValue("header", h); }
#ifndef EDGEPASS_CLIENT_CLI_FLAGS_H_
#define EDGEPASS_CLIENT_CLI_FLAGS_H_

#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "text/flags.h"

namespace edgepass::cli {

using text::FlagKind;
using text::FlagSpec;
using text::ParsedFlags;
using text::ParseFlags;

// Splits "NAME=VALUE" at the first '='. INVALID_ARGUMENT "--<flag> '<arg>':
// ..." when there is no '=' or NAME is empty.
absl::StatusOr<std::pair<std::string, std::string>> SplitNameValue(absl::string_view flag,
                                                                   absl::string_view arg);

}  // namespace edgepass::cli

#endif  // EDGEPASS_CLIENT_CLI_FLAGS_H_
