// Reads access-log files into a SessionTable: lists the files under the given
// paths (a file, a directory, Hive partitions year=/month=/day=/hour=
// pruned by the window), decompresses gzip (small files whole with
// libdeflate, larger ones streaming with zlib; several gzip members in one
// file are read in turn), splits lines and parses them by the
// format the file starts with ('#' → CloudFront W3C, '{' → JSON lines).
// Files are read in parallel, one per thread, each into its own table, merged
// at the end; memory is the tables plus a 1 MiB buffer per thread. A file that
// cannot be read, a truncated or corrupt gzip stream and every bad line are
// counted in ParseStats, never fatal.
//
//   absl::StatusOr<std::vector<std::string>> files = ListLogFiles({"logs/"}, window);
//   std::vector<InputFile> inputs; for (auto& f : *files) inputs.push_back({.path = f});
//   ReadResult r = ReadLogs(inputs, {.window = window});
//   Analysis a = ScoreSessions(r.table, {});
#ifndef EDGEPASS_CLIENT_ANALYZE_LOG_READER_H_
#define EDGEPASS_CLIENT_ANALYZE_LOG_READER_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "client/analyze/log_files.h"  // ListLogFiles, used with ReadLogs
#include "client/analyze/log_record.h"
#include "client/analyze/session_table.h"

namespace edgepass::analyze {

struct InputFile {
  std::string path;
  // Plain files: start reading at this byte (its '#' header lines are read
  // first all the same). Ignored for gzip, which is read whole.
  uint64_t offset = 0;
};

struct FileOutcome {
  std::string path;
  bool gzip = false;
  bool readable = false;
  uint64_t size = 0;      // bytes on disk when opened
  int64_t mtime_ns = 0;
  // Plain: the byte just past the last complete line read ('\n'-terminated);
  // gzip: the file size when read to its end.
  uint64_t consumed = 0;
};

// gzip files whose content is at most this large (and at most 8 MiB
// compressed) are decompressed whole with libdeflate; larger or damaged ones
// are streamed with zlib.
inline constexpr size_t kMaxWholeGzipBytes = 64 << 20;

struct ReadOptions {
  Window window;
  // kMaxWholeGzipBytes, or less (0: always zlib, for tests).
  size_t max_whole_gzip_bytes = kMaxWholeGzipBytes;
  // 0: one per core, at most one per file.
  int threads = 0;
  // Parse a last line that has no '\n' (a one-off run); false when the file
  // may still be appended to and the line read next time (--every).
  bool read_unterminated_last_line = true;
  // > 0: records go into ReadResult::buckets by time_ms / bucket_ms instead
  // of into ReadResult::table (a window that slides, --every).
  int64_t bucket_ms = 0;
};

struct ReadResult {
  SessionTable table;
  std::map<int64_t, SessionTable> buckets;  // with bucket_ms
  ParseStats stats;
  std::vector<FileOutcome> files;  // in the order of the inputs
};

ReadResult ReadLogs(const std::vector<InputFile>& inputs, const ReadOptions& options);

// Receives each line (without '\n') of a file.
class LineVisitor {
 public:
  virtual ~LineVisitor() = default;
  virtual void OnLine(absl::string_view line) = 0;
};

// Reads `input` line by line into `visitor` (decompressing gzip); *stats
// gets files, bytes_read, unreadable_files, truncated_gzip, corrupt_gzip and
// too-long lines (kTooLong, not passed to the visitor). Used by ReadLogs and
// by the benchmark's decompress-and-split baseline.
FileOutcome ReadLines(const InputFile& input, bool read_unterminated_last_line, LineVisitor& visitor,
                      ParseStats* stats, size_t max_whole_gzip_bytes = kMaxWholeGzipBytes);

}  // namespace edgepass::analyze

#endif  // EDGEPASS_CLIENT_ANALYZE_LOG_READER_H_
