#include "server/adapters/file_secret_store.h"

#include "absl/strings/str_cat.h"
#include "server/adapters/atomic_file.h"

namespace edgepass::server {

absl::StatusOr<core::Keyring> FileSecretStore::ReadKeyring() {
  reads_.fetch_add(1, std::memory_order_relaxed);
  absl::StatusOr<core::Keyring> keyring = file_.Load();
  if (!keyring.ok()) read_errors_.fetch_add(1, std::memory_order_relaxed);
  return keyring;
}

absl::Status FileSecretStore::WriteKeyring(const core::Keyring& keyring) {
  if (keyring.Primary() == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(path(), ": keys: no primary key"));
  }
  absl::MutexLock lock(&write_mu_);
  return WriteFileAtomically(path(), core::KeyringToJson(keyring),
                             {.mode = 0600, .replace_existing = true});
}

absl::StatusOr<core::Keyring> FileSecretStore::LoadOrCreate(absl::Time now,
                                                            core::RandomSource& random) {
  reads_.fetch_add(1, std::memory_order_relaxed);
  absl::MutexLock lock(&write_mu_);
  absl::StatusOr<core::Keyring> keyring = file_.LoadOrCreate(now, random);
  if (!keyring.ok()) read_errors_.fetch_add(1, std::memory_order_relaxed);
  return keyring;
}

}  // namespace edgepass::server
