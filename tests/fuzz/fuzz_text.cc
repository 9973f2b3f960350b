// libFuzzer target: the text/ parsers and writers every address option and
// JSON writer goes through (text/host_port.h, text/json_string.h).
//
// Input: byte 0 picks the HOST:PORT rules (bit 0: port optional; bit 1: ports
// from 1); the rest is the text.
// Checks, besides no crash, leak, UB or timeout:
//   - an address ParseHostPort accepts keeps its rules (host 1..253 bytes, the
//     port in range or -1 only where optional), and JoinHostPort writes one it
//     reads back as the same host and port;
//   - JsonString always writes one JSON string that nlohmann reads, and it
//     reads back as the same bytes exactly when IsValidUtf8 says so.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"
#include "text/host_port.h"
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
  CheckJsonString(text);
  return 0;
}
