// The durable home of the signing keys (DESIGN.md: the secrets store). Reads
// are expensive and quota-limited (AWS Secrets Manager), so issuers never read
// it per request: they go through a KeyringSource that caches it.
//
//   FileSecretStore store(data_dir + "/keyring.json");
//   absl::StatusOr<core::Keyring> keys = store.ReadKeyring();
//   int64_t reads = store.read_count();   // read_error_count(): the failed ones
#ifndef EDGEPASS_SERVER_STATE_SECRET_STORE_H_
#define EDGEPASS_SERVER_STATE_SECRET_STORE_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/keyring.h"

namespace edgepass::server {

// Implementations are thread-safe.
class SecretStore {
 public:
  virtual ~SecretStore() = default;

  // The stored keyring. UNAVAILABLE when the store cannot be reached;
  // FAILED_PRECONDITION when what is stored does not parse (it is never
  // overwritten then). Every call counts in read_count().
  virtual absl::StatusOr<core::Keyring> ReadKeyring() = 0;

  // Replaces the stored keyring durably (rotation). OK only once stored.
  virtual absl::Status WriteKeyring(const core::Keyring& keyring) = 0;

  // ReadKeyring() calls so far, successful or not (metrics and the
  // bounded-reads tests).
  virtual int64_t read_count() const = 0;

  // ReadKeyring() calls so far that returned an error (metrics).
  virtual int64_t read_error_count() const = 0;
};

}  // namespace edgepass::server

#endif  // EDGEPASS_SERVER_STATE_SECRET_STORE_H_
