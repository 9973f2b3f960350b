// A SnapshotStore in one file (format: validator_state.h), written through a
// temporary file, fsync'd and renamed into place, mode 0600 (it holds keys).
//
//   FileSnapshotStore store(path);
//   if (auto last = store.Load(); last.ok() && last->has_value()) Use(**last);
//   absl::Status saved = store.Save(state);
#ifndef EDGEPASS_CLIENT_SIDECAR_FILE_SNAPSHOT_STORE_H_
#define EDGEPASS_CLIENT_SIDECAR_FILE_SNAPSHOT_STORE_H_

#include <string>

#include "client/sidecar/snapshot_store.h"

namespace edgepass::sidecar {

// Snapshots larger than this are refused (about 4 million revoked ids).
inline constexpr size_t kMaxSnapshotBytes = 256u << 20;

// A whole regular file of at most `max_bytes`. NOT_FOUND when it does not
// exist, FAILED_PRECONDITION when it is not a regular file or too large,
// PERMISSION_DENIED / INTERNAL otherwise; messages start with the path.
absl::StatusOr<std::string> ReadFileUpTo(const std::string& path,
                                         size_t max_bytes);

class FileSnapshotStore : public SnapshotStore {
 public:
  explicit FileSnapshotStore(std::string path) : path_(std::move(path)) {}

  // nullopt when the file does not exist. DATA_LOSS "<path>: snapshot: ..."
  // when it does not parse (the file is left as it is); FAILED_PRECONDITION
  // when it is not a regular file or over kMaxSnapshotBytes.
  absl::StatusOr<std::optional<ValidatorState>> Load() const override;
  // NOT_FOUND when the directory is missing; PERMISSION_DENIED; INTERNAL.
  absl::Status Save(const ValidatorState& state) override;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace edgepass::sidecar

#endif  // EDGEPASS_CLIENT_SIDECAR_FILE_SNAPSHOT_STORE_H_
