#include "server/adapters/file_keyring_store.h"

#include <sys/stat.h>

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/status_macros.h"
#include "files/atomic_file.h"

namespace edgepass::server {

absl::StatusOr<core::Keyring> FileKeyringStore::Load() const {
  // The keyring is the HMAC secret: refuse one that others can read.
  struct stat st;
  if (::stat(path_.c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s: mode %04o lets other users read the signing keys; chmod 600 it", path_,
        st.st_mode & 07777));
  }
  EDGEPASS_ASSIGN_OR_RETURN(std::string text, files::ReadFileToString(path_));
  absl::StatusOr<core::Keyring> keys = core::ParseKeyringJson(text);
  if (!keys.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(path_, ": ", keys.status().message()));
  }
  if (keys->Primary() == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(path_, ": keys: no primary key"));
  }
  return keys;
}

absl::StatusOr<core::Keyring> FileKeyringStore::LoadOrCreate(absl::Time now,
                                                             core::RandomSource& random) const {
  absl::StatusOr<core::Keyring> existing = Load();
  if (!absl::IsNotFound(existing.status())) return existing;

  std::vector<core::SigningKey> keys;
  keys.push_back(core::GenerateSigningKey(now, core::KeyState::kPrimary, random));
  EDGEPASS_ASSIGN_OR_RETURN(core::Keyring keyring, core::Keyring::Create(std::move(keys)));
  absl::Status written =
      files::WriteFileAtomically(path_, core::KeyringToJson(keyring),
                                 {.mode = 0600, .replace_existing = false});
  if (absl::IsAlreadyExists(written)) return Load();  // another writer won; use theirs
  EDGEPASS_RETURN_IF_ERROR(written);
  return keyring;
}

}  // namespace edgepass::server
