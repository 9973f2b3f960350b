#include "client/validator/revoked_sessions.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace edgepass::client {
namespace {

const std::shared_ptr<const core::RevocationSet>& EmptySet() {
  static const auto* const empty = new std::shared_ptr<const core::RevocationSet>(
      std::make_shared<const core::RevocationSet>());
  return *empty;
}

}  // namespace

RevokedSessions::RevokedSessions() : RevokedSessions(EmptySet(), EmptySet(), 0) {}

RevokedSessions::RevokedSessions(std::shared_ptr<const core::RevocationSet> base)
    : RevokedSessions(base != nullptr ? base : EmptySet(), EmptySet(),
                      base != nullptr ? base->size() : 0) {}

RevokedSessions::RevokedSessions(std::shared_ptr<const core::RevocationSet> base,
                                 std::shared_ptr<const core::RevocationSet> overlay, size_t size)
    : base_(std::move(base)), overlay_(std::move(overlay)), size_(size) {
  view_ = overlay_->size() == 0 ? base_->view() : base_->view().WithOverlay(overlay_->view());
}

std::shared_ptr<const RevokedSessions> RevokedSessions::Share(core::RevocationSet set) {
  return std::make_shared<const RevokedSessions>(
      std::make_shared<const core::RevocationSet>(std::move(set)));
}

std::shared_ptr<const RevokedSessions> RevokedSessions::Empty() {
  static const auto* const empty =
      new std::shared_ptr<const RevokedSessions>(std::make_shared<const RevokedSessions>());
  return *empty;
}

size_t RevokedSessions::OverlayLimit(size_t base_size) {
  return std::max<size_t>(1024, static_cast<size_t>(2 * std::sqrt(static_cast<double>(base_size))));
}

std::shared_ptr<const RevokedSessions> RevokedSessions::Apply(
    absl::Span<const RevocationChange> changes, bool* ok) const {
  if (ok != nullptr) *ok = true;
  core::RevocationSet overlay = *overlay_;  // small: at most OverlayLimit() entries
  size_t size = size_;
  for (const RevocationChange& change : changes) {
    absl::Time current;
    const bool present = overlay.size() > 0
                             ? base_->view().WithOverlay(overlay.view()).Lookup(change.session_id, &current)
                             : base_->Lookup(change.session_id, &current);
    bool done = true;
    if (change.remove) {
      if (!present) continue;
      done = overlay.Put(change.session_id, absl::InfinitePast());
      if (done) --size;
    } else if (!present) {
      done = overlay.Put(change.session_id, change.expires_at);
      if (done) ++size;
    } else if (current < change.expires_at) {
      done = overlay.Put(change.session_id, change.expires_at);
    }
    if (!done && ok != nullptr) *ok = false;
  }
  auto next = std::shared_ptr<const RevokedSessions>(new RevokedSessions(
      base_, std::make_shared<const core::RevocationSet>(std::move(overlay)), size));
  if (next->overlay_->size() <= OverlayLimit(base_->size())) return next;
  return Share(next->Compacted());
}

core::RevocationSet RevokedSessions::Compacted() const {
  core::RevocationSet out;
  out.Reserve(size_);
  ForEach([&out](absl::string_view id, absl::Time expires_at) { out.Add(id, expires_at); });
  return out;
}

void RevokedSessions::ForEach(absl::FunctionRef<void(absl::string_view, absl::Time)> fn) const {
  if (overlay_->size() == 0) return base_->ForEach(fn);
  // On the overlay alone (no overlay of its own), a removal is an entry
  // expiring at InfinitePast.
  const core::RevocationView overlay = overlay_->view();
  base_->ForEach([&](absl::string_view id, absl::Time expires_at) {
    absl::Time changed;
    if (!overlay.Lookup(id, &changed)) return fn(id, expires_at);
    if (changed != absl::InfinitePast()) fn(id, changed);
  });
  overlay_->ForEach([&](absl::string_view id, absl::Time expires_at) {
    absl::Time unused;
    if (expires_at != absl::InfinitePast() && !base_->Lookup(id, &unused)) fn(id, expires_at);
  });
}

}  // namespace edgepass::client
