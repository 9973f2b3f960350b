// What `edgepass analyze --every` keeps between runs. ScanState (saved to
// the --state file): which files were read up to which byte, and which
// sessions were reported, so a run reads only what is new and never reports a
// session twice. SlidingSessions (in memory): the per-minute session tables
// of the look-back window, so each run adds only the new lines.
//
//   absl::StatusOr<ScanState> state = ScanState::Load(path);   // missing file: empty
//   ReadResult r = ReadLogs(state->Plan(files), {.bucket_ms = kBucketMs, ...});
//   state->Record(r.files);
//   sliding.Add(std::move(r.buckets));
//   Analysis a = ScoreSessions(sliding.Current(window), options);
//   EDGEPASS_RETURN_IF_ERROR(state->Save(path));
#ifndef EDGEPASS_CLIENT_ANALYZE_SCAN_STATE_H_
#define EDGEPASS_CLIENT_ANALYZE_SCAN_STATE_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "client/analyze/log_reader.h"
#include "client/analyze/session_table.h"

namespace edgepass::analyze {

inline constexpr int64_t kBucketMs = 60000;

class ScanState {
 public:
  struct FileMark {
    uint64_t size = 0;
    int64_t mtime_ns = 0;
    uint64_t consumed = 0;
    bool gzip = false;
  };

  // The state saved at `path`; an empty state when the file does not exist.
  // INVALID_ARGUMENT naming the path and the field when it is not a state
  // file; other read errors as ReadFileToString gives them.
  static absl::StatusOr<ScanState> Load(const std::string& path);
  // Writes atomically (0600).
  absl::Status Save(const std::string& path) const;

  // What to read of `files`: files not seen before from the start; plain
  // files from where the last run stopped (from the start when shorter than
  // that: replaced); gzip files only when their size or mtime changed. Files
  // with nothing new are left out.
  std::vector<InputFile> Plan(const std::vector<std::string>& files) const;
  // Remembers how far each readable file was read.
  void Record(const std::vector<FileOutcome>& outcomes);

  // Sessions reported, with the Unix time they were reported at.
  std::map<std::string, int64_t>& reported() { return reported_; }
  // Forgets reported sessions older than `cutoff_s` (past any look-back window).
  void ForgetReportedBefore(int64_t cutoff_s);
  const std::map<std::string, FileMark>& files() const { return files_; }

 private:
  std::map<std::string, FileMark> files_;
  std::map<std::string, int64_t> reported_;
};

// Session tables by minute (ReadOptions::bucket_ms = kBucketMs). The window
// a run scores starts at the minute its start falls in: up to 59 s more than
// the look-back, never less.
class SlidingSessions {
 public:
  void Add(std::map<int64_t, SessionTable>&& buckets);
  // Drops minutes that end before window.start_ms; merges a copy of the rest.
  SessionTable Current(const Window& window);
  size_t minutes() const { return buckets_.size(); }

 private:
  std::map<int64_t, SessionTable> buckets_;
};

}  // namespace edgepass::analyze

#endif  // EDGEPASS_CLIENT_ANALYZE_SCAN_STATE_H_
