#include "core/keyring.h"

#include <functional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "core/crypto.h"
#include "core/json_internal.h"
#include "core/status_macros.h"
#include "text/json_doc.h"

namespace edgepass::core {
namespace {

using internal::Json;

constexpr size_t kMaxKeyringBytes = 1 << 20;

bool IsLowerHex(absl::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

absl::StatusOr<SigningKey> ParseOwnKey(const Json& j, const std::string& path) {
  if (!j.is_object()) return FieldError(path, "must be an object");
  SigningKey key;
  for (const auto& [name, value] : j.items()) {
    const std::string field = absl::StrCat(path, ".", name);
    if (name == "id") {
      EDGEPASS_RETURN_IF_ERROR(internal::GetString(value, field, &key.id));
    } else if (name == "value") {
      EDGEPASS_RETURN_IF_ERROR(internal::GetString(value, field, &key.value));
    } else if (name == "state") {
      std::string state;
      EDGEPASS_RETURN_IF_ERROR(internal::GetString(value, field, &state));
      auto parsed = ParseKeyState(state);
      if (!parsed.ok()) return FieldError(field, parsed.status().message());
      key.state = *parsed;
    } else if (name == "foreign") {
      if (!value.is_boolean()) return FieldError(field, "must be true or false");
      key.foreign = value.get<bool>();
    } else if (name == "created_at" || name == "not_after") {
      if (!value.is_number_integer()) return FieldError(field, "must be integer epoch seconds");
      const absl::Time t = absl::FromUnixSeconds(value.get<int64_t>());
      (name == "created_at" ? key.created_at : key.not_after) = t;
    } else {
      return FieldError(field, "unknown field");
    }
  }
  return key;
}

}  // namespace

bool IsIdentifier(absl::string_view s, size_t max_length) {
  if (s.empty() || s.size() > max_length) return false;
  for (char c : s) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') return false;
  }
  return true;
}

bool IsValidKeyId(absl::string_view id) { return IsIdentifier(id, kMaxKeyIdLength); }

absl::string_view KeyStateName(KeyState state) {
  switch (state) {
    case KeyState::kPending: return "pending";
    case KeyState::kDistributed: return "distributed";
    case KeyState::kPrimary: return "primary";
    case KeyState::kSecondary: return "secondary";
    case KeyState::kRetired: return "retired";
  }
  return "unknown";
}

absl::StatusOr<KeyState> ParseKeyState(absl::string_view name) {
  for (KeyState s : {KeyState::kPending, KeyState::kDistributed, KeyState::kPrimary,
                     KeyState::kSecondary, KeyState::kRetired}) {
    if (KeyStateName(s) == name) return s;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown key state \"", name, "\" (pending|distributed|primary|secondary|retired)"));
}

absl::StatusOr<Keyring> Keyring::Create(std::vector<SigningKey> keys) {
  int primaries = 0;
  for (size_t i = 0; i < keys.size(); ++i) {
    const std::string path = absl::StrCat("keys[", i, "]");
    const SigningKey& k = keys[i];
    if (!IsValidKeyId(k.id)) {
      return FieldError(absl::StrCat(path, ".id"), "may hold only [A-Za-z0-9_-]");
    }
    if (k.value.size() != kKeyValueLength || !IsLowerHex(k.value)) {
      return FieldError(absl::StrCat(path, ".value"),
                        absl::StrCat("must be ", kKeyValueLength, " lower-case hex characters"));
    }
    for (size_t j = 0; j < i; ++j) {
      if (keys[j].id == k.id) {
        return FieldError(absl::StrCat(path, ".id"), absl::StrCat("duplicate key id \"", k.id, "\""));
      }
    }
    if (k.state == KeyState::kRetired && k.not_after == absl::InfiniteFuture()) {
      return FieldError(absl::StrCat(path, ".not_after"),
                        "a retired key needs not_after (retirement + longest token lifetime)");
    }
    if (k.foreign && k.state != KeyState::kDistributed) {
      return FieldError(absl::StrCat(path, ".state"), "a foreign key must be distributed");
    }
    if (k.state == KeyState::kPrimary && ++primaries > 1) {
      return FieldError(absl::StrCat(path, ".state"), "more than one primary key");
    }
  }
  Keyring ring;
  ring.keys_ = std::move(keys);
  for (const SigningKey& k : ring.keys_) {
    ring.encoded_headers_.push_back(Base64UrlEncode(JwtHeaderJson(k.id)));
    ring.mac_keys_.emplace_back(k.value);
  }
  return ring;
}

const SigningKey* Keyring::Find(absl::string_view id) const {
  for (const SigningKey& k : keys_) {
    if (k.id == id) return &k;
  }
  return nullptr;
}

const SigningKey* Keyring::FindByEncodedHeader(absl::string_view header_b64) const {
  for (size_t i = 0; i < keys_.size(); ++i) {
    if (encoded_headers_[i] == header_b64) return &keys_[i];
  }
  return nullptr;
}

std::string JwtHeaderJson(absl::string_view kid) {
  // Key ids are [A-Za-z0-9_-] (checked by Keyring::Create): no JSON escaping.
  return absl::StrCat(R"({"alg":"HS256","typ":"JWT","kid":")", kid, R"("})");
}

const HmacSha256Key* Keyring::MacKeyOf(const SigningKey* key) const {
  if (keys_.empty() || std::less<const SigningKey*>()(key, keys_.data()) ||
      !std::less<const SigningKey*>()(key, keys_.data() + keys_.size())) {
    return nullptr;
  }
  return &mac_keys_[static_cast<size_t>(key - keys_.data())];
}

const SigningKey* Keyring::Primary() const {
  for (const SigningKey& k : keys_) {
    if (k.state == KeyState::kPrimary) return &k;
  }
  return nullptr;
}

absl::StatusOr<Keyring> ParseKeyringJson(absl::string_view text) {
  EDGEPASS_ASSIGN_OR_RETURN(
      Json j, text::ParseJson(text, "keyring", {.max_bytes = kMaxKeyringBytes, .object = true}));
  std::vector<SigningKey> keys;
  if (j.contains("keys")) {
    for (const auto& [name, value] : j.items()) {
      if (name != "keys" && name != "version") return FieldError(name, "unknown field");
    }
    const Json& list = j["keys"];
    if (!list.is_array()) return FieldError("keys", "must be a list");
    for (size_t i = 0; i < list.size(); ++i) {
      EDGEPASS_ASSIGN_OR_RETURN(SigningKey k, ParseOwnKey(list[i], absl::StrCat("keys[", i, "]")));
      keys.push_back(std::move(k));
    }
  } else if (j.contains("primary")) {
    // SMD's keys object: {"primary":{"uuid","value"},"secondary":{"uuid","value"}}.
    for (const auto& [alias, value] : j.items()) {
      if (alias != "primary" && alias != "secondary") {
        return FieldError(alias, "unknown key alias (primary|secondary)");
      }
      if (!value.is_object() || !value.contains("uuid") || !value.contains("value")) {
        return FieldError(alias, "must be {\"uuid\":..., \"value\":...}");
      }
      SigningKey k;
      EDGEPASS_RETURN_IF_ERROR(internal::GetString(value["uuid"], alias + ".uuid", &k.id));
      EDGEPASS_RETURN_IF_ERROR(internal::GetString(value["value"], alias + ".value", &k.value));
      k.state = alias == "primary" ? KeyState::kPrimary : KeyState::kSecondary;
      keys.push_back(std::move(k));
    }
  } else {
    return absl::InvalidArgumentError(
        "keyring: expected {\"keys\":[...]} or SMD's {\"primary\":{...},\"secondary\":{...}}");
  }
  return Keyring::Create(std::move(keys));
}

std::string KeyringToJson(const Keyring& keyring) {
  Json list = Json::array();
  for (const SigningKey& k : keyring.keys()) {
    Json o = {{"id", k.id},
              {"value", k.value},
              {"state", std::string(KeyStateName(k.state))},
              {"created_at", absl::ToUnixSeconds(k.created_at)}};
    if (k.not_after != absl::InfiniteFuture()) o["not_after"] = absl::ToUnixSeconds(k.not_after);
    if (k.foreign) o["foreign"] = true;
    list.push_back(std::move(o));
  }
  return Json{{"version", 1}, {"keys", std::move(list)}}.dump(2) + "\n";
}

SigningKey GenerateSigningKey(absl::Time now, KeyState state, RandomSource& random) {
  uint8_t id_bytes[10];
  uint8_t value_bytes[64];
  random.Fill(absl::MakeSpan(id_bytes));
  random.Fill(absl::MakeSpan(value_bytes));
  SigningKey key;
  key.id = absl::StrCat(absl::FormatTime("%Y%m%d", now, absl::UTCTimeZone()), "_",
                        HexEncode(absl::string_view(reinterpret_cast<char*>(id_bytes), 10)));
  key.value = HexEncode(absl::string_view(reinterpret_cast<char*>(value_bytes), 64));
  key.state = state;
  key.created_at = now;
  return key;
}

}  // namespace edgepass::core
