// The durable home of the signing keys (DESIGN.md: the secrets store). Reads
// are expensive and quota-limited (AWS Secrets Manager), so issuers never read
// it per request: they go through a KeyringSource that caches it.
//
//   FileSecretStore store(data_dir + "/keyring.json");
//   absl::StatusOr<core::Keyring> keys = store.ReadKeyring();
//   int64_t reads = store.read_count();   // read_error_count(): the failed ones
//
// It also holds the CloudFront private keys (RSA, by key pair id) that the
// cloudfront-url / cloudfront-cookie asset schemes sign with; the catalog only
// names a key pair id, never holds a key.
//
//   EDGEPASS_RETURN_IF_ERROR(store.WriteCloudFrontKey({.key_pair_id = "K2JCJMDEHXQW5F",
//                                                      .private_key_pem = pem}));
//   absl::StatusOr<std::vector<CloudFrontKeyEntry>> keys = store.ReadCloudFrontKeys();
#ifndef EDGEPASS_SERVER_STATE_SECRET_STORE_H_
#define EDGEPASS_SERVER_STATE_SECRET_STORE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/keyring.h"

namespace edgepass::server {

// One CloudFront private key as stored: its CloudFront key pair id and the
// unencrypted RSA private key in PEM. Never logged; errors never quote it.
struct CloudFrontKeyEntry {
  std::string key_pair_id;
  std::string private_key_pem;
};

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

  // The stored CloudFront keys (empty when none was ever stored), in key pair
  // id order. Errors as ReadKeyring(). Not counted in read_count(). The
  // default implementation holds none.
  virtual absl::StatusOr<std::vector<CloudFrontKeyEntry>> ReadCloudFrontKeys() {
    return std::vector<CloudFrontKeyEntry>();
  }

  // Adds or replaces the key of entry.key_pair_id durably; the other keys are
  // kept. The caller validates the key first (KeyService does). OK only once
  // stored. The default implementation refuses (UNIMPLEMENTED).
  virtual absl::Status WriteCloudFrontKey(const CloudFrontKeyEntry& entry) {
    (void)entry;
    return absl::UnimplementedError("this secrets store holds no CloudFront keys");
  }

  // ReadKeyring() calls so far, successful or not (metrics and the
  // bounded-reads tests).
  virtual int64_t read_count() const = 0;

  // ReadKeyring() calls so far that returned an error (metrics).
  virtual int64_t read_error_count() const = 0;
};

}  // namespace edgepass::server

#endif  // EDGEPASS_SERVER_STATE_SECRET_STORE_H_
