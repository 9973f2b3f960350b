// SessionStore of the embedded default: a base file DIR/revocations.json
//   {"version":N,"entries":[
//     core::RevocationEntryToJson(...),      (one entry per line)
//   ]}
// and an append-only log beside it, DIR/revocations.json.log, one line per
// change (a whole bulk report is one line, so it is stored all or none):
//   <16 hex digits: FNV-1a 64 of the JSON> {"v":N,"put":[entry, ...]}
//   <16 hex digits> {"v":N,"del":["session id", ...]}
// Each change appends one line and fsyncs it (OK means durable); the file is
// never rewritten per change. When the log outgrows compact_after_bytes (and
// a quarter of the base), the current entries are streamed into a new base (temp file,
// fsync, rename, fsync of the directory) and the log is emptied. A last line
// torn by a crash (no newline, or a bad checksum) is cut off at the next
// open; a bad line before the last one makes the store refuse every call.
//
// In memory the store keeps only an index (session id -> type and expiry,
// 24 bytes a slot: 25-55 bytes an entry) and the newest changes for
// ChangesSince(); List(), ListPage() and Load() read the files.
//
// The older formats of the base (a list of session ids or
// {"session_id","expires_at"} objects, or {"sessions":[...]} of either) are
// read as MANUAL entries added at the file's modification time, and
// rewritten in the new format at the next change.
//
//   FileSessionStore store(data_dir + "/revocations.json", &feed);
//   EDGEPASS_ASSIGN_OR_RETURN(uint64_t version, store.Put(entry));   // fsync'd
#ifndef EDGEPASS_SERVER_ADAPTERS_FILE_SESSION_STORE_H_
#define EDGEPASS_SERVER_ADAPTERS_FILE_SESSION_STORE_H_

#include <deque>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/synchronization/mutex.h"
#include "server/state/change_feed.h"
#include "server/state/compact_id.h"
#include "server/state/session_store.h"

namespace edgepass::server {

// revocations.json may grow past kMaxDataFileBytes: a million entries (the
// default --revocation-capacity) take about 150 MB.
inline constexpr size_t kMaxSessionFileBytes = size_t{1} << 30;

struct FileSessionStoreOptions {
  // The log is compacted into the base once it is larger than this and
  // than a quarter of the base (so compaction costs O(1) per change,
  // amortized).
  size_t compact_after_bytes = size_t{64} << 20;
  // Changes kept in memory for ChangesSince (older: too_old).
  size_t recent_changes = 20000;
};

// Thread-safe: changes are serialized within the process, which must be the
// only one writing the data directory. OK means the log is fsync'd. A base
// that does not parse is never rewritten: every call returns
// FAILED_PRECONDITION "<path>: <field>: ..." until it is repaired.
class FileSessionStore : public SessionStore {
 public:
  // `feed` (may be null) is told kSessions after each change.
  explicit FileSessionStore(std::string path, ChangeFeed* feed = nullptr,
                            FileSessionStoreOptions options = {});
  ~FileSessionStore() override;

  absl::StatusOr<uint64_t> Put(const core::RevocationEntry& entry) override;
  absl::StatusOr<uint64_t> Remove(absl::string_view session_id) override;
  // An entry kept (already listed) comes back whole when it changed among the
  // newest recent_changes, else with session_id, type and expires_at only.
  absl::StatusOr<ReportResult> Report(absl::Span<const core::RevocationEntry> entries) override;
  // Empty with version 0 when the file is absent.
  absl::StatusOr<SessionList> List() override;
  // The page's ids come from the index; the files are read once for their
  // entries, holding only those (memory O(index + max), time O(files)).
  absl::StatusOr<SessionPage> ListPage(absl::string_view after, size_t max) override;
  // Streams the base file's entries, then the log's changes (the first
  // call builds the index on the way).
  absl::StatusOr<SessionLoad> Load(LoadVisitor visit) override;
  absl::StatusOr<SessionChanges> ChangesSince(uint64_t version) override;
  absl::StatusOr<size_t> Prune(absl::Time cutoff) override;

  const std::string& path() const { return path_; }
  std::string log_path() const { return path_ + ".log"; }
  // Entries indexed in memory, and the heap bytes the index and the kept
  // changes take (estimated), for tests and benchmarks.
  size_t size() const;
  size_t memory_bytes() const;

 private:
  // Type and expiry of an indexed entry in 8 bytes: expiry (unix seconds,
  // clamped to +-2^61; kNever: never) * 2 + 1 for AUTO.
  class Indexed {
   public:
    static constexpr int64_t kNever = int64_t{1} << 61;
    Indexed(absl::Time expires_at, core::RevocationType type);
    int64_t expiry_seconds() const { return bits_ >> 1; }  // kNever: never
    absl::Time expires_at() const;
    core::RevocationType type() const {
      return (bits_ & 1) != 0 ? core::RevocationType::kAuto : core::RevocationType::kManual;
    }

   private:
    int64_t bits_;
  };
  using Visit = absl::FunctionRef<void(uint64_t version, const core::RevocationEntry* put,
                                       absl::string_view removed)>;

  // Loads the index once (again after a failure); also passes every change
  // it replays on to `also` (may be null).
  absl::Status Open(const Visit* also = nullptr) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Calls `visit` for every base entry (version: the base's), then every
  // logged change in order; cuts a torn last log line when `repair`.
  absl::Status Replay(Visit visit, uint64_t* version, bool* old_format, bool repair) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  absl::Status ReplayBase(Visit visit, uint64_t* version, bool* old_format) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // The log's records after *version (updated to the last one's).
  absl::Status ReplayLog(Visit visit, uint64_t* version, bool repair) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // Appends one log record of the next version (and fsyncs it); compacts
  // when due. Nothing in memory changes when it fails.
  absl::Status Append(const std::vector<const core::RevocationEntry*>& puts,
                      const std::vector<std::string>& removes) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status Compact() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<ReportResult> ReportLocked(absl::Span<const core::RevocationEntry> entries);
  void Remember(SessionChange change) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void IndexPut(const core::RevocationEntry& entry) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Announce();

  const std::string path_;
  ChangeFeed* const feed_;
  const FileSessionStoreOptions options_;
  mutable absl::Mutex mu_;
  bool open_ ABSL_GUARDED_BY(mu_) = false;
  bool base_current_ ABSL_GUARDED_BY(mu_) = false;  // base present in the new format
  int log_fd_ ABSL_GUARDED_BY(mu_) = -1;
  size_t log_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  size_t base_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t version_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t base_version_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<CompactId, Indexed, CompactIdHash, CompactIdEq> index_ ABSL_GUARDED_BY(mu_);
  // The newest changes; every change after recent_floor_ is in it.
  std::deque<SessionChange> recent_ ABSL_GUARDED_BY(mu_);
  uint64_t recent_floor_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace edgepass::server

#endif  // EDGEPASS_SERVER_ADAPTERS_FILE_SESSION_STORE_H_
