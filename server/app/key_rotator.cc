#include "server/app/key_rotator.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/status_macros.h"
#include "logging/json_log.h"
#include "server/app/live_state.h"
#include "server/app/server_metrics.h"

namespace edgepass::server {
namespace {

using core::Keyring;
using core::KeyState;
using core::SigningKey;

// The key a rotation of ours is moving towards primary, or nullptr. A
// foreign key (SMD's rotation) is never ours to promote.
const SigningKey* InRotation(const Keyring& keyring) {
  for (const SigningKey& k : keyring.keys()) {
    if (k.foreign) continue;
    if (k.state == KeyState::kPending || k.state == KeyState::kDistributed) return &k;
  }
  return nullptr;
}

std::string IdOrEmpty(const SigningKey* key) { return key == nullptr ? "" : key->id; }

// Step 1: a new pending key; retired keys past not_after are gone.
absl::StatusOr<Keyring> WithNewPending(const Keyring& keyring, absl::Time now, core::RandomSource& random) {
  std::vector<SigningKey> keys;
  for (const SigningKey& k : keyring.keys()) {
    if (k.state == KeyState::kRetired && k.not_after <= now) continue;
    keys.push_back(k);
  }
  keys.push_back(core::GenerateSigningKey(now, KeyState::kPending, random));
  return Keyring::Create(std::move(keys));
}

absl::StatusOr<Keyring> WithState(const Keyring& keyring, absl::string_view id, KeyState state) {
  std::vector<SigningKey> keys = keyring.keys();
  for (SigningKey& k : keys) {
    if (k.id == id) k.state = state;
  }
  return Keyring::Create(std::move(keys));
}

// Step 3: `id` becomes primary, the primary secondary, the secondary retired.
// One keyring, one write: there is never a moment with two primaries or none.
absl::StatusOr<Keyring> Promoted(const Keyring& keyring, absl::string_view id, absl::Time retire_until) {
  std::vector<SigningKey> keys = keyring.keys();
  for (SigningKey& k : keys) {
    if (k.id == id) {
      k.state = KeyState::kPrimary;
    } else if (k.state == KeyState::kPrimary) {
      k.state = KeyState::kSecondary;
    } else if (k.state == KeyState::kSecondary) {
      k.state = KeyState::kRetired;
      k.not_after = retire_until;
    }
  }
  return Keyring::Create(std::move(keys));
}

}  // namespace

absl::string_view RotationStepName(RotationStep step) {
  switch (step) {
    case RotationStep::kStoredPending: return "stored_pending";
    case RotationStep::kDistributed: return "distributed";
    case RotationStep::kPromoted: return "promoted";
  }
  return "unknown";
}

KeyRotator::KeyRotator(KeyRotatorDeps deps, KeyRotatorOptions options)
    : deps_(std::move(deps)), options_(std::move(options)) {}

KeyRotator::~KeyRotator() { Stop(); }

absl::StatusOr<RotationReport> KeyRotator::Rotate() {
  EDGEPASS_ASSIGN_OR_RETURN(std::optional<RotationReport> report, Attempt(/*only_if_wanted=*/false));
  return *std::move(report);  // asked unconditionally: always a report
}

bool KeyRotator::Wanted(const Keyring& keyring) const {
  const SigningKey* primary = keyring.Primary();
  return InRotation(keyring) != nullptr || primary == nullptr ||
         options_.schedule.Due(primary->created_at, deps_.clock());
}

absl::StatusOr<std::optional<RotationReport>> KeyRotator::Attempt(bool only_if_wanted) {
  {
    absl::MutexLock lock(&mu_);
    // One at a time on this replica. The schedule's thread leaves it to the
    // one running and looks again later; a caller waits for it to end (a
    // check of the schedule's takes a store read).
    if (only_if_wanted && state_.in_progress) return std::nullopt;
    if (!mu_.AwaitWithTimeout(absl::Condition(
                                  +[](RotationState* state) { return !state->in_progress; }, &state_),
                              options_.caller_wait)) {
      return absl::AbortedError("a key rotation is already running on this replica");
    }
    state_.in_progress = true;
  }
  auto give_up = [this](absl::Status status) -> absl::StatusOr<std::optional<RotationReport>> {
    absl::MutexLock lock(&mu_);
    state_.in_progress = false;
    if (status.ok()) return std::nullopt;
    return status;
  };
  // The schedule's thread saw a rotation wanted in this replica's cached
  // keyring, which may be a moment behind: the stored one decides. Read
  // first without the rotation lock (a rotation another replica has just
  // finished then holds up nobody), and again under it, since that rotation
  // may have ended in between.
  auto wanted_in_store = [this]() -> absl::StatusOr<bool> {
    absl::StatusOr<Keyring> stored = deps_.store->ReadKeyring();
    if (!stored.ok()) {
      logging::Warning("key_rotation_check_failed").Str("error", stored.status().ToString());
      return stored.status();
    }
    return Wanted(*stored);
  };
  if (only_if_wanted) {
    absl::StatusOr<bool> wanted = wanted_in_store();
    if (!wanted.ok() || !*wanted) return give_up(wanted.status());
  }
  absl::StatusOr<std::optional<RotationLease>> lease = deps_.lock->Acquire(options_.lock_ttl);
  if (!lease.ok()) return give_up(lease.status());
  if (!lease->has_value()) {
    return give_up(absl::AbortedError("another replica is rotating keys (the rotation lock is held)"));
  }
  if (only_if_wanted) {
    absl::StatusOr<bool> wanted = wanted_in_store();
    if (!wanted.ok() || !*wanted) {
      deps_.lock->Release(**lease);
      return give_up(wanted.status());
    }
  }
  absl::StatusOr<RotationReport> report = RotateLocked(**lease);
  deps_.lock->Release(**lease);
  Finish(report.status(), report.status().code() == absl::StatusCode::kDeadlineExceeded);
  if (report.ok()) {
    logging::Info("key_rotated")
        .Str("primary", report->new_primary)
        .Str("previous", report->previous_primary)
        .Int("validators", static_cast<int64_t>(report->validators))
        .Int("ack_wait_ms", absl::ToInt64Milliseconds(report->waited_for_acks))
        .Int("resumed", report->resumed ? 1 : 0);
  } else {
    logging::Warning("key_rotation_failed").Str("error", report.status().ToString());
    return report.status();
  }
  return std::optional<RotationReport>(*std::move(report));
}

absl::StatusOr<RotationReport> KeyRotator::RotateLocked(const RotationLease& lease) {
  EDGEPASS_ASSIGN_OR_RETURN(Keyring keyring, deps_.store->ReadKeyring());
  RotationReport report;
  const SigningKey* rotating = InRotation(keyring);
  std::string id;
  if (rotating == nullptr) {
    report.previous_primary = IdOrEmpty(keyring.Primary());
    EDGEPASS_ASSIGN_OR_RETURN(keyring, WithNewPending(keyring, deps_.clock(), *deps_.random));
    id = keyring.keys().back().id;
    EDGEPASS_RETURN_IF_ERROR(Write(lease, keyring));
    if (options_.after_step) options_.after_step(RotationStep::kStoredPending);
  } else {
    report.resumed = true;
    report.previous_primary = IdOrEmpty(keyring.Primary());
    id = rotating->id;
  }
  if (keyring.Find(id)->state == KeyState::kPending) {
    // Published again: a resumed rotation, or a replica whose cache fill
    // raced the write, must not keep a validator from ever seeing it.
    (void)deps_.keys->Share(keyring);
    EDGEPASS_RETURN_IF_ERROR(AwaitAcknowledgements(lease, keyring, &report));
    EDGEPASS_ASSIGN_OR_RETURN(keyring, WithState(keyring, id, KeyState::kDistributed));
    EDGEPASS_RETURN_IF_ERROR(Write(lease, keyring));
    if (options_.after_step) options_.after_step(RotationStep::kDistributed);
  }
  EDGEPASS_ASSIGN_OR_RETURN(keyring, Promoted(keyring, id, deps_.clock() + options_.retired_validity));
  EDGEPASS_RETURN_IF_ERROR(Write(lease, keyring));
  if (options_.after_step) options_.after_step(RotationStep::kPromoted);
  report.new_primary = id;
  return report;
}

absl::Status KeyRotator::Write(const RotationLease& lease, const Keyring& keyring) {
  EDGEPASS_RETURN_IF_ERROR(deps_.lock->Renew(lease, options_.lock_ttl));
  EDGEPASS_RETURN_IF_ERROR(deps_.store->WriteKeyring(keyring));
  // The store has it: replicas that miss the shared copy read it at their
  // next refresh, so a failed share is not a failed step.
  if (absl::Status s = deps_.keys->Share(keyring); !s.ok()) {
    logging::Warning("keyring_share_failed").Str("error", s.ToString());
  }
  return absl::OkStatus();
}

absl::Status KeyRotator::AwaitAcknowledgements(const RotationLease& lease, const Keyring& keyring,
                                               RotationReport* report) {
  const std::string fingerprint = KeyringFingerprint(keyring);
  const absl::Time start = deps_.clock();
  const absl::Time deadline = start + options_.ack_deadline;
  absl::Time renewed = start, shared = start;
  std::vector<std::string> missing;
  size_t live = 0;
  absl::Status last_error;
  while (true) {
    const absl::Time now = deps_.clock();
    absl::StatusOr<std::vector<ValidatorAck>> validators =
        deps_.directory->List(now - options_.validator_liveness);
    if (validators.ok()) {
      missing.clear();
      for (const ValidatorAck& v : *validators) {
        if (v.keyring_fingerprint != fingerprint) missing.push_back(v.validator_id);
      }
      live = validators->size();
      if (missing.empty() && now - start >= options_.directory_settle) {
        report->validators = live;
        report->waited_for_acks = now - start;
        absl::MutexLock lock(&mu_);
        state_.unacknowledged.clear();
        return absl::OkStatus();
      }
    } else {
      last_error = validators.status();
    }
    if (now >= deadline) {
      const std::string id = InRotation(keyring)->id;
      if (!validators.ok()) {
        return absl::DeadlineExceededError(absl::StrCat("key ", id, ": the validator directory could not be read (",
                                                        last_error.message(), "); nothing was promoted"));
      }
      absl::MutexLock lock(&mu_);
      state_.unacknowledged = missing;
      constexpr size_t kNamed = 10;
      std::vector<std::string> named(missing.begin(), missing.begin() + std::min(missing.size(), kNamed));
      return absl::DeadlineExceededError(absl::StrCat(
          missing.size(), " of ", live, " live validators did not acknowledge key ", id, " within ",
          absl::FormatDuration(options_.ack_deadline), " (", absl::StrJoin(named, ", "),
          missing.size() > kNamed ? ", ..." : "", "); it stays pending and nothing was promoted"));
    }
    if (now - renewed >= options_.lock_ttl / 3) {
      EDGEPASS_RETURN_IF_ERROR(deps_.lock->Renew(lease, options_.lock_ttl));
      renewed = now;
    }
    if (now - shared >= absl::Seconds(1)) {
      (void)deps_.keys->Share(keyring);
      shared = now;
    }
    {
      absl::MutexLock lock(&mu_);
      if (mu_.AwaitWithTimeout(absl::Condition(&stop_), options_.poll)) {
        return absl::AbortedError("the server is stopping; the key stays pending");
      }
    }
  }
}

void KeyRotator::Finish(const absl::Status& outcome, bool stalled) {
  if (deps_.metrics != nullptr) deps_.metrics->RecordKeyRotation(outcome);
  absl::MutexLock lock(&mu_);
  state_.in_progress = false;
  state_.last_attempt = deps_.clock();
  state_.last_outcome = std::string(OutcomeName(outcome.code()));
  state_.last_message = std::string(outcome.message());
  if (outcome.ok()) {
    state_.last_success = state_.last_attempt;
    state_.stalled = false;
  } else if (stalled) {
    state_.stalled = true;
  }
}

absl::StatusOr<KeyringStatus> KeyRotator::RevokeKey(absl::string_view key_id, bool confirm_tokens_refused) {
  if (!confirm_tokens_refused) {
    return absl::FailedPreconditionError(absl::StrCat(
        "confirm_tokens_refused: must be true: every token signed with key ", key_id,
        " is refused once it is revoked"));
  }
  EDGEPASS_ASSIGN_OR_RETURN(std::optional<RotationLease> lease, deps_.lock->Acquire(options_.lock_ttl));
  if (!lease.has_value()) return absl::AbortedError("another replica is rotating keys (the rotation lock is held)");
  absl::Status written = [&]() -> absl::Status {
    EDGEPASS_ASSIGN_OR_RETURN(Keyring keyring, deps_.store->ReadKeyring());
    const SigningKey* revoked = keyring.Find(key_id);
    if (revoked == nullptr) return absl::NotFoundError(absl::StrCat("key_id: no key \"", key_id, "\""));
    if (revoked->foreign) {
      return absl::FailedPreconditionError(absl::StrCat(
          "key_id: key ", key_id, " belongs to another rotation (SMD's), not to edgepass; "
          "it is removed where that rotation stores it"));
    }
    const bool was_primary = revoked->state == KeyState::kPrimary;
    std::vector<SigningKey> keys;
    for (const SigningKey& k : keyring.keys()) {
      if (k.id != key_id) keys.push_back(k);
    }
    if (was_primary) {
      // The key closest to the validators takes over; a fresh one otherwise.
      auto next = std::find_if(keys.begin(), keys.end(),
                               [](const SigningKey& k) { return k.state == KeyState::kDistributed && !k.foreign; });
      if (next == keys.end()) {
        next = std::find_if(keys.begin(), keys.end(),
                            [](const SigningKey& k) { return k.state == KeyState::kPending && !k.foreign; });
      }
      if (next == keys.end()) {
        keys.push_back(core::GenerateSigningKey(deps_.clock(), KeyState::kPrimary, *deps_.random));
      } else {
        next->state = KeyState::kPrimary;
      }
    }
    EDGEPASS_ASSIGN_OR_RETURN(Keyring next, Keyring::Create(std::move(keys)));
    EDGEPASS_RETURN_IF_ERROR(Write(*lease, next));
    logging::Warning("key_revoked").Str("key", key_id).Str("primary", IdOrEmpty(next.Primary()));
    return absl::OkStatus();
  }();
  deps_.lock->Release(*lease);
  EDGEPASS_RETURN_IF_ERROR(written);
  return Status();
}

RotationState KeyRotator::state() const {
  absl::MutexLock lock(&mu_);
  return state_;
}

absl::StatusOr<KeyringStatus> KeyRotator::Status() {
  EDGEPASS_ASSIGN_OR_RETURN(std::shared_ptr<const Keyring> keyring, deps_.keys->Current());
  KeyringStatus status;
  for (const SigningKey& k : keyring->keys()) {
    status.keys.push_back({.id = k.id,
                           .state = k.state,
                           .created_at = k.created_at,
                           .not_after = k.not_after,
                           .foreign = k.foreign});
  }
  status.rotation = state();
  status.schedule = options_.schedule.ToString();
  return status;
}

void KeyRotator::Start() {
  thread_ = std::thread([this] { Run(); });
}

void KeyRotator::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void KeyRotator::Run() {
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (mu_.AwaitWithTimeout(absl::Condition(&stop_), options_.check_interval)) return;
      if (deps_.clock() < next_try_) continue;
    }
    // The cached keyring first, so that the store is read only when a
    // rotation looks wanted (Attempt checks the stored one).
    absl::StatusOr<std::shared_ptr<const Keyring>> keyring = deps_.keys->Current();
    if (!keyring.ok() || !Wanted(**keyring)) continue;
    absl::StatusOr<std::optional<RotationReport>> report = Attempt(/*only_if_wanted=*/true);
    if (!report.ok() && report.status().code() != absl::StatusCode::kAborted) {
      absl::MutexLock lock(&mu_);
      next_try_ = deps_.clock() + options_.retry_after;
    }
  }
}

}  // namespace edgepass::server
