// libFuzzer target: core::Validate (and through it the token header, the
// claims scanner and every binding check) on an arbitrary request, against a
// fixed keyring (the public vector keys plus a retired one) and revocation set.
//
// Input, one item per line ('\n'):
//   line 1: "<now epoch seconds> [leeway seconds] [compat]"
//   line 2: the client IP as received
//   line 3: the request URI (path only, token in the first segment)
//   then, in any order:
//     "H name: value"   a request header        "Q name=value"  a query
//     parameter "S sid"           "J header-json"          "P payload-json"
// When a J or P line is present the token is built here and signed with the
// key its kid names, else the primary ("<sid>.<b64 J>.<b64 P>.<HS256>", J
// defaulting to the standard header), and line 3 is the path after it:
// mutations then reach the claims and bindings, past the signature check.
// Otherwise line 3 is used as is.
//
// Checks: no crash, leak or UB; a decision's path and session id view into the
// URI; an allowed request has a safe path.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "core/crypto.h"
#include "core/keyring.h"
#include "core/revocation.h"
#include "core/validator.h"

namespace {

using edgepass::core::KeyState;
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
    k.push_back({.id = "retired_1",
                 .value = std::string(128, 'a'),
                 .state = KeyState::kRetired,
                 .not_after = absl::FromUnixSeconds(1767225600)});
    auto ring = edgepass::core::Keyring::Create(std::move(k));
    if (!ring.ok()) std::abort();
    return new edgepass::core::Keyring(*std::move(ring));
  }();
  return *keys;
}

const edgepass::core::RevocationSet& Revoked() {
  static const edgepass::core::RevocationSet* set = [] {
    auto* s = new edgepass::core::RevocationSet;
    s->Add("revoked-session-1");
    s->Add("aaaaaaa1", absl::FromUnixSeconds(1767225600 + 3600));
    return s;
  }();
  return *set;
}

bool Within(absl::string_view part, absl::string_view whole) {
  if (part.empty()) return true;
  return part.data() >= whole.data() &&
         part.data() + part.size() <= whole.data() + whole.size();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<absl::string_view> lines = absl::StrSplit(input, '\n');
  while (lines.size() < 3) lines.emplace_back();

  int64_t now_seconds = 1767225600;
  edgepass::core::ValidateOptions options;
  {
    std::vector<absl::string_view> words =
        absl::StrSplit(lines[0], ' ', absl::SkipEmpty());
    if (!words.empty()) (void)absl::SimpleAtoi(words[0], &now_seconds);
    int64_t leeway = 0;
    if (words.size() > 1 && absl::SimpleAtoi(words[1], &leeway)) {
      options.leeway = absl::Seconds(leeway % 100000);
    }
    options.smd_geo_fallback_compat = words.size() > 2 && words[2] == "compat";
  }

  std::vector<std::pair<std::string, std::string>> headers, query;
  std::string sid, header_json, payload_json;
  bool build_token = false;
  for (size_t i = 3; i < lines.size(); ++i) {
    absl::string_view line = lines[i];
    if (line.size() < 2 || line[1] != ' ') continue;
    const char kind = line[0];
    line.remove_prefix(2);
    if (kind == 'H' || kind == 'Q') {
      const char sep = kind == 'H' ? ':' : '=';
      const size_t at = line.find(sep);
      std::string name(line.substr(0, at));
      std::string value(at == absl::string_view::npos ? ""
                                                      : line.substr(at + 1));
      if (kind == 'H' && !value.empty() && value[0] == ' ') value.erase(0, 1);
      (kind == 'H' ? headers : query)
          .emplace_back(std::move(name), std::move(value));
    } else if (kind == 'S') {
      sid = std::string(line);
    } else if (kind == 'J') {
      header_json = std::string(line);
      build_token = true;
    } else if (kind == 'P') {
      payload_json = std::string(line);
      build_token = true;
    }
  }

  std::string uri;
  if (build_token) {
    if (header_json.empty())
      header_json = edgepass::core::JwtHeaderJson(kPrimaryId);
    // Signed with the key the header names when the keyring has it (so the
    // secondary and retired keys are reached too), else with the primary.
    absl::string_view signing_key = kPrimaryValue;
    for (const SigningKey& key : Keys().keys()) {
      if (absl::StrContains(header_json,
                            absl::StrCat("\"kid\":\"", key.id, "\""))) {
        signing_key = key.value;
      }
    }
    const std::string signing_input =
        absl::StrCat(edgepass::core::Base64UrlEncode(header_json), ".",
                     edgepass::core::Base64UrlEncode(payload_json));
    const std::string signature = edgepass::core::Base64UrlEncode(
        edgepass::core::HmacSha256(signing_key, signing_input));
    uri = absl::StrCat("/", sid, sid.empty() ? "" : ".", signing_input, ".",
                       signature, lines[2]);
  } else {
    uri = std::string(lines[2]);
  }

  std::vector<edgepass::core::NameValue> header_views, query_views;
  for (const auto& [n, v] : headers) header_views.emplace_back(n, v);
  for (const auto& [n, v] : query) query_views.emplace_back(n, v);
  const std::string client_ip(lines[1]);
  const edgepass::core::EdgeRequest request{.uri = uri,
                                            .client_ip = client_ip,
                                            .headers = header_views,
                                            .query = query_views};

  const edgepass::core::Decision d = edgepass::core::Validate(
      request, Keys(), Revoked(), absl::FromUnixSeconds(now_seconds), options);

  if (!Within(d.path, uri) || !Within(d.session_id, uri)) std::abort();
  if (d.allow && (d.reason != edgepass::core::Reason::kOk ||
                  !edgepass::core::IsSafePath(d.path))) {
    std::abort();
  }
  if (edgepass::core::ReasonName(d.reason).empty()) std::abort();
  return 0;
}
