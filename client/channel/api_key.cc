#include "client/channel/api_key.h"

#include <errno.h>
#include <fcntl.h>
#include <grpcpp/client_context.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "files/unique_fd.h"

namespace edgepass::client {
namespace {

// A key file holds one key and a newline; anything much larger is not one.
constexpr size_t kMaxFileBytes = 4 * kMaxApiKeyBytes;

absl::Status FileError(absl::StatusCode code, const std::string& path,
                       absl::string_view message) {
  return absl::Status(code,
                      absl::StrCat("api key file '", path, "' ", message));
}

absl::Status ErrnoError(const std::string& path, int error) {
  const absl::StatusCode code =
      error == ENOENT || error == ENOTDIR ? absl::StatusCode::kNotFound
      : error == EACCES || error == EPERM ? absl::StatusCode::kPermissionDenied
                                          : absl::StatusCode::kInternal;
  return FileError(code, path, std::strerror(error));
}

}  // namespace

absl::StatusOr<std::string> ReadApiKeyFile(const std::string& path) {
  if (path.empty()) {
    return absl::InvalidArgumentError("api key file: the path is empty");
  }
  // Checked on the descriptor read, so the file cannot change in between.
  files::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (fd.get() < 0) return ErrnoError(path, errno);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return ErrnoError(path, errno);
  if (!S_ISREG(st.st_mode)) {
    return FileError(absl::StatusCode::kInvalidArgument, path,
                     "is not a regular file");
  }
  if ((st.st_mode & 077) != 0) {
    return FileError(
        absl::StatusCode::kPermissionDenied, path,
        absl::StrFormat("is accessible by group or others (mode %04o); "
                        "restrict it: chmod 600 '%s'",
                        st.st_mode & 07777, path));
  }
  std::string text;
  char buffer[1024];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoError(path, errno);
    if (n == 0) break;
    text.append(buffer, static_cast<size_t>(n));
    if (text.size() > kMaxFileBytes) {
      return FileError(absl::StatusCode::kInvalidArgument, path,
                       absl::StrCat("is larger than ", kMaxFileBytes,
                                    " bytes: not a key file"));
    }
  }
  const absl::string_view key = absl::StripAsciiWhitespace(text);
  if (key.empty()) {
    return FileError(absl::StatusCode::kInvalidArgument, path, "is empty");
  }
  if (key.size() > kMaxApiKeyBytes) {
    return FileError(
        absl::StatusCode::kInvalidArgument, path,
        absl::StrCat("holds a key longer than ", kMaxApiKeyBytes, " bytes"));
  }
  for (size_t i = 0; i < key.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(key[i]);
    if (c < 0x21 || c > 0x7e) {
      // The position, never the character: it is part of a secret.
      return FileError(absl::StatusCode::kInvalidArgument, path,
                       absl::StrCat("holds whitespace or a character that is "
                                    "not printable ASCII at byte ",
                                    i + 1, " of the key (one key, one line)"));
    }
  }
  return std::string(key);
}

void AddApiKey(absl::string_view api_key, grpc::ClientContext* context) {
  if (api_key.empty()) return;
  context->AddMetadata("authorization", absl::StrCat("Bearer ", api_key));
}

}  // namespace edgepass::client
