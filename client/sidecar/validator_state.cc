#include "client/sidecar/validator_state.h"

#include <limits>
#include <memory>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "text/json_string.h"

namespace edgepass::sidecar {
namespace {

using Json = nlohmann::json;

constexpr absl::string_view kFormat = "edgepass-validator-snapshot";
constexpr int kFormatVersion = 1;

absl::Status Corrupt(absl::string_view field, absl::string_view message) {
  return absl::DataLossError(absl::StrCat("snapshot: ", field, ": ", message));
}

}  // namespace

std::shared_ptr<const client::RevokedSessions> EmptyRevocationSet() {
  return client::RevokedSessions::Empty();
}

std::string SnapshotToJson(const ValidatorState& state) {
  std::string out;
  out.reserve(256 + state.revoked->size() * 36);
  absl::StrAppend(
      &out, "{\"format\":\"", kFormat, "\",\"format_version\":", kFormatVersion,
      ",\"version\":", state.version,
      ",\"keyring_fingerprint\":", text::JsonString(state.keyring_fingerprint),
      ",\n\"keyring\":", core::KeyringToJson(state.keyring),
      ",\n\"revoked\":[");
  bool first = true;
  state.revoked->ForEach([&](absl::string_view id, absl::Time expires_at) {
    absl::StrAppend(&out, first ? "\n[" : ",\n[", text::JsonString(id), ",");
    if (expires_at == absl::InfiniteFuture()) {
      out += "null]";
    } else {
      absl::StrAppend(&out, absl::ToUnixSeconds(expires_at), "]");
    }
    first = false;
  });
  out += "]}\n";
  return out;
}

namespace {

// Everything but "revoked", from a parsed object.
absl::StatusOr<ValidatorState> ParseHead(const Json& j) {
  if (!j.is_object()) return Corrupt("file", "must be a JSON object");
  auto format = j.find("format");
  if (format == j.end() || !format->is_string() ||
      format->get<std::string>() != kFormat) {
    return Corrupt("format", absl::StrCat("must be \"", kFormat, "\""));
  }
  auto format_version = j.find("format_version");
  if (format_version == j.end() || !format_version->is_number_integer() ||
      format_version->get<int64_t>() != kFormatVersion) {
    return Corrupt("format_version", absl::StrCat("must be ", kFormatVersion));
  }
  ValidatorState state;
  auto version = j.find("version");
  if (version == j.end() || !version->is_number_unsigned()) {
    return Corrupt("version", "must be a non-negative integer");
  }
  state.version = version->get<uint64_t>();
  auto fingerprint = j.find("keyring_fingerprint");
  if (fingerprint != j.end()) {
    if (!fingerprint->is_string())
      return Corrupt("keyring_fingerprint", "must be a string");
    state.keyring_fingerprint = fingerprint->get<std::string>();
  }
  auto keyring = j.find("keyring");
  if (keyring == j.end() || !keyring->is_object())
    return Corrupt("keyring", "must be an object");
  absl::StatusOr<core::Keyring> keys = core::ParseKeyringJson(keyring->dump());
  if (!keys.ok()) return Corrupt("keyring", keys.status().message());
  state.keyring = *std::move(keys);
  return state;
}

// The whole document through nlohmann (any JSON layout; about 1.4 s for a
// million entries).
absl::StatusOr<ValidatorState> ParseWithDom(absl::string_view text) {
  Json j = Json::parse(text.begin(), text.end(), nullptr,
                       /*allow_exceptions=*/false);
  if (j.is_discarded())
    return Corrupt("file", "not valid JSON (truncated or damaged)");
  absl::StatusOr<ValidatorState> head = ParseHead(j);
  if (!head.ok()) return head.status();
  ValidatorState state = *std::move(head);
  auto revoked = j.find("revoked");
  if (revoked == j.end() || !revoked->is_array())
    return Corrupt("revoked", "must be a list");
  core::RevocationSet set;
  set.Reserve(revoked->size());
  for (size_t i = 0; i < revoked->size(); ++i) {
    const Json& e = (*revoked)[i];
    if (!e.is_array() || e.size() != 2 || !e[0].is_string() ||
        !(e[1].is_null() || e[1].is_number_integer())) {
      return Corrupt(absl::StrCat("revoked[", i, "]"),
                     "must be [\"session-id\", EPOCH|null]");
    }
    const absl::Time expires = e[1].is_null()
                                   ? absl::InfiniteFuture()
                                   : absl::FromUnixSeconds(e[1].get<int64_t>());
    if (!set.Add(e[0].get_ref<const std::string&>(), expires)) {
      return Corrupt(absl::StrCat("revoked[", i, "]"), "invalid session id");
    }
  }
  state.revoked = client::RevokedSessions::Share(std::move(set));
  return state;
}

// Reads SnapshotToJson's "revoked" entries from `in` ("\n[\"id\",N|null],...]")
// up to and including the closing ']'. False when the text is not in exactly
// that layout.
bool ScanRevoked(absl::string_view* in, core::RevocationSet* out,
                 std::string* error) {
  absl::string_view s = *in;
  auto skip_ws = [&s] {
    while (!s.empty() &&
           (s[0] == '\n' || s[0] == ' ' || s[0] == '\r' || s[0] == '\t')) {
      s.remove_prefix(1);
    }
  };
  auto fail = [&](size_t index, absl::string_view what) {
    *error = absl::StrCat("revoked[", index, "]: ", what);
    return false;
  };
  skip_ws();
  if (!s.empty() && s[0] == ']') {
    *in = s.substr(1);
    return true;
  }
  std::string unescaped;
  for (size_t i = 0;; ++i) {
    skip_ws();
    if (s.size() < 2 || s[0] != '[' || s[1] != '"')
      return fail(i, "must be [\"session-id\", EPOCH|null]");
    s.remove_prefix(2);
    const size_t end = s.find('"');
    if (end == absl::string_view::npos)
      return fail(i, "unterminated session id");
    absl::string_view id = s.substr(0, end);
    if (id.find('\\') != absl::string_view::npos) {
      // An escaped id (rare): let the JSON parser decode the string.
      size_t close = 0;
      while ((close = s.find('"', close)) != absl::string_view::npos) {
        size_t backslashes = 0;
        while (close > backslashes && s[close - 1 - backslashes] == '\\')
          ++backslashes;
        if (backslashes % 2 == 0) break;
        ++close;
      }
      if (close == absl::string_view::npos)
        return fail(i, "unterminated session id");
      std::string quoted = absl::StrCat("\"", s.substr(0, close), "\"");
      Json decoded = Json::parse(quoted, nullptr, /*allow_exceptions=*/false);
      if (!decoded.is_string()) return fail(i, "bad session id string");
      unescaped = decoded.get<std::string>();
      id = unescaped;
      s.remove_prefix(close + 1);
    } else {
      // As the JSON parser would: raw bytes must be UTF-8 (SnapshotToJson
      // writes nothing else), so every id read is one that writes back.
      if (!text::IsValidUtf8(id)) return fail(i, "session id is not valid UTF-8");
      s.remove_prefix(end + 1);
    }
    if (s.empty() || s[0] != ',')
      return fail(i, "must be [\"session-id\", EPOCH|null]");
    s.remove_prefix(1);
    absl::Time expires = absl::InfiniteFuture();
    if (absl::StartsWith(s, "null")) {
      s.remove_prefix(4);
    } else {
      size_t n = 0;
      if (!s.empty() && s[0] == '-') ++n;
      while (n < s.size() && s[n] >= '0' && s[n] <= '9') ++n;
      int64_t seconds;
      if (!absl::SimpleAtoi(s.substr(0, n), &seconds))
        return fail(i, "bad expiry");
      expires = absl::FromUnixSeconds(seconds);
      s.remove_prefix(n);
    }
    if (s.empty() || s[0] != ']')
      return fail(i, "must be [\"session-id\", EPOCH|null]");
    s.remove_prefix(1);
    if (!out->Add(id, expires)) return fail(i, "invalid session id");
    skip_ws();
    if (s.empty()) return fail(i + 1, "truncated");
    if (s[0] == ']') {
      *in = s.substr(1);
      return true;
    }
    if (s[0] != ',') return fail(i + 1, "expected ',' or ']'");
    s.remove_prefix(1);
  }
}

}  // namespace

absl::StatusOr<ValidatorState> ParseSnapshotJson(absl::string_view text) {
  // Fast path for the layout SnapshotToJson writes: the small head through
  // nlohmann, the (possibly million-entry) revoked list by a scanner.
  constexpr absl::string_view kRevokedKey = ",\n\"revoked\":[";
  const size_t at = text.find(kRevokedKey);
  if (at == absl::string_view::npos) return ParseWithDom(text);
  const std::string head_text = absl::StrCat(text.substr(0, at), "}");
  Json head_json = Json::parse(head_text, nullptr, /*allow_exceptions=*/false);
  if (head_json.is_discarded()) return ParseWithDom(text);
  absl::StatusOr<ValidatorState> head = ParseHead(head_json);
  if (!head.ok()) return head.status();
  ValidatorState state = *std::move(head);
  absl::string_view rest = text.substr(at + kRevokedKey.size());
  // About 30 bytes per entry: reserve once instead of regrowing.
  core::RevocationSet set;
  set.Reserve(rest.size() / 30 + 1);
  std::string error;
  if (!ScanRevoked(&rest, &set, &error)) return Corrupt("revoked", error);
  while (!rest.empty() && (rest[0] == '\n' || rest[0] == ' '))
    rest.remove_prefix(1);
  if (rest.empty() || rest[0] != '}')
    return Corrupt("file", "truncated after the revoked list");
  rest.remove_prefix(1);
  while (!rest.empty() && (rest.front() == '\n' || rest.front() == ' '))
    rest.remove_prefix(1);
  if (!rest.empty())
    return Corrupt("file", "unexpected text after the snapshot");
  state.revoked = client::RevokedSessions::Share(std::move(set));
  return state;
}

}  // namespace edgepass::sidecar
