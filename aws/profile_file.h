// The AWS shared credentials and config files (~/.aws/credentials,
// ~/.aws/config): INI sections of `key = value` lines, read strictly and
// within bounds. In the config file a named profile is `[profile NAME]`
// (`[default]` stays as it is); in the credentials file it is `[NAME]`.
//
//   absl::StatusOr<ProfileFile> f = ReadProfileFile(path, ProfileFileKind::kCredentials);
//   const Profile* p = f->Find("default");   // p->Get("aws_access_key_id")
#ifndef EDGEPASS_AWS_PROFILE_FILE_H_
#define EDGEPASS_AWS_PROFILE_FILE_H_

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace edgepass::aws {

inline constexpr size_t kMaxProfileFileBytes = 256 * 1024;

enum class ProfileFileKind { kCredentials, kConfig };

struct Profile {
  std::map<std::string, std::string> values;  // keys lower-cased
  // The value of `key`, or "".
  std::string Get(absl::string_view key) const;
};

struct ProfileFile {
  std::map<std::string, Profile> profiles;  // by profile name
  const Profile* Find(absl::string_view name) const;
};

// Parses `text` (named `path` in errors). INVALID_ARGUMENT "path:LINE: ..."
// for a line that is neither a section, `key = value`, a comment (# or ;),
// blank, nor an indented sub-property line; for a key outside any section;
// for text over kMaxProfileFileBytes. Errors name keys and lines, never
// values (they hold secrets).
absl::StatusOr<ProfileFile> ParseProfileFile(absl::string_view text, absl::string_view path,
                                             ProfileFileKind kind);

// Reads and parses `path`; NOT_FOUND when it does not exist.
absl::StatusOr<ProfileFile> ReadProfileFile(const std::string& path, ProfileFileKind kind);

}  // namespace edgepass::aws

#endif  // EDGEPASS_AWS_PROFILE_FILE_H_
