#include "client/sidecar/cloudfront_keys_file.h"

#include "absl/strings/str_cat.h"
#include "client/sidecar/file_snapshot_store.h"

namespace edgepass::sidecar {

absl::StatusOr<core::CloudFrontPublicKeys> LoadCloudFrontPublicKeysFile(
    const std::string& path) {
  absl::StatusOr<std::string> text =
      ReadFileUpTo(path, kMaxCloudFrontKeysFileBytes);
  if (!text.ok()) return text.status();
  absl::StatusOr<core::CloudFrontPublicKeys> keys =
      ParseCloudFrontPublicKeysJson(*text);
  if (!keys.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": ", keys.status().message()));
  }
  return keys;
}

}  // namespace edgepass::sidecar
