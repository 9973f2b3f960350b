#include "client/sidecar/file_snapshot_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "server/adapters/atomic_file.h"

namespace edgepass::sidecar {
// (The server's ReadFileToString stops at 16 MiB, too small for a million
// revoked ids.)
absl::StatusOr<std::string> ReadFileUpTo(const std::string& path,
                                         size_t max_bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    std::string message = absl::StrCat(path, ": open: ", std::strerror(err));
    if (err == ENOENT) return absl::NotFoundError(message);
    if (err == EACCES || err == EPERM)
      return absl::PermissionDeniedError(message);
    return absl::InternalError(message);
  }
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return absl::FailedPreconditionError(
        absl::StrCat(path, ": not a regular file"));
  }
  if (static_cast<uint64_t>(st.st_size) > max_bytes) {
    ::close(fd);
    return absl::FailedPreconditionError(
        absl::StrCat(path, ": larger than ", max_bytes, " bytes"));
  }
  std::string out(static_cast<size_t>(st.st_size), '\0');
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n = ::read(fd, out.data() + done, out.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      return absl::InternalError(
          absl::StrCat(path, ": read: ", std::strerror(err)));
    }
    if (n == 0) break;  // shrank while reading: parse what is there
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  out.resize(done);
  return out;
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
  return server::WriteFileAtomically(path_, SnapshotToJson(state),
                                     {.mode = 0600});
}

}  // namespace edgepass::sidecar
