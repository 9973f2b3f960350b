// Whole-file reads and crash-safe whole-file writes for data files (the
// server's data directory, the validator's snapshot): a write either leaves
// the old file or the complete new one. AtomicFileWriter is the same write
// for a file written in pieces (a compacted session list).
//
//   EDGEPASS_RETURN_IF_ERROR(files::WriteFileAtomically(dir + "/catalog.json", text));
//   absl::StatusOr<std::string> text = files::ReadFileToString(dir + "/catalog.json");
//   if (absl::IsNotFound(text.status())) { /* first start */ }
//
//   EDGEPASS_ASSIGN_OR_RETURN(files::AtomicFileWriter out, files::AtomicFileWriter::Create(path));
//   EDGEPASS_RETURN_IF_ERROR(out.Append(piece));  // as often as needed
//   EDGEPASS_RETURN_IF_ERROR(out.Commit());        // or let it go: nothing replaced
#ifndef EDGEPASS_FILES_ATOMIC_FILE_H_
#define EDGEPASS_FILES_ATOMIC_FILE_H_

#include <sys/types.h>

#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace edgepass::files {

// Files larger than this are refused by ReadFileToString unless told otherwise.
inline constexpr size_t kMaxDataFileBytes = 16 * 1024 * 1024;

struct AtomicWriteOptions {
  mode_t mode = 0600;
  // false: ALREADY_EXISTS when `path` exists; the existing file is never
  // touched (the new file is linked into place, not renamed over it).
  bool replace_existing = true;
};

// Writes `contents` to a new temporary file beside `path` (created with
// O_CREAT|O_EXCL and `options.mode`), fsyncs it, moves it into place and
// fsyncs the directory. Errors carry the path and errno text: NOT_FOUND for a
// missing directory, PERMISSION_DENIED, ALREADY_EXISTS (see options),
// INTERNAL otherwise. The temporary file is removed on failure.
absl::Status WriteFileAtomically(const std::string& path, absl::string_view contents,
                                 const AtomicWriteOptions& options = {});

// A new file written in pieces beside `path`, then moved into place as
// WriteFileAtomically does. Not committed (an error, an early return), it is
// removed when the writer goes, and `path` is left as it was. Move-only.
class AtomicFileWriter {
 public:
  // Creates the temporary file (O_CREAT|O_EXCL, `options.mode`). Errors as
  // WriteFileAtomically's.
  static absl::StatusOr<AtomicFileWriter> Create(std::string path, const AtomicWriteOptions& options = {});
  AtomicFileWriter(AtomicFileWriter&& other) noexcept;
  AtomicFileWriter& operator=(AtomicFileWriter&& other) = delete;
  ~AtomicFileWriter();

  // Writes `data` after what was appended before.
  absl::Status Append(absl::string_view data);
  // Sets the mode, fsyncs the file, moves it into place (per the options)
  // and fsyncs the directory. Once only; the writer is spent after it.
  absl::Status Commit();

 private:
  AtomicFileWriter(std::string path, std::string tmp, int fd, AtomicWriteOptions options)
      : path_(std::move(path)), tmp_(std::move(tmp)), fd_(fd), options_(options) {}

  std::string path_;
  std::string tmp_;
  int fd_ = -1;  // -1 once committed or moved from
  AtomicWriteOptions options_;
};

// Writes all of `data` to `fd` (short writes and EINTR retried). Errors name
// `path`, as WriteFileAtomically's do.
absl::Status WriteAll(int fd, absl::string_view data, const std::string& path);

// fsyncs the directory that holds `path`, so that a file created or renamed
// there survives a crash.
absl::Status SyncDirectoryOf(const std::string& path);

// Reads a whole regular file. NOT_FOUND when it does not exist,
// FAILED_PRECONDITION when it is not a regular file or is larger than
// `max_bytes`, PERMISSION_DENIED / INTERNAL for other I/O errors.
absl::StatusOr<std::string> ReadFileToString(const std::string& path,
                                             size_t max_bytes = kMaxDataFileBytes);

// Creates `dir` and missing parents with mode 0700. OK when it already is a
// directory.
absl::Status MakeDirectories(const std::string& dir);

}  // namespace edgepass::files

#endif  // EDGEPASS_FILES_ATOMIC_FILE_H_
