#include "server/adapters/aws/smd_secret_store.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "logging/json_log.h"
#include "nlohmann/json.hpp"
#include "server/adapters/aws/secrets_manager_secret_store.h"

namespace edgepass::server {
namespace {

std::string PairJson(absl::string_view id, absl::string_view value) {
  nlohmann::json j = nlohmann::json::object();
  j[std::string(id)] = std::string(value);
  return j.dump();
}

bool IsKeyValue(absl::string_view v) {
  if (v.size() != core::kKeyValueLength) return false;
  for (char c : v) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool Holds(const core::Keyring& keyring, const SmdKeyPair& pair) {
  const core::SigningKey* k = keyring.Find(pair.id);
  return k != nullptr && k->value == pair.value;
}

const core::SigningKey* FirstWithState(const core::Keyring& keyring, core::KeyState state) {
  for (const core::SigningKey& k : keyring.keys()) {
    if (k.state == state) return &k;
  }
  return nullptr;
}

}  // namespace

absl::StatusOr<std::optional<SmdKeyPair>> ParseSmdSecret(absl::string_view secret_name,
                                                         absl::string_view text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || j.size() != 1 || !j.begin().value().is_string()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "secret ", secret_name,
        ": must be a JSON object with exactly one \"<key id>\": \"<key value>\" pair"));
  }
  SmdKeyPair pair{j.begin().key(), j.begin().value().get<std::string>()};
  if (pair.id == kSmdInitializedKey && pair.value == kSmdInitializedValue) return std::nullopt;
  if (!core::IsValidKeyId(pair.id)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "secret ", secret_name, ": key id may hold only [A-Za-z0-9_-], at most ",
        core::kMaxKeyIdLength, " characters"));
  }
  if (!IsKeyValue(pair.value)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "secret ", secret_name, ": the value of key ", pair.id, " is not a key (",
        core::kKeyValueLength, " lower-case hex characters, or SMD's {\"", kSmdInitializedKey,
        "\":\"", kSmdInitializedValue, "\"} placeholder)"));
  }
  return std::optional<SmdKeyPair>(std::move(pair));
}

SmdSecretStore::SmdSecretStore(std::shared_ptr<aws::SecretsManagerClient> client,
                               std::string stack_name)
    : client_(std::move(client)), stack_(std::move(stack_name)) {}

absl::StatusOr<SmdSecretStore::Stored> SmdSecretStore::ReadStored() {
  Stored s;
  struct Slot {
    std::string name;
    std::optional<SmdKeyPair>* out;
  };
  std::optional<SmdKeyPair> primary;
  for (Slot slot : {Slot{primary_secret(), &primary}, Slot{secondary_secret(), &s.secondary},
                    Slot{temporary_secret(), &s.temporary}}) {
    absl::StatusOr<aws::SecretValue> v = client_->GetSecretValue(slot.name, aws::kStageCurrent);
    if (!v.ok()) return v.status();
    EDGEPASS_ASSIGN_OR_RETURN(*slot.out, ParseSmdSecret(slot.name, v->secret_string));
  }
  if (!primary) {
    return absl::FailedPreconditionError(
        absl::StrCat("secret ", primary_secret(), ": holds the INITIALIZED placeholder, not a key"));
  }
  s.primary = std::move(*primary);
  absl::StatusOr<aws::SecretValue> extra = client_->GetSecretValue(edgepass_secret(), aws::kStageCurrent);
  if (extra.ok()) {
    EDGEPASS_ASSIGN_OR_RETURN(s.edgepass, ParseStoredKeyring(edgepass_secret(), extra->secret_string));
  } else if (!absl::IsNotFound(extra.status())) {
    return extra.status();
  }
  return s;
}

bool SmdSecretStore::IsSmdRotationKey(const Stored& s) {
  if (!s.temporary.has_value()) return false;
  const SmdKeyPair& t = *s.temporary;
  if (t.id == s.primary.id && t.value == s.primary.value) return false;  // mid-swap, or our promotion
  if (s.secondary && t.id == s.secondary->id && t.value == s.secondary->value) return false;
  return !(s.edgepass.has_value() && Holds(*s.edgepass, t));
}

absl::StatusOr<core::Keyring> SmdSecretStore::ReadUncounted() {
  EDGEPASS_ASSIGN_OR_RETURN(Stored s, ReadStored());
  if (IsSmdRotationKey(s)) {
    absl::MutexLock lock(&log_mu_);
    if (logged_smd_key_ != s.temporary->id) {
      logged_smd_key_ = s.temporary->id;
      logging::Info("smd_rotation_key_ignored")
          .Str("secret", temporary_secret())
          .Str("key", s.temporary->id)
          .Str("note", "SMD's rotation put this key there; validators accept it now (distributed, foreign), "
                       "edgepass signs with it once SMD's swap makes it primary");
    }
  }
  // SMD's waiting key goes to the validators ahead of SMD's swap (which
  // makes it primary, and so the key issuers sign with), as distributed and
  // foreign: no issuer signs with it and edgepass's rotator never promotes,
  // revokes or stores it.
  auto with_smd_key = [&](std::vector<core::SigningKey> keys) {
    if (!IsSmdRotationKey(s)) return keys;
    for (const core::SigningKey& k : keys) {
      if (k.id == s.temporary->id) return keys;  // same id, other value: not ours to shadow
    }
    keys.push_back({.id = s.temporary->id,
                    .value = s.temporary->value,
                    .state = core::KeyState::kDistributed,
                    .foreign = true});
    return keys;
  };
  if (s.edgepass.has_value()) {
    const core::SigningKey* p = s.edgepass->Primary();
    if (p->id == s.primary.id && p->value == s.primary.value) {
      if (!IsSmdRotationKey(s)) return *std::move(s.edgepass);
      absl::StatusOr<core::Keyring> ring = core::Keyring::Create(with_smd_key(s.edgepass->keys()));
      if (!ring.ok()) {
        return absl::FailedPreconditionError(
            absl::StrCat("SMD secrets of stack ", stack_, ": ", ring.status().message()));
      }
      return ring;
    }
  }
  std::vector<core::SigningKey> keys;
  keys.push_back({.id = s.primary.id, .value = s.primary.value, .state = core::KeyState::kPrimary});
  auto known = [&](const std::string& id) {
    for (const core::SigningKey& k : keys) {
      if (k.id == id) return true;
    }
    return false;
  };
  if (s.secondary && !known(s.secondary->id)) {
    keys.push_back(
        {.id = s.secondary->id, .value = s.secondary->value, .state = core::KeyState::kSecondary});
  }
  // Only a pending key edgepass stored itself (its rotation stopped before
  // the promotion) is resumed; a key of SMD's own rotation is not edgepass's
  // to distribute or promote: SMD's swap makes it primary.
  if (s.temporary && !known(s.temporary->id) && !IsSmdRotationKey(s)) {
    const core::SigningKey* own = s.edgepass->Find(s.temporary->id);
    core::SigningKey k = *own;
    if (k.state != core::KeyState::kDistributed) k.state = core::KeyState::kPending;
    k.not_after = absl::InfiniteFuture();
    keys.push_back(std::move(k));
  }
  if (s.edgepass.has_value()) {  // keep what edgepass retired and SMD's secrets no longer hold
    for (const core::SigningKey& k : s.edgepass->keys()) {
      if (k.state == core::KeyState::kRetired && !known(k.id)) keys.push_back(k);
    }
  }
  absl::StatusOr<core::Keyring> ring = core::Keyring::Create(with_smd_key(std::move(keys)));
  if (!ring.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("SMD secrets of stack ", stack_, ": ", ring.status().message()));
  }
  return ring;
}

absl::StatusOr<core::Keyring> SmdSecretStore::ReadKeyring() {
  reads_.fetch_add(1, std::memory_order_relaxed);
  absl::StatusOr<core::Keyring> keys = ReadUncounted();
  if (!keys.ok()) read_errors_.fetch_add(1, std::memory_order_relaxed);
  return keys;
}

absl::Status SmdSecretStore::PutIfChanged(const std::string& secret, const std::string& text,
                                          const std::string& keyring_json) {
  absl::StatusOr<aws::SecretValue> v = client_->GetSecretValue(secret, aws::kStageCurrent);
  if (v.ok() && v->secret_string == text) return absl::OkStatus();
  // The request token names this write of this keyring: a retry of it is
  // idempotent, yet the same text written again by a later rotation (the
  // INITIALIZED placeholder after every promotion) is a new version. A token
  // from the text alone would make that a no-op that leaves AWSCURRENT on
  // the old version.
  const std::string token = ContentRequestToken(absl::StrCat(keyring_json, "\n", secret, "\n", text));
  if (absl::IsNotFound(v.status())) return client_->CreateSecret(secret, text, token).status();
  if (!v.ok()) return v.status();
  // No VersionStages: AWSCURRENT moves to the new version, as SMD's own writes do.
  return client_->PutSecretValue(secret, text, token, {}).status();
}

absl::Status SmdSecretStore::WriteKeyring(const core::Keyring& given) {
  // A foreign key is SMD's, read from TemporarySecret: never stored as ours
  // (EdgepassKeyring holding it would make it a key edgepass stored).
  std::vector<core::SigningKey> own;
  for (const core::SigningKey& k : given.keys()) {
    if (!k.foreign) own.push_back(k);
  }
  EDGEPASS_ASSIGN_OR_RETURN(core::Keyring keyring, core::Keyring::Create(std::move(own)));
  const core::SigningKey* primary = keyring.Primary();
  if (primary == nullptr) return absl::InvalidArgumentError("keyring: no primary key; nothing written");
  absl::MutexLock lock(&write_mu_);
  // Never overwrite secrets we cannot read.
  EDGEPASS_ASSIGN_OR_RETURN(Stored stored, ReadStored());

  // SMD's readers want a secondary: the secondary, else the newest retired
  // key, else the primary itself (what SMD has right after its first swap).
  const core::SigningKey* secondary = FirstWithState(keyring, core::KeyState::kSecondary);
  if (secondary == nullptr) {
    for (const core::SigningKey& k : keyring.keys()) {
      if (k.state == core::KeyState::kRetired &&
          (secondary == nullptr || k.not_after > secondary->not_after)) {
        secondary = &k;
      }
    }
  }
  if (secondary == nullptr) secondary = primary;
  const core::SigningKey* pending = FirstWithState(keyring, core::KeyState::kPending);
  if (pending == nullptr) pending = FirstWithState(keyring, core::KeyState::kDistributed);
  // A key of SMD's own rotation waits in TemporarySecret for SMD's swap:
  // replacing it would make that swap store what replaced it (or the
  // placeholder) as SMD's primary, a key SMD's function does not hold.
  const bool smd_rotating = IsSmdRotationKey(stored);
  if (smd_rotating && pending != nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        "secret ", temporary_secret(), ": holds key ", stored.temporary->id,
        " of SMD's own rotation, not a key edgepass stored; edgepass does not replace it. "
        "Let SMD's rotation finish (its swap), or disable SMD's rotation and put {\"",
        kSmdInitializedKey, "\":\"", kSmdInitializedValue, "\"} back into the secret; nothing was written"));
  }

  // The whole keyring first: until PrimarySecret names the new primary,
  // readers fall back to the SMD secrets plus this secret's retired keys, so
  // a write that stops half-way never drops the key it is retiring.
  const std::string json = core::KeyringToJson(keyring);
  EDGEPASS_RETURN_IF_ERROR(PutIfChanged(edgepass_secret(), json, json));
  EDGEPASS_RETURN_IF_ERROR(PutIfChanged(secondary_secret(), PairJson(secondary->id, secondary->value), json));
  EDGEPASS_RETURN_IF_ERROR(PutIfChanged(primary_secret(), PairJson(primary->id, primary->value), json));
  if (smd_rotating) return absl::OkStatus();  // SMD's key stays where SMD's swap looks for it
  return PutIfChanged(temporary_secret(),
                      pending != nullptr ? PairJson(pending->id, pending->value)
                                         : PairJson(kSmdInitializedKey, kSmdInitializedValue),
                      json);
}

}  // namespace edgepass::server
