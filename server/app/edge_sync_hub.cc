#include "server/app/edge_sync_hub.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace edgepass::server {
namespace {

// How often the hub thread re-checks for a stop while the snapshot is idle.
constexpr absl::Duration kPoll = absl::Milliseconds(200);

bool SameContent(const EdgeSnapshot& a, const EdgeSnapshot& b) {
  return a.SameAs(b) && a.revoked.SharesAllWith(b.revoked);
}

// The delta from `from` to `to`, as one message: from the change records
// the replica kept (O(change)), or, when they no longer reach back to
// `from`, by comparing the buckets the two lists do not share.
EdgeMessage Delta(const LiveState& live, const EdgeSnapshot& from, const EdgeSnapshot& to) {
  EdgeMessage m{.version = to.version, .complete = true, .keyring_fingerprint = to.keyring_fingerprint};
  if (from.keyring_fingerprint != to.keyring_fingerprint) m.keyring = to.keyring;
  std::optional<EdgeChange> change = live.EdgeChangesBetween(from.sequence, to.sequence);
  if (!change.has_value()) {
    EdgeRevokedSet::Diff(from.revoked, to.revoked, &m.revoked_add, &m.revoked_remove);
    return m;
  }
  for (EdgeRevoked& e : change->adds) {
    const std::optional<EdgeRevoked> had = from.revoked.Find(e.session_id);
    if (!had.has_value() || !(*had == e)) m.revoked_add.push_back(std::move(e));
  }
  for (std::string& id : change->removes) {
    if (from.revoked.Find(id).has_value()) m.revoked_remove.push_back(std::move(id));
  }
  return m;
}

}  // namespace

absl::Status CheckValidatorId(absl::string_view id) {
  bool ok = !id.empty() && id.size() <= kMaxValidatorIdBytes;
  for (char c : id) {
    ok = ok && (absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' || c == ':');
  }
  if (ok) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("validator_id: must be 1 to ", kMaxValidatorIdBytes, " characters of [A-Za-z0-9_.:-]"));
}

std::optional<EdgeMessage> EdgeSubscription::Pull() {
  if (hub_->stopping_.load()) return std::nullopt;
  absl::MutexLock lock(&mu_);
  if (marker_) {  // resumes: the validator already holds this version
    marker_ = false;
    hub_->SetSent(validator_id_, sent_->version);
    return EdgeMessage{.version = sent_->version, .complete = true, .keyring_fingerprint = sent_->keyring_fingerprint};
  }
  if (sending_ != nullptr) {  // the next part of a snapshot
    const EdgeSnapshot& snap = *sending_;
    EdgeMessage m{.version = snap.version, .snapshot = true, .keyring_fingerprint = snap.keyring_fingerprint};
    if (next_revoked_ == 0) {
      m.keyring = snap.keyring;
      m.snapshot_revoked_count = snap.revoked.size();
    }
    m.revoked_add.reserve(std::min(kRevokedPerMessage, snap.revoked.size() - next_revoked_));
    snap.revoked.Take(&cursor_, kRevokedPerMessage, &m.revoked_add);
    next_revoked_ += m.revoked_add.size();
    if (next_revoked_ == 0) next_revoked_ = 1;  // an empty list: the first message was sent
    m.complete = next_revoked_ >= snap.revoked.size();
    if (m.complete) {
      sent_ = std::move(sending_);
      sending_ = nullptr;
      hub_->SetSent(validator_id_, sent_->version);
    }
    return m;
  }
  std::shared_ptr<const EdgeSnapshot> latest = hub_->live_->edge();
  if (latest == sent_) return std::nullopt;
  if (SameContent(*latest, *sent_)) {
    sent_ = std::move(latest);
    return std::nullopt;
  }
  std::shared_ptr<const EdgeMessage> delta = hub_->DeltaFrom(sent_, latest);
  sent_ = std::move(latest);
  hub_->SetSent(validator_id_, sent_->version);
  return *delta;
}

bool EdgeSubscription::ended() const { return hub_->stopping_.load(); }

void EdgeSubscription::Wake() {
  absl::MutexLock lock(&wake_mu_);
  if (wake_) wake_();
}

void EdgeSubscription::Close() {
  absl::MutexLock lock(&wake_mu_);
  wake_ = nullptr;
}

EdgeSyncHub::~EdgeSyncHub() { Stop(); }

void EdgeSyncHub::Start() {
  // Read here, not in the thread: a subscription made after Start() returns
  // is then woken by every later change.
  std::shared_ptr<const EdgeSnapshot> seen = live_->edge();
  thread_ = std::thread([this, seen = std::move(seen)]() mutable { Run(std::move(seen)); });
}

void EdgeSyncHub::Stop() {
  if (stopping_.exchange(true)) return;
  if (thread_.joinable()) thread_.join();
  std::set<std::shared_ptr<EdgeSubscription>> subscriptions;
  {
    absl::MutexLock lock(&mu_);
    subscriptions = subscriptions_;
  }
  for (const auto& s : subscriptions) s->Wake();  // each sees ended()
}

void EdgeSyncHub::Run(std::shared_ptr<const EdgeSnapshot> seen) {
  while (!stopping_.load()) {
    std::shared_ptr<const EdgeSnapshot> next = live_->WaitForEdgeChange(*seen, kPoll);
    if (next == seen || SameContent(*next, *seen)) continue;
    std::set<std::shared_ptr<EdgeSubscription>> subscriptions;
    {
      absl::MutexLock lock(&mu_);
      subscriptions = subscriptions_;
    }
    // Computed once here, so the subscriptions' pulls share it.
    DeltaFrom(seen, next);
    seen = std::move(next);
    for (const auto& s : subscriptions) s->Wake();
  }
}

std::shared_ptr<const EdgeMessage> EdgeSyncHub::DeltaFrom(const std::shared_ptr<const EdgeSnapshot>& from,
                                                          const std::shared_ptr<const EdgeSnapshot>& to) {
  {
    absl::MutexLock lock(&mu_);
    if (shared_.from == from && shared_.to == to) return shared_.message;
  }
  auto message = std::make_shared<const EdgeMessage>(Delta(*live_, *from, *to));
  absl::MutexLock lock(&mu_);
  // Keep the newest: a subscription behind by more than one change computes its own.
  if (shared_.to == nullptr || to->version >= shared_.to->version) shared_ = {from, to, message};
  return message;
}

void EdgeSyncHub::SetSent(const std::string& validator_id, uint64_t version) {
  absl::MutexLock lock(&mu_);
  auto it = validators_.find(validator_id);
  if (it != validators_.end()) it->second.sent_version = version;
}

absl::StatusOr<std::shared_ptr<EdgeSubscription>> EdgeSyncHub::Subscribe(const SubscribeRequest& request,
                                                                         std::function<void()> wake) {
  if (absl::Status s = CheckValidatorId(request.validator_id); !s.ok()) return s;
  if (request.have_keyring_fingerprint.size() > kMaxFingerprintBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("have_keyring_fingerprint: longer than ", kMaxFingerprintBytes, " bytes"));
  }
  std::shared_ptr<EdgeSubscription> sub(new EdgeSubscription(this, request.validator_id, std::move(wake)));
  std::shared_ptr<const EdgeSnapshot> now = live_->edge();
  {
    absl::MutexLock lock(&sub->mu_);
    if (request.have_version == now->version && request.have_keyring_fingerprint == now->keyring_fingerprint) {
      sub->sent_ = now;
      sub->marker_ = true;
    } else {
      sub->sending_ = now;
    }
  }
  {
    absl::MutexLock lock(&mu_);
    if (stopping_.load()) return absl::UnavailableError("the replica is shutting down");
    if (validators_.size() >= kMaxTrackedValidators && validators_.count(request.validator_id) == 0) {
      for (auto it = validators_.begin(); it != validators_.end();) {
        it = it->second.streams == 0 ? validators_.erase(it) : std::next(it);
      }
      if (validators_.size() >= kMaxTrackedValidators) {
        return absl::ResourceExhaustedError("too many validators on this replica");
      }
    }
    Validator& v = validators_[request.validator_id];
    v.peer = request.peer;
    v.connected_at = clock_();
    ++v.streams;
    subscriptions_.insert(sub);
  }
  if (validator_listener_) validator_listener_();
  return sub;
}

void EdgeSyncHub::Unsubscribe(const std::shared_ptr<EdgeSubscription>& subscription) {
  subscription->Close();
  {
    absl::MutexLock lock(&mu_);
    if (subscriptions_.erase(subscription) == 0) return;
    auto it = validators_.find(subscription->validator_id_);
    if (it != validators_.end()) --it->second.streams;
  }
  if (validator_listener_) validator_listener_();
}

absl::Status EdgeSyncHub::Acknowledge(absl::string_view validator_id, uint64_t version,
                                      absl::string_view fingerprint) {
  if (absl::Status s = CheckValidatorId(validator_id); !s.ok()) return s;
  if (fingerprint.size() > kMaxFingerprintBytes) {
    return absl::InvalidArgumentError(absl::StrCat("keyring_fingerprint: longer than ", kMaxFingerprintBytes, " bytes"));
  }
  {
    absl::MutexLock lock(&mu_);
    auto it = validators_.find(std::string(validator_id));
    if (it == validators_.end()) {
      return absl::NotFoundError(
          absl::StrCat("validator_id: \"", validator_id, "\" has not subscribed to this replica"));
    }
    it->second.acked_version = version;
    it->second.acked_fingerprint = std::string(fingerprint);
  }
  if (validator_listener_) validator_listener_();
  return absl::OkStatus();
}

std::vector<ValidatorInfo> EdgeSyncHub::ListValidators() const {
  std::vector<ValidatorInfo> out;
  absl::MutexLock lock(&mu_);
  out.reserve(validators_.size());
  for (const auto& [id, v] : validators_) {
    out.push_back({.validator_id = id,
                   .peer = v.peer,
                   .connected_at = v.connected_at,
                   .sent_version = v.sent_version,
                   .acked_version = v.acked_version,
                   .acked_fingerprint = v.acked_fingerprint,
                   .connected = v.streams > 0});
  }
  return out;
}

ValidatorSummary EdgeSyncHub::Summarize(uint64_t edge_version) const {
  ValidatorSummary summary;
  absl::MutexLock lock(&mu_);
  for (const auto& [id, v] : validators_) {
    if (v.streams <= 0) continue;
    ++summary.connected;
    if (v.acked_version < edge_version) {
      ++summary.behind;
      summary.max_lag = std::max(summary.max_lag, edge_version - v.acked_version);
    }
  }
  return summary;
}

}  // namespace edgepass::server
