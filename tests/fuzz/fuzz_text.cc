// libFuzzer target: the text/ parsers and writers every address option,
// argv, JSON document and JSON writer goes through (text/host_port.h,
// text/flags.h, text/json_doc.h, text/json_string.h).
//
// Input: byte 0 picks the HOST:PORT rules (bit 0: port optional; bit 1: ports
// from 1) and the flag syntax (bits 2-4: positionals, switch values, help
// stops); the rest is the text (split at '\n' into argv for the flags).
// Checks, besides no crash, leak, UB or timeout:
//   - an address ParseHostPort accepts keeps its rules (host 1..253 bytes, the
//     port in range or -1 only where optional), and JoinHostPort writes one it
//     reads back as the same host and port;
//   - TokenizeFlags returns only declared flags, a switch's value "true"
//     unless switch values are allowed, positionals only where allowed, and
//     an error that names the argument at fault;
//   - ParseJson accepts exactly what nlohmann accepts, with or without
//     detail, and without detail its error never quotes the text;
//   - JsonString always writes one JSON string that nlohmann reads, and it
//     reads back as the same bytes exactly when IsValidUtf8 says so.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"
#include "text/flags.h"
#include "text/host_port.h"
#include "text/json_doc.h"
#include "text/json_string.h"

namespace {

[[noreturn]] void Fail(const char* what, absl::string_view text) {
  std::fprintf(stderr, "%s: [%.*s]\n", what, static_cast<int>(text.size()), text.data());
  std::abort();
}

void CheckHostPort(absl::string_view text, edgepass::text::HostPortRules rules) {
  absl::StatusOr<edgepass::text::HostPort> parsed = edgepass::text::ParseHostPort(text, rules);
  if (!parsed.ok()) return;
  if (parsed->host.empty() || parsed->host.size() > edgepass::text::kMaxHostBytes) Fail("host size", text);
  if (parsed->port == -1) {
    if (!rules.port_optional) Fail("no port where one is required", text);
    return;
  }
  if (parsed->port < rules.min_port || parsed->port > 65535) Fail("port out of range", text);
  const std::string joined = edgepass::text::JoinHostPort(parsed->host, parsed->port);
  absl::StatusOr<edgepass::text::HostPort> again = edgepass::text::ParseHostPort(joined, rules);
  if (!again.ok() || again->host != parsed->host || again->port != parsed->port) Fail("join does not read back", text);
}

void CheckFlags(absl::string_view text, edgepass::text::FlagSyntax syntax) {
  using edgepass::text::FlagKind;
  using edgepass::text::FlagSpec;
  constexpr FlagSpec kSpecs[] = {{"a"}, {"list", FlagKind::kRepeated}, {"on", FlagKind::kSwitch}};
  const std::vector<std::string> args = absl::StrSplit(text, '\n');
  const edgepass::text::FlagParse parse = edgepass::text::TokenizeFlags(args, kSpecs, syntax);
  if (parse.error.has_value()) {
    if (parse.error->arg.empty() && !absl::c_linear_search(args, "")) Fail("error names no argument", text);
    return;
  }
  for (const edgepass::text::ParsedFlags::Flag& flag : parse.flags.flags()) {
    const FlagSpec* spec = nullptr;
    for (const FlagSpec& s : kSpecs) {
      if (s.name == flag.name) spec = &s;
    }
    if (spec == nullptr) Fail("undeclared flag returned", text);
    if (spec->kind == FlagKind::kSwitch && !syntax.switch_value && flag.value != "true")
      Fail("switch value", text);
  }
  if (parse.flags.All("a").size() > 1) Fail("single flag twice", text);
  if (!syntax.positional && !parse.flags.positional().empty()) Fail("positional where none allowed", text);
}

void CheckJsonDoc(absl::string_view text) {
  const bool valid =
      !nlohmann::json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false).is_discarded();
  const absl::StatusOr<nlohmann::json> plain = edgepass::text::ParseJson(text, "doc");
  const absl::StatusOr<nlohmann::json> detailed = edgepass::text::ParseJson(text, "doc", {.detail = true});
  if (plain.ok() != valid || detailed.ok() != valid) Fail("ParseJson disagrees with nlohmann", text);
  if (!plain.ok() && plain.status().message() != "doc: not valid JSON")
    Fail("plain error quotes the text", text);
}

void CheckJsonString(absl::string_view text) {
  const std::string quoted = edgepass::text::JsonString(text);
  const nlohmann::json read = nlohmann::json::parse(quoted, nullptr, /*allow_exceptions=*/false);
  if (!read.is_string()) Fail("JsonString wrote no JSON string", text);
  if ((read.get<std::string>() == text) != edgepass::text::IsValidUtf8(text)) Fail("round trip vs IsValidUtf8", text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const absl::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  CheckHostPort(text, {.min_port = (data[0] & 2) != 0 ? 1 : 0, .port_optional = (data[0] & 1) != 0});
  CheckFlags(text, {.positional = (data[0] & 4) != 0,
                    .switch_value = (data[0] & 8) != 0,
                    .help_stops = (data[0] & 16) != 0});
  CheckJsonDoc(text);
  CheckJsonString(text);
  return 0;
}
