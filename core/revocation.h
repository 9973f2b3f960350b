// The set of revoked playback sessions a validator checks, by exact id.
//
//   RevocationSet revoked;
//   revoked.Add("pTq3ZkW8sN1x", absl::FromUnixSeconds(1767225600));
//   bool denied = revoked.Contains("pTq3ZkW8sN1x");
#ifndef EDGEPASS_CORE_REVOCATION_H_
#define EDGEPASS_CORE_REVOCATION_H_

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace edgepass::core {

// Thread-compatible: build it, then share it const.
class RevocationSet {
 public:
  // Adds (or extends) a revoked session; it stays revoked until `expires_at`
  // (infinite future: until removed).
  void Add(std::string session_id, absl::Time expires_at = absl::InfiniteFuture());
  // True when `session_id` is revoked at `now`. One hash lookup, no allocation.
  bool Contains(absl::string_view session_id, absl::Time now) const;
  size_t size() const { return entries_.size(); }

 private:
  absl::flat_hash_map<std::string, absl::Time> entries_;
};

// Parses a revocation list file: a JSON array of session ids, or of objects
// {"session_id": "...", "expires_at": EPOCH}, or {"sessions": [...]} of either.
// INVALID_ARGUMENT naming the entry otherwise.
absl::StatusOr<RevocationSet> ParseRevocationJson(absl::string_view json);

}  // namespace edgepass::core

#endif  // EDGEPASS_CORE_REVOCATION_H_
