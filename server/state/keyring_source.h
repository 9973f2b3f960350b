// Where issuers and the edge-sync stream get the current keyring: a cache in
// front of the SecretStore (in process for the embedded default, shared through
// Redis with a TTL and a single flight for a fleet).
//
//   absl::StatusOr<std::shared_ptr<const core::Keyring>> keys = source.Current();
//   if (!keys.ok()) return keys.status();          // UNAVAILABLE: nothing cached yet
//   const core::SigningKey* primary = (*keys)->Primary();
#ifndef EDGEPASS_SERVER_STATE_KEYRING_SOURCE_H_
#define EDGEPASS_SERVER_STATE_KEYRING_SOURCE_H_

#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/keyring.h"

namespace edgepass::server {

// Implementations are thread-safe and cheap per call (no I/O on the hot path
// while the cached keyring is fresh).
class KeyringSource {
 public:
  virtual ~KeyringSource() = default;

  // The current keyring. While the backing stores are unreachable the last
  // keyring obtained keeps being returned; UNAVAILABLE only when none was
  // ever obtained.
  virtual absl::StatusOr<std::shared_ptr<const core::Keyring>> Current() = 0;

  // After `keyring` was written to the secrets store (a rotation step):
  // serves it here at once and makes the other replicas pick it up soon.
  // An error means only the others may lag (until their cache refreshes).
  virtual absl::Status Share(const core::Keyring& keyring) = 0;
};

}  // namespace edgepass::server

#endif  // EDGEPASS_SERVER_STATE_KEYRING_SOURCE_H_
