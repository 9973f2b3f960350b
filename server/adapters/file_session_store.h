// SessionStore of the embedded default: DIR/revocations.json, rewritten
// atomically (temp file, fsync, rename, fsync of the directory) on every
// change:
//   {"version":N,"entries":[core::RevocationEntryToJson(...), ...]}
// The older formats (a list of session ids or {"session_id","expires_at"}
// objects, or {"sessions":[...]} of either) are read as MANUAL entries added
// at the file's modification time, and rewritten in the new format at the
// next change.
//
//   FileSessionStore store(data_dir + "/revocations.json", &feed);
//   EDGEPASS_ASSIGN_OR_RETURN(uint64_t version, store.Put(entry));   // fsync'd
#ifndef EDGEPASS_SERVER_ADAPTERS_FILE_SESSION_STORE_H_
#define EDGEPASS_SERVER_ADAPTERS_FILE_SESSION_STORE_H_

#include <string>

#include "absl/synchronization/mutex.h"
#include "server/state/change_feed.h"
#include "server/state/session_store.h"

namespace edgepass::server {

// revocations.json may grow past kMaxDataFileBytes: a million entries (the
// default --revocation-capacity) take about 150 MB.
inline constexpr size_t kMaxSessionFileBytes = size_t{1} << 30;

// Thread-safe: changes are serialized within the process, which must be the
// only one writing the data directory. OK means the file is fsync'd. A file
// that does not parse is never rewritten: every call returns
// FAILED_PRECONDITION "<path>: <field>: ..." until it is repaired.
class FileSessionStore : public SessionStore {
 public:
  // `feed` (may be null) is told kSessions after each change.
  explicit FileSessionStore(std::string path, ChangeFeed* feed = nullptr)
      : path_(std::move(path)), feed_(feed) {}

  absl::StatusOr<uint64_t> Put(const core::RevocationEntry& entry) override;
  absl::StatusOr<uint64_t> Remove(absl::string_view session_id) override;
  // Empty with version 0 when the file is absent.
  absl::StatusOr<SessionList> List() override;
  absl::StatusOr<size_t> Prune(absl::Time cutoff) override;

  const std::string& path() const { return path_; }

 private:
  absl::StatusOr<SessionList> Read() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status Write(const SessionList& list) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string path_;
  ChangeFeed* const feed_;
  absl::Mutex mu_;
};

}  // namespace edgepass::server

#endif  // EDGEPASS_SERVER_ADAPTERS_FILE_SESSION_STORE_H_
