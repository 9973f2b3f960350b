#include "aws/profile_file.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace edgepass::aws {

std::string Profile::Get(absl::string_view key) const {
  auto it = values.find(std::string(key));
  return it == values.end() ? "" : it->second;
}

const Profile* ProfileFile::Find(absl::string_view name) const {
  auto it = profiles.find(std::string(name));
  return it == profiles.end() ? nullptr : &it->second;
}

absl::StatusOr<ProfileFile> ParseProfileFile(absl::string_view text, absl::string_view path,
                                             ProfileFileKind kind) {
  if (text.size() > kMaxProfileFileBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": larger than ", kMaxProfileFileBytes, " bytes"));
  }
  ProfileFile file;
  Profile* current = nullptr;
  bool skipping = false;          // a config section that is not a profile ([sso-session x])
  bool last_key_empty = false;    // `s3 =` followed by indented sub-properties
  int line_no = 0;
  for (absl::string_view raw : absl::StrSplit(text, '\n')) {
    ++line_no;
    absl::ConsumeSuffix(&raw, "\r");
    auto error = [&](absl::string_view what) {
      return absl::InvalidArgumentError(absl::StrCat(path, ":", line_no, ": ", what));
    };
    absl::string_view line = absl::StripAsciiWhitespace(raw);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (raw[0] == ' ' || raw[0] == '\t') {
      // A sub-property of the previous `key =` (nested settings such as s3).
      if (!last_key_empty) return error("indented line does not continue an empty `key =`");
      continue;
    }
    if (line[0] == '[') {
      if (line.back() != ']') return error("section header without closing ']'");
      absl::string_view name = absl::StripAsciiWhitespace(line.substr(1, line.size() - 2));
      skipping = false;
      if (kind == ProfileFileKind::kConfig && name != "default") {
        if (absl::ConsumePrefix(&name, "profile ") || absl::ConsumePrefix(&name, "profile\t")) {
          name = absl::StripAsciiWhitespace(name);
        } else {
          skipping = true;  // [sso-session ...], [services ...]: not profiles
        }
      }
      if (name.empty()) return error("empty section name");
      if (!skipping && name.find_first_of(" \t[]") != absl::string_view::npos) {
        return error("section name with spaces or brackets");
      }
      current = skipping ? nullptr : &file.profiles[std::string(name)];
      last_key_empty = false;
      continue;
    }
    size_t eq = line.find('=');
    if (eq == absl::string_view::npos) return error("expected `key = value`");
    std::string key = absl::AsciiStrToLower(absl::StripAsciiWhitespace(line.substr(0, eq)));
    absl::string_view value = absl::StripAsciiWhitespace(line.substr(eq + 1));
    if (key.empty()) return error("empty key before '='");
    last_key_empty = value.empty();
    if (skipping) continue;
    if (current == nullptr) return error(absl::StrCat("key `", key, "` outside any [section]"));
    current->values[key] = std::string(value);
  }
  return file;
}

absl::StatusOr<ProfileFile> ReadProfileFile(const std::string& path, ProfileFileKind kind) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno == ENOENT) return absl::NotFoundError(absl::StrCat(path, ": no such file"));
    return absl::PermissionDeniedError(absl::StrCat(path, ": ", std::strerror(errno)));
  }
  std::string text(kMaxProfileFileBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  return ParseProfileFile(text, path, kind);
}

}  // namespace edgepass::aws
