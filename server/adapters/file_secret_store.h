// SecretStore of the embedded default: the keyring file of the data
// directory (core's keyring format, mode 0600), counting reads, and the
// CloudFront private keys in a second file beside it
// (cloudfront_keys.json, mode 0600):
//   {"cloudfront_keys": [{"key_pair_id": "K2JCJMDEHXQW5F", "private_key_pem": "-----BEGIN ..."}]}
//
//   FileSecretStore store(data_dir + "/keyring.json");
//   EDGEPASS_RETURN_IF_ERROR(store.LoadOrCreate(absl::Now(), random).status());  // first start
//   absl::StatusOr<core::Keyring> keys = store.ReadKeyring();
#ifndef EDGEPASS_SERVER_ADAPTERS_FILE_SECRET_STORE_H_
#define EDGEPASS_SERVER_ADAPTERS_FILE_SECRET_STORE_H_

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "server/adapters/file_keyring_store.h"
#include "server/state/secret_store.h"

namespace edgepass::server {

// Thread-safe; writes are serialized within the process (one process owns
// the data directory).
class FileSecretStore : public SecretStore {
 public:
  // `cloudfront_keys_path` "": cloudfront_keys.json in the directory of `path`.
  explicit FileSecretStore(std::string path, std::string cloudfront_keys_path = "");

  // FileKeyringStore::Load(): NOT_FOUND when the file is absent,
  // FAILED_PRECONDITION when it does not parse, has no primary key or is
  // readable by others; PERMISSION_DENIED / INTERNAL for I/O errors.
  absl::StatusOr<core::Keyring> ReadKeyring() override;

  // Replaces the file atomically (mode 0600, fsync'd). INVALID_ARGUMENT when
  // the keyring has no primary key (nothing written).
  absl::Status WriteKeyring(const core::Keyring& keyring) override;

  // {} when the file is absent; FAILED_PRECONDITION when it does not parse
  // or is readable by others (never overwritten then); PERMISSION_DENIED /
  // INTERNAL for I/O errors.
  absl::StatusOr<std::vector<CloudFrontKeyEntry>> ReadCloudFrontKeys() override;
  // Read, add or replace, write atomically (mode 0600, fsync'd). INVALID_ARGUMENT
  // "key_pair_id: ..." / "private_key_pem: required" for an entry that cannot
  // be stored (nothing written).
  absl::Status WriteCloudFrontKey(const CloudFrontKeyEntry& entry) override;

  int64_t read_count() const override { return reads_.load(std::memory_order_relaxed); }
  int64_t read_error_count() const override { return read_errors_.load(std::memory_order_relaxed); }

  // First start: FileKeyringStore::LoadOrCreate(). Counts as one read.
  absl::StatusOr<core::Keyring> LoadOrCreate(absl::Time now, core::RandomSource& random);

  const std::string& path() const { return file_.path(); }
  const std::string& cloudfront_keys_path() const { return cloudfront_keys_path_; }

 private:
  const FileKeyringStore file_;
  const std::string cloudfront_keys_path_;
  absl::Mutex write_mu_;
  std::atomic<int64_t> reads_{0};
  std::atomic<int64_t> read_errors_{0};
};

}  // namespace edgepass::server

#endif  // EDGEPASS_SERVER_ADAPTERS_FILE_SECRET_STORE_H_
