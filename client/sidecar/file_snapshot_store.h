// A SnapshotStore in one file: a whole snapshot (format: validator_state.h),
// written through a temporary file, fsync'd and renamed into place, mode 0600
// (it holds keys), followed by the edge-sync deltas applied since, appended
// as one checksummed line each and fdatasync'd, so that a revocation costs
// the validator a line, not a rewrite of a million-entry file. The file is
// rewritten whole (compacted) when the appended lines outgrow a quarter of
// the snapshot, for a new keyring, and for any state that is not a delta of
// the one the file holds.
//
//   FileSnapshotStore store(path);
//   if (auto last = store.Load(); last.ok() && last->has_value()) Use(**last);
//   absl::Status saved = store.Save(state);   // appends when state is a delta
//
// A delta line (after the snapshot's closing line):
//   @delta <FNV-1a 64 of JSON, 16 hex digits> <JSON>\n
//   JSON = {"from":M,"version":N,"changes":[["id",EPOCH|null],["id",false],...]}
// in the order applied; false = removed, null = revoked until removed, else
// added as client::RevocationChange says. A crash while appending leaves a
// torn last line: Load drops it (and anything after a line that does not
// check), giving the state before that delta, and the next append overwrites
// it.
#ifndef EDGEPASS_CLIENT_SIDECAR_FILE_SNAPSHOT_STORE_H_
#define EDGEPASS_CLIENT_SIDECAR_FILE_SNAPSHOT_STORE_H_

#include <cstdint>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "client/sidecar/snapshot_store.h"

namespace edgepass::sidecar {

// Snapshots larger than this are refused (about 4 million revoked ids).
inline constexpr size_t kMaxSnapshotBytes = 256u << 20;

// A whole regular file of at most `max_bytes`. NOT_FOUND when it does not
// exist, FAILED_PRECONDITION when it is not a regular file or too large,
// PERMISSION_DENIED / INTERNAL otherwise; messages start with the path.
absl::StatusOr<std::string> ReadFileUpTo(const std::string& path,
                                         size_t max_bytes);

// One delta line, as appended (with its "@delta " prefix and newline).
std::string SnapshotDeltaLine(uint64_t from, uint64_t version,
                              absl::Span<const client::RevocationChange> changes);

class FileSnapshotStore : public SnapshotStore {
 public:
  explicit FileSnapshotStore(std::string path) : path_(std::move(path)) {}

  // nullopt when the file does not exist. DATA_LOSS "<path>: snapshot: ..."
  // when the snapshot does not parse (the file is left as it is); a torn or
  // damaged delta tail is dropped, not an error (dropped_delta_bytes() tells
  // how much). FAILED_PRECONDITION when it is not a regular file or over
  // kMaxSnapshotBytes.
  absl::StatusOr<std::optional<ValidatorState>> Load() const override;
  // Appends `state` as a delta line when it is a delta (state.delta_from) of
  // the version the file holds as this store last loaded or wrote it, and
  // the lines stay under a quarter of the snapshot; rewrites the file whole
  // otherwise. NOT_FOUND when the directory is missing; PERMISSION_DENIED;
  // INTERNAL.
  absl::Status Save(const ValidatorState& state) override;

  const std::string& path() const { return path_; }
  // Bytes of delta lines the last Load() dropped (torn or damaged tail).
  size_t dropped_delta_bytes() const;
  // Whole rewrites and appended lines since construction (for tests).
  size_t rewrites() const;
  size_t appends() const;

 private:
  absl::Status Rewrite(const ValidatorState& state) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  std::string path_;
  mutable absl::Mutex mu_;
  // What the file holds, as last loaded or written; !known: rewrite next.
  mutable bool known_ ABSL_GUARDED_BY(mu_) = false;
  mutable uint64_t version_ ABSL_GUARDED_BY(mu_) = 0;
  mutable size_t snapshot_bytes_ ABSL_GUARDED_BY(mu_) = 0;  // the whole snapshot
  mutable size_t length_ ABSL_GUARDED_BY(mu_) = 0;  // up to the last good line
  mutable size_t dropped_ ABSL_GUARDED_BY(mu_) = 0;
  size_t rewrites_ ABSL_GUARDED_BY(mu_) = 0;
  size_t appends_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace edgepass::sidecar

#endif  // EDGEPASS_CLIENT_SIDECAR_FILE_SNAPSHOT_STORE_H_
