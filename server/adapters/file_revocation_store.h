// The revocation list of the embedded default: DIR/revocations.json in the
// format core::ParseRevocationJson reads; an absent file is an empty list.
//
//   FileRevocationStore store(data_dir + "/revocations.json");
//   absl::StatusOr<core::RevocationSet> revoked = store.Load();
#ifndef EDGEPASS_SERVER_ADAPTERS_FILE_REVOCATION_STORE_H_
#define EDGEPASS_SERVER_ADAPTERS_FILE_REVOCATION_STORE_H_

#include <string>

#include "absl/status/statusor.h"
#include "core/revocation.h"

namespace edgepass::server {

class FileRevocationStore {
 public:
  explicit FileRevocationStore(std::string path) : path_(std::move(path)) {}

  // The list; empty when the file is absent. INVALID_ARGUMENT "<path>: ..."
  // when it does not parse.
  absl::StatusOr<core::RevocationSet> Load() const;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace edgepass::server

#endif  // EDGEPASS_SERVER_ADAPTERS_FILE_REVOCATION_STORE_H_
