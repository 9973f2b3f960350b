// The edge validator library: holds the current keyring and revocation list
// and checks requests against them. Depends on edgepass::core only, so it can
// be linked into any proxy without gRPC.
//
//   EdgeValidator validator(*ParseKeyringJson(keyring_text));
//   Decision d = validator.Check({.uri = uri, .client_ip = ip, .headers = headers}, absl::Now());
//   if (!d.allow) return Reject(ReasonName(d.reason));
#ifndef EDGEPASS_CLIENT_VALIDATOR_EDGE_VALIDATOR_H_
#define EDGEPASS_CLIENT_VALIDATOR_EDGE_VALIDATOR_H_

#include <cstdint>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "client/validator/revoked_sessions.h"
#include "core/keyring.h"
#include "core/revocation.h"
#include "core/validator.h"

namespace edgepass::client {

// Thread-safe. Check() may run on many threads while SetKeyring() or
// SetRevocations() swap in new snapshots; a check sees one consistent pair.
class EdgeValidator {
 public:
  explicit EdgeValidator(core::Keyring keys, core::RevocationSet revoked = {},
                         core::ValidateOptions options = {});

  // Validates `request` at `now`. The returned path and session id view
  // request.uri, so they live as long as it does.
  core::Decision Check(const core::EdgeRequest& request, absl::Time now) const;

  void SetKeyring(core::Keyring keys);
  void SetRevocations(core::RevocationSet revoked);
  // Swaps in keyring and revocations together, tagged with the edge-sync
  // `version` they came from; checks see either the old pair or the new one.
  void SetState(uint64_t version, core::Keyring keys, core::RevocationSet revoked);
  // The same, sharing `revoked` (null: none revoked) with the caller instead
  // of taking a copy: a million-entry set is held once, not once per owner.
  void SetState(uint64_t version, core::Keyring keys,
                std::shared_ptr<const core::RevocationSet> revoked);
  // The same with a base set and an overlay of recent changes (null: none
  // revoked): applying an edge-sync delta swaps in a RevokedSessions that
  // shares the base with the previous one, so it costs the change. A check
  // pays one more probe only while the overlay is non-empty.
  void SwapState(uint64_t version, core::Keyring keys,
                 std::shared_ptr<const RevokedSessions> revoked);
  // The version of the last SetState() (0 before any; Set{Keyring,Revocations}
  // keep it).
  uint64_t version() const;

 private:
  struct Snapshot {
    core::Keyring keys;
    std::shared_ptr<const RevokedSessions> revoked;  // never null
    uint64_t version = 0;
  };
  std::shared_ptr<const Snapshot> snapshot() const;

  const core::ValidateOptions options_;
  mutable absl::Mutex mu_;
  std::shared_ptr<const Snapshot> snapshot_ ABSL_GUARDED_BY(mu_);
};

}  // namespace edgepass::client

#endif  // EDGEPASS_CLIENT_VALIDATOR_EDGE_VALIDATOR_H_
