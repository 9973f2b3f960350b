#include "server/adapters/aws/secrets_manager_secret_store.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "aws/sigv4.h"
#include "core/status_macros.h"

namespace edgepass::server {

using aws::kStageCurrent;
using aws::kStagePending;

absl::StatusOr<core::Keyring> ParseStoredKeyring(absl::string_view secret_id,
                                                 absl::string_view text) {
  absl::StatusOr<core::Keyring> keys = core::ParseKeyringJson(text);
  if (!keys.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("secret ", secret_id, ": ", keys.status().message()));
  }
  if (keys->Primary() == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat("secret ", secret_id, ": keys: no primary key"));
  }
  return keys;
}

std::string ContentRequestToken(absl::string_view secret_string) {
  std::string h = aws::Sha256Hex(secret_string);
  // UUID-shaped, as the SDKs make them (32-64 characters allowed).
  return absl::StrCat(h.substr(0, 8), "-", h.substr(8, 4), "-", h.substr(12, 4), "-",
                      h.substr(16, 4), "-", h.substr(20, 12));
}

SecretsManagerSecretStore::SecretsManagerSecretStore(
    std::shared_ptr<aws::SecretsManagerClient> client, std::string secret_id)
    : client_(std::move(client)), secret_id_(std::move(secret_id)) {}

absl::StatusOr<core::Keyring> SecretsManagerSecretStore::ReadUncounted() {
  absl::StatusOr<aws::SecretValue> value = client_->GetSecretValue(secret_id_, kStageCurrent);
  if (!value.ok()) return value.status();
  return ParseStoredKeyring(secret_id_, value->secret_string);
}

absl::StatusOr<core::Keyring> SecretsManagerSecretStore::ReadKeyring() {
  reads_.fetch_add(1, std::memory_order_relaxed);
  absl::StatusOr<core::Keyring> keys = ReadUncounted();
  if (!keys.ok()) read_errors_.fetch_add(1, std::memory_order_relaxed);
  return keys;
}

absl::StatusOr<std::string> SecretsManagerSecretStore::StagePending(const core::Keyring& keyring) {
  if (keyring.Primary() == nullptr) {
    return absl::InvalidArgumentError("keyring: no primary key; nothing written");
  }
  const std::string text = core::KeyringToJson(keyring);
  // Never overwrite what we cannot read: a person or another tool put it there.
  absl::StatusOr<aws::SecretValue> current = client_->GetSecretValue(secret_id_, kStageCurrent);
  if (absl::IsNotFound(current.status())) {
    return absl::NotFoundError(absl::StrCat("secret ", secret_id_, " does not exist"));
  }
  if (!current.ok()) return current.status();
  EDGEPASS_RETURN_IF_ERROR(ParseStoredKeyring(secret_id_, current->secret_string).status());
  if (current->secret_string == text) return current->version_id;  // already stored
  // A version with the same content (same token) is reused as it is; AWS
  // then leaves its labels alone, so the caller promotes it by id.
  return client_->PutSecretValue(secret_id_, text, ContentRequestToken(text),
                                 {std::string(kStagePending)});
}

absl::Status SecretsManagerSecretStore::PromoteVersion(const std::string& version_id) {
  EDGEPASS_ASSIGN_OR_RETURN(aws::SecretDescription d, client_->DescribeSecret(secret_id_));
  const std::string current = d.VersionWithStage(kStageCurrent);
  if (current != version_id) {
    EDGEPASS_RETURN_IF_ERROR(
        client_->UpdateSecretVersionStage(secret_id_, kStageCurrent, version_id, current));
  }
  if (d.VersionWithStage(kStagePending) == version_id) {
    return client_->UpdateSecretVersionStage(secret_id_, kStagePending, "", version_id);
  }
  return absl::OkStatus();
}

absl::Status SecretsManagerSecretStore::PromotePending() {
  EDGEPASS_ASSIGN_OR_RETURN(aws::SecretDescription d, client_->DescribeSecret(secret_id_));
  const std::string pending = d.VersionWithStage(kStagePending);
  if (pending.empty()) {
    return absl::FailedPreconditionError(absl::StrCat("secret ", secret_id_, ": no AWSPENDING version"));
  }
  return PromoteVersion(pending);
}

absl::Status SecretsManagerSecretStore::WriteKeyring(const core::Keyring& keyring) {
  absl::MutexLock lock(&write_mu_);
  absl::StatusOr<std::string> staged = StagePending(keyring);
  if (absl::IsNotFound(staged.status())) {
    const std::string text = core::KeyringToJson(keyring);
    return client_->CreateSecret(secret_id_, text, ContentRequestToken(text)).status();
  }
  if (!staged.ok()) return staged.status();
  return PromoteVersion(*staged);
}

absl::StatusOr<core::Keyring> SecretsManagerSecretStore::LoadOrCreate(absl::Time now,
                                                                      core::RandomSource& random) {
  reads_.fetch_add(1, std::memory_order_relaxed);
  absl::StatusOr<core::Keyring> result = CreateIfAbsent(now, random);
  if (!result.ok()) read_errors_.fetch_add(1, std::memory_order_relaxed);
  return result;
}

absl::StatusOr<core::Keyring> SecretsManagerSecretStore::CreateIfAbsent(absl::Time now,
                                                                        core::RandomSource& random) {
  absl::StatusOr<core::Keyring> existing = ReadUncounted();
  if (!absl::IsNotFound(existing.status())) return existing;
  std::vector<core::SigningKey> keys;
  keys.push_back(core::GenerateSigningKey(now, core::KeyState::kPrimary, random));
  EDGEPASS_ASSIGN_OR_RETURN(core::Keyring keyring, core::Keyring::Create(std::move(keys)));
  const std::string text = core::KeyringToJson(keyring);
  absl::StatusOr<std::string> created =
      client_->CreateSecret(secret_id_, text, ContentRequestToken(text));
  if (absl::IsAlreadyExists(created.status())) return ReadUncounted();  // another replica won
  if (!created.ok()) return created.status();
  return keyring;
}

}  // namespace edgepass::server
