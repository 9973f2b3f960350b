// The revoked sessions a validator checks, as a large shared base set and a
// small overlay of the changes made since it was built, so that a change
// costs the change (plus a copy of the overlay, at most OverlayLimit()
// entries: tens of kilobytes at a million sessions), not a rebuild of a
// million-entry set. Immutable: a change makes a new RevokedSessions sharing
// the base; the overlay is folded into a new base once it outgrows its limit
// (amortized O(1) per change, since the limit grows with the base).
//
//   auto revoked = RevokedSessions::Share(std::move(set_from_snapshot));
//   revoked = revoked->Apply({{.session_id = "pTq3ZkW8sN1x"},
//                             {.session_id = "aaaaaaa1", .remove = true}});
//   core::Validate(request, keys, revoked->view(), now);
#ifndef EDGEPASS_CLIENT_VALIDATOR_REVOKED_SESSIONS_H_
#define EDGEPASS_CLIENT_VALIDATOR_REVOKED_SESSIONS_H_

#include <cstddef>
#include <memory>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "core/revocation.h"

namespace edgepass::client {

// One change of an edge-sync delta: a removal, or an addition that keeps the
// later expiry when the id is already revoked (what core::RevocationSet::Add
// does). Replaying the same changes on the same set gives the same set.
struct RevocationChange {
  std::string session_id;
  absl::Time expires_at = absl::InfiniteFuture();  // ignored for a removal
  bool remove = false;
};

class RevokedSessions {
 public:
  RevokedSessions();  // none revoked
  explicit RevokedSessions(std::shared_ptr<const core::RevocationSet> base);
  static std::shared_ptr<const RevokedSessions> Share(core::RevocationSet set);
  // The shared empty one.
  static std::shared_ptr<const RevokedSessions> Empty();

  // This set with `changes` applied in order (a removal of an id not revoked
  // does nothing), sharing the base unless the overlay outgrew its limit and
  // was folded into a new one. False in `*ok` (when given) for a change that
  // core::RevocationSet refuses (an empty or over-long id), which is skipped.
  std::shared_ptr<const RevokedSessions> Apply(absl::Span<const RevocationChange> changes,
                                               bool* ok = nullptr) const;
  // Base and overlay folded into one set.
  core::RevocationSet Compacted() const;

  // The lookup the validator runs: base and overlay, no allocation.
  core::RevocationView view() const { return view_; }
  bool Contains(absl::string_view session_id, absl::Time now) const {
    return view_.Contains(session_id, now);
  }
  // Sessions with an entry (expired ones included, as core::RevocationSet).
  size_t size() const { return size_; }
  // Every entry, base first (in the order added), then those only the
  // overlay holds.
  void ForEach(absl::FunctionRef<void(absl::string_view, absl::Time)> fn) const;

  const std::shared_ptr<const core::RevocationSet>& base() const { return base_; }
  // Changed ids with their expiry; a removed one expires at
  // absl::InfinitePast(). Empty when nothing changed since the base.
  const core::RevocationSet& overlay() const { return *overlay_; }
  // The most entries the overlay holds over a base of `base_size` before a
  // change folds it in: max(1024, 2 * sqrt(base_size)), which keeps the
  // overlay copy per change and the fold every so many changes about equal.
  static size_t OverlayLimit(size_t base_size);

 private:
  RevokedSessions(std::shared_ptr<const core::RevocationSet> base,
                  std::shared_ptr<const core::RevocationSet> overlay, size_t size);

  std::shared_ptr<const core::RevocationSet> base_;     // never null
  std::shared_ptr<const core::RevocationSet> overlay_;  // never null
  size_t size_ = 0;
  core::RevocationView view_;
};

}  // namespace edgepass::client

#endif  // EDGEPASS_CLIENT_VALIDATOR_REVOKED_SESSIONS_H_
