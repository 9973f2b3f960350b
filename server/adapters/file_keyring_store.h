// The keyring of the embedded default: one JSON file (core's keyring format),
// mode 0600, created on first start with one primary key.
//
//   FileKeyringStore store(data_dir + "/keyring.json");
//   absl::StatusOr<core::Keyring> keys = store.LoadOrCreate(absl::Now(), random);
#ifndef EDGEPASS_SERVER_ADAPTERS_FILE_KEYRING_STORE_H_
#define EDGEPASS_SERVER_ADAPTERS_FILE_KEYRING_STORE_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/keyring.h"
#include "core/random.h"

namespace edgepass::server {

class FileKeyringStore {
 public:
  explicit FileKeyringStore(std::string path) : path_(std::move(path)) {}

  // Reads the keyring. NOT_FOUND when the file is absent; FAILED_PRECONDITION
  // "<path>: <parse error>" when it does not parse or has no primary key.
  absl::StatusOr<core::Keyring> Load() const;

  // Load(), or on NOT_FOUND a new keyring with one primary key generated at
  // `now` from `random`, written with mode 0600 without ever replacing an
  // existing file. A file that exists but does not parse is never rewritten:
  // its error is returned. Not safe against concurrent callers on one file
  // beyond that guarantee.
  absl::StatusOr<core::Keyring> LoadOrCreate(absl::Time now, core::RandomSource& random) const;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace edgepass::server

#endif  // EDGEPASS_SERVER_ADAPTERS_FILE_KEYRING_STORE_H_
