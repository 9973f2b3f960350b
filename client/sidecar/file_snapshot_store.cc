#include "client/sidecar/file_snapshot_store.h"

#include "absl/strings/str_cat.h"
#include "files/atomic_file.h"

namespace edgepass::sidecar {

absl::StatusOr<std::string> ReadFileUpTo(const std::string& path,
                                         size_t max_bytes) {
  return files::ReadFileToString(path, max_bytes);
}

absl::StatusOr<std::optional<ValidatorState>> FileSnapshotStore::Load() const {
  absl::StatusOr<std::string> text = ReadFileUpTo(path_, kMaxSnapshotBytes);
  if (absl::IsNotFound(text.status())) return std::optional<ValidatorState>();
  if (!text.ok()) return text.status();
  absl::StatusOr<ValidatorState> state = ParseSnapshotJson(*text);
  if (!state.ok()) {
    return absl::Status(state.status().code(),
                        absl::StrCat(path_, ": ", state.status().message()));
  }
  return std::optional<ValidatorState>(*std::move(state));
}

absl::Status FileSnapshotStore::Save(const ValidatorState& state) {
  return files::WriteFileAtomically(path_, SnapshotToJson(state),
                                    {.mode = 0600});
}

}  // namespace edgepass::sidecar
