// libFuzzer target: `edgepass token explain`'s input parsing, token decoding,
// report and text rendering (client/explain/token_explain.h) on arbitrary input,
// against a fixed keyring (the public vector keys).
//
// Input, one item per line ('\n'):
//   line 1: the token, request path or URL as an operator would paste it
//   line 2: the client IP as received
//   line 3: --path (may be empty)
//   then, in any order: "H name: value" (header), "Q name=value" (query),
//   "E ip" (--expected-ip), "X name: value" (--expected-header).
//
// Checks: no crash, leak or UB; a parsed input gives a report whose decision
// is core::Validate's for the same request, and it renders.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "client/explain/token_explain.h"
#include "client/explain/token_explain_text.h"
#include "core/keyring.h"
#include "core/revocation.h"
#include "core/validator.h"

namespace {

using edgepass::core::KeyState;
using edgepass::core::SigningKey;

// The public keys of ../shared/vectors (smd_tokens_public.json).
using edgepass::core::SigningKey;

// The public keys of ../shared/vectors (smd_tokens_public.json).
constexpr char kPrimaryId[] = "20250101_3f9a2c4e1b7d805e6a12";
constexpr char kPrimaryValue[] =
    "3fe0ea10a240cf5d3bf4532355f39b6e187a8a5ca8c9c21789306dd3c7c62fe43cc3d38b06"
    "3d90f6922a39b3a959b8"
    "375e8812f9c0f3ea93f8e44a63a686194d";
constexpr char kSecondaryId[] = "20241215_7c1e0b9d4a2f63185e0b";
constexpr char kSecondaryValue[] =
    "aecafb917bd116f68d63a3f92611be5af832cccb2158d96fe62f0ba66136e866a2ddb25e4a"
    "07a629936e268e45aea1"
    "cc63ab144aef049bd813dff4d3ccc050d7";

const edgepass::core::Keyring& Keys() {
  static const edgepass::core::Keyring* keys = [] {
    std::vector<SigningKey> k;
    k.push_back({.id = kPrimaryId,
                 .value = kPrimaryValue,
                 .state = KeyState::kPrimary});
    k.push_back({.id = kSecondaryId,
                 .value = kSecondaryValue,
                 .state = KeyState::kSecondary});
    auto ring = edgepass::core::Keyring::Create(std::move(k));
    if (!ring.ok()) std::abort();
    return new edgepass::core::Keyring(*std::move(ring));
  }();
  return *keys;
}

std::pair<std::string, std::string> Split(absl::string_view text, char sep) {
  const size_t at = text.find(sep);
  if (at == absl::string_view::npos) return {std::string(text), ""};
  absl::string_view value = text.substr(at + 1);
  if (!value.empty() && value[0] == ' ') value.remove_prefix(1);
  return {std::string(text.substr(0, at)), std::string(value)};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view in(reinterpret_cast<const char*>(data), size);
  std::vector<absl::string_view> lines = absl::StrSplit(in, '\n');
  lines.resize(std::max<size_t>(lines.size(), 3));
  auto target = edgepass::explain::ParseExplainTarget(lines[0], lines[2]);
  if (!target.ok()) return 0;
  edgepass::explain::ExplainRequest request{.target = *target, .client_ip = std::string(lines[1])};
  std::optional<edgepass::explain::ExplainRequest> expected;
  for (size_t i = 3; i < lines.size(); ++i) {
    const absl::string_view l = lines[i];
    if (l.size() < 2 || l[1] != ' ') continue;
    const absl::string_view rest = l.substr(2);
    switch (l[0]) {
      case 'H':
        request.headers.push_back(Split(rest, ':'));
        break;
      case 'Q':
        request.query.push_back(Split(rest, '='));
        break;
      case 'E':
        if (!expected) expected = request;
        expected->client_ip = std::string(rest);
        break;
      case 'X':
        if (!expected) expected = request;
        expected->headers.push_back(Split(rest, ':'));
        break;
      default:
        break;
    }
  }
  static const edgepass::core::RevocationSet revoked;
  const absl::Time now = absl::FromUnixSeconds(1767225600);
  const nlohmann::ordered_json report =
      edgepass::explain::ExplainToken(request, expected ? &*expected : nullptr, Keys(), revoked, now);
  const std::string text = edgepass::explain::RenderExplanation(report);
  if (text.empty()) std::abort();
  (void)report.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return 0;
}
