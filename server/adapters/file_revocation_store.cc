#include "server/adapters/file_revocation_store.h"

#include "absl/strings/str_cat.h"
#include "files/atomic_file.h"

namespace edgepass::server {

absl::StatusOr<core::RevocationSet> FileRevocationStore::Load() const {
  absl::StatusOr<std::string> text = files::ReadFileToString(path_);
  if (absl::IsNotFound(text.status())) return core::RevocationSet();
  if (!text.ok()) return text.status();
  absl::StatusOr<core::RevocationSet> set = core::ParseRevocationJson(*text);
  if (!set.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path_, ": ", set.status().message()));
  }
  return set;
}

}  // namespace edgepass::server
