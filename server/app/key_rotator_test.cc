// Key rotation in process: the rotator over an in-memory secrets store, the
// local lock and validator directory, and the real CSPRNG. Validators are
// entries in the directory, acknowledging (or not) the keyring shared.
#include "server/app/key_rotator.h"

#include <atomic>
#include <memory>
#include <thread>

#include "absl/strings/match.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "core/keyring.h"
#include "core/random.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/adapters/local_rotation.h"
#include "server/app/live_state.h"
#include "server/app/rotation_schedule.h"
#include "tests/fakes/in_memory_state.h"
#include "tests/fakes/test_clock.h"

namespace edgepass::server {
namespace {

using core::KeyState;
using core::Keyring;
using ::edgepass::testing::FixedKeyringSource;
using ::edgepass::testing::InMemorySecretStore;
using ::edgepass::testing::TestClock;
using ::testing::HasSubstr;

Keyring OneKey(core::RandomSource& random) {
  return *Keyring::Create({core::GenerateSigningKey(absl::Now() - absl::Hours(1), KeyState::kPrimary, random)});
}

KeyState StateOf(const Keyring& k, const std::string& id) { return k.Find(id)->state; }

class KeyRotatorTest : public ::testing::Test {
 protected:
  KeyRotatorTest()
      : store_(OneKey(random_)),
        keys_(std::make_shared<const Keyring>(store_.Stored())),
        lock_([] { return absl::Now(); }) {}

  std::unique_ptr<KeyRotator> Make(KeyRotatorOptions options = {}) {
    if (options.ack_deadline == absl::Seconds(60)) options.ack_deadline = absl::Seconds(5);
    if (options.directory_settle == absl::Milliseconds(1500)) options.directory_settle = absl::ZeroDuration();
    options.poll = absl::Milliseconds(10);
    return std::make_unique<KeyRotator>(KeyRotatorDeps{.store = &store_,
                                                       .keys = &keys_,
                                                       .lock = lock_ptr_ != nullptr ? lock_ptr_ : &lock_,
                                                       .directory = &directory_,
                                                       .random = &random_,
                                                       .clock = [] { return absl::Now(); }},
                                        std::move(options));
  }

  // A validator that holds (has acknowledged) `keyring`.
  void Validator(const std::string& id, const Keyring& keyring) {
    ASSERT_TRUE(directory_
                    .Publish("replica-a", {{.validator_id = id,
                                            .keyring_fingerprint = KeyringFingerprint(keyring),
                                            .seen_at = absl::Now()}})
                    .ok());
  }

  std::string PrimaryId() { return store_.Stored().Primary()->id; }

  core::SecureRandom random_;
  InMemorySecretStore store_;
  FixedKeyringSource keys_;
  LocalRotationLock lock_;
  RotationLock* lock_ptr_ = nullptr;
  LocalValidatorDirectory directory_;
};

TEST_F(KeyRotatorTest, PromotesANewKeyAndKeepsTheOldOnesValidatingUntilTheirTokensExpire) {
  auto rotator = Make({.retired_validity = absl::Hours(25)});
  const std::string first = PrimaryId();

  absl::StatusOr<RotationReport> r1 = rotator->Rotate();
  ASSERT_TRUE(r1.ok()) << r1.status();
  EXPECT_EQ(r1->previous_primary, first);
  EXPECT_NE(r1->new_primary, first);
  EXPECT_FALSE(r1->resumed);
  Keyring after1 = store_.Stored();
  EXPECT_EQ(after1.Primary()->id, r1->new_primary);
  EXPECT_EQ(StateOf(after1, first), KeyState::kSecondary);
  EXPECT_TRUE(absl::StrContains(after1.Primary()->id, "_"));  // YYYYMMDD_<20 hex>
  EXPECT_EQ(after1.Primary()->value.size(), core::kKeyValueLength);
  // Issuers on this replica got it at once.
  EXPECT_EQ((*keys_.Current())->Primary()->id, r1->new_primary);

  const absl::Time before = absl::Now();
  absl::StatusOr<RotationReport> r2 = rotator->Rotate();
  ASSERT_TRUE(r2.ok()) << r2.status();
  Keyring after2 = store_.Stored();
  EXPECT_EQ(StateOf(after2, r1->new_primary), KeyState::kSecondary);
  ASSERT_EQ(StateOf(after2, first), KeyState::kRetired);
  EXPECT_GE(after2.Find(first)->not_after, before + absl::Hours(25) - absl::Seconds(1));
  int primaries = 0;
  for (const core::SigningKey& k : after2.keys()) primaries += k.state == KeyState::kPrimary;
  EXPECT_EQ(primaries, 1);
  EXPECT_EQ(rotator->state().last_outcome, "ok");
}

TEST_F(KeyRotatorTest, RetiredKeysPastNotAfterAreGoneAtTheNextRotation) {
  auto rotator = Make({.retired_validity = absl::ZeroDuration()});
  const std::string first = PrimaryId();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(rotator->Rotate().ok());
  // first: primary -> secondary -> retired (not_after = then) -> gone.
  EXPECT_EQ(store_.Stored().Find(first), nullptr);
  EXPECT_EQ(store_.Stored().keys().size(), 3u);  // primary, secondary, one retired
}

TEST_F(KeyRotatorTest, PromotionWaitsUntilEveryLiveValidatorAcknowledgedTheNewKey) {
  Validator("edge-1", store_.Stored());
  Validator("edge-2", store_.Stored());
  auto rotator = Make();
  const std::string first = PrimaryId();
  std::atomic<bool> done = false;
  absl::StatusOr<RotationReport> report;
  std::thread rotation([&] {
    report = rotator->Rotate();
    done = true;
  });
  // The pending key is stored and shared; nothing is promoted while the
  // validators hold the old keyring.
  absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (store_.Stored().keys().size() < 2 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  absl::SleepFor(absl::Milliseconds(200));
  Keyring pending = store_.Stored();
  ASSERT_EQ(pending.keys().size(), 2u);
  EXPECT_EQ(pending.Primary()->id, first);
  EXPECT_EQ(pending.keys().back().state, KeyState::kPending);
  EXPECT_FALSE(done);
  const Keyring shared = **keys_.Current();  // what validators are sent
  EXPECT_EQ(KeyringFingerprint(shared), KeyringFingerprint(pending));

  Validator("edge-1", shared);
  absl::SleepFor(absl::Milliseconds(100));
  EXPECT_FALSE(done) << "promoted with edge-2 still on the old keyring";
  Validator("edge-2", shared);
  rotation.join();
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->validators, 2u);
  EXPECT_EQ(PrimaryId(), pending.keys().back().id);
}

TEST_F(KeyRotatorTest, AValidatorThatNeverAcknowledgesStopsTheRotationAtTheDeadline) {
  Validator("edge-held-back", store_.Stored());
  auto rotator = Make({.ack_deadline = absl::Milliseconds(300)});
  const std::string first = PrimaryId();
  absl::StatusOr<RotationReport> report = rotator->Rotate();
  ASSERT_EQ(report.status().code(), absl::StatusCode::kDeadlineExceeded) << report.status();
  EXPECT_THAT(report.status().message(), HasSubstr("edge-held-back"));
  EXPECT_THAT(report.status().message(), HasSubstr("nothing was promoted"));
  Keyring stored = store_.Stored();
  EXPECT_EQ(stored.Primary()->id, first);
  EXPECT_EQ(stored.keys().back().state, KeyState::kPending);
  RotationState state = rotator->state();
  EXPECT_TRUE(state.stalled);
  EXPECT_EQ(state.last_outcome, "deadline_exceeded");
  EXPECT_THAT(state.unacknowledged, ::testing::ElementsAre("edge-held-back"));

  // Once it catches up, the next attempt resumes the same key.
  const std::string pending_id = stored.keys().back().id;
  Validator("edge-held-back", **keys_.Current());
  absl::StatusOr<RotationReport> resumed = rotator->Rotate();
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_TRUE(resumed->resumed);
  EXPECT_EQ(resumed->new_primary, pending_id);
  EXPECT_FALSE(rotator->state().stalled);
}

TEST_F(KeyRotatorTest, AValidatorListedJustAfterTheKeyWasStoredIsWaitedFor) {
  // It subscribed before the pending key was stored, but its replica reports
  // it a moment later: the directory settles before anything is promoted.
  auto rotator = Make({.directory_settle = absl::Milliseconds(800)});
  const std::string first = PrimaryId();
  std::atomic<bool> done = false;
  absl::StatusOr<RotationReport> report;
  std::thread rotation([&] {
    report = rotator->Rotate();
    done = true;
  });
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_FALSE(done) << "promoted before the directory settled";
  Validator("edge-late-report", core::Keyring());  // holds the old keyring
  absl::SleepFor(absl::Milliseconds(800));
  EXPECT_FALSE(done) << "promoted while edge-late-report had not acknowledged";
  EXPECT_EQ(PrimaryId(), first);
  Validator("edge-late-report", **keys_.Current());
  rotation.join();
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->validators, 1u);
  EXPECT_GE(report->waited_for_acks, absl::Milliseconds(800));
}

TEST_F(KeyRotatorTest, AValidatorThatWentQuietIsNotWaitedFor) {
  ASSERT_TRUE(directory_
                  .Publish("replica-gone", {{.validator_id = "edge-old",
                                             .keyring_fingerprint = "stale",
                                             .seen_at = absl::Now() - absl::Minutes(5)}})
                  .ok());
  auto rotator = Make({.validator_liveness = absl::Seconds(15)});
  absl::StatusOr<RotationReport> report = rotator->Rotate();
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->validators, 0u);
}

TEST_F(KeyRotatorTest, AnInterruptedRotationIsFinishedWithItsOwnKey) {
  // A replica died after storing the pending key: the next rotation promotes
  // that key (no second new key), once validators hold it.
  Keyring with_pending = *Keyring::Create(
      {store_.Stored().keys()[0], core::GenerateSigningKey(absl::Now(), KeyState::kPending, random_)});
  ASSERT_TRUE(store_.WriteKeyring(with_pending).ok());
  const std::string pending_id = with_pending.keys()[1].id;
  auto rotator = Make();
  absl::StatusOr<RotationReport> report = rotator->Rotate();
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->resumed);
  EXPECT_EQ(report->new_primary, pending_id);
  EXPECT_EQ(store_.Stored().keys().size(), 2u);

  // Died after every validator acknowledged: promoted at once, even with a
  // validator that connected since and has not acknowledged yet.
  Keyring with_distributed = *Keyring::Create(
      {store_.Stored().keys()[1], core::GenerateSigningKey(absl::Now(), KeyState::kDistributed, random_)});
  ASSERT_TRUE(store_.WriteKeyring(with_distributed).ok());
  Validator("edge-new", with_pending);
  absl::StatusOr<RotationReport> second = Make({.ack_deadline = absl::Milliseconds(100)})->Rotate();
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->new_primary, with_distributed.keys()[1].id);
}

TEST_F(KeyRotatorTest, AForeignDistributedKeyIsNeverPromotedRevokedOrResumed) {
  // SMD's rotation's waiting key, as SmdSecretStore reads it: validators
  // accept it; edgepass's own rotation goes past it.
  core::SigningKey smd = core::GenerateSigningKey(absl::Now(), KeyState::kDistributed, random_);
  smd.foreign = true;
  const std::string first = PrimaryId();
  ASSERT_TRUE(store_.WriteKeyring(*Keyring::Create({store_.Stored().keys()[0], smd})).ok());
  auto rotator = Make();
  EXPECT_THAT(rotator->RevokeKey(smd.id, true).status().message(), HasSubstr("not to edgepass"));
  absl::StatusOr<RotationReport> report = rotator->Rotate();
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_FALSE(report->resumed);
  EXPECT_NE(report->new_primary, smd.id);
  EXPECT_EQ(report->previous_primary, first);
  const core::SigningKey* still = store_.Stored().Find(smd.id);
  ASSERT_NE(still, nullptr);
  EXPECT_EQ(still->state, KeyState::kDistributed);
  EXPECT_TRUE(still->foreign);
  // Revoking the primary hands over to a fresh key, not to the foreign one.
  ASSERT_TRUE(rotator->RevokeKey(PrimaryId(), true).ok());
  EXPECT_NE(PrimaryId(), smd.id);
  EXPECT_TRUE(store_.Stored().Find(smd.id)->foreign);
  absl::StatusOr<KeyringStatus> status = rotator->Status();
  ASSERT_TRUE(status.ok()) << status.status();
  for (const KeyInfo& k : status->keys) EXPECT_EQ(k.foreign, k.id == smd.id) << k.id;
}

TEST_F(KeyRotatorTest, OnlyOneRotationAtATime) {
  absl::StatusOr<std::optional<RotationLease>> other = lock_.Acquire(absl::Seconds(30));
  ASSERT_TRUE(other.ok() && other->has_value());
  const int writes = store_.writes();
  absl::StatusOr<RotationReport> report = Make()->Rotate();
  EXPECT_EQ(report.status().code(), absl::StatusCode::kAborted) << report.status();
  EXPECT_EQ(store_.writes(), writes);
}

TEST_F(KeyRotatorTest, ARotatorThatLostItsLeaseWritesNothingMore) {
  TestClock clock(absl::Now());
  LocalRotationLock lock(clock.AsFunction());
  lock_ptr_ = &lock;
  KeyRotatorOptions options{.lock_ttl = absl::Seconds(30)};
  options.after_step = [&](RotationStep step) {
    if (step != RotationStep::kStoredPending) return;
    clock.Advance(absl::Minutes(1));  // the lease expires; another replica takes over
    ASSERT_TRUE(lock.Acquire(absl::Seconds(30))->has_value());
    Validator("edge-1", **keys_.Current());  // the old rotator would go on now
  };
  auto rotator = Make(options);
  const std::string first = PrimaryId();
  absl::StatusOr<RotationReport> report = rotator->Rotate();
  EXPECT_EQ(report.status().code(), absl::StatusCode::kAborted) << report.status();
  EXPECT_THAT(report.status().message(), HasSubstr("rotation lock lost"));
  EXPECT_EQ(PrimaryId(), first);
  EXPECT_EQ(store_.Stored().keys().back().state, KeyState::kPending);
}

TEST_F(KeyRotatorTest, AStoreThatCannotBeWrittenLeavesTheKeyringAsItWas) {
  const std::string before = core::KeyringToJson(store_.Stored());
  store_.set_fail_writes(true);
  absl::StatusOr<RotationReport> report = Make()->Rotate();
  EXPECT_EQ(report.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(core::KeyringToJson(store_.Stored()), before);
  EXPECT_EQ((*keys_.Current())->Primary()->id, PrimaryId());
}

TEST_F(KeyRotatorTest, RevokingAKeyNeedsConfirmationAndReplacesAPrimaryAtOnce) {
  auto rotator = Make();
  const std::string first = PrimaryId();
  absl::StatusOr<KeyringStatus> refused = rotator->RevokeKey(first, false);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(refused.status().message(), HasSubstr("confirm_tokens_refused"));
  EXPECT_EQ(PrimaryId(), first);
  EXPECT_EQ(rotator->RevokeKey("no_such_key", true).status().code(), absl::StatusCode::kNotFound);

  absl::StatusOr<KeyringStatus> status = rotator->RevokeKey(first, true);
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(store_.Stored().Find(first), nullptr);
  ASSERT_NE(store_.Stored().Primary(), nullptr);
  EXPECT_EQ((*keys_.Current())->Find(first), nullptr);  // validators and issuers drop it
  ASSERT_EQ(status->keys.size(), 1u);
  EXPECT_EQ(status->keys[0].state, KeyState::kPrimary);

  // A secondary goes without touching the primary.
  ASSERT_TRUE(rotator->Rotate().ok());
  const std::string secondary = store_.Stored().keys()[0].id;
  const std::string primary = PrimaryId();
  ASSERT_TRUE(rotator->RevokeKey(secondary, true).ok());
  EXPECT_EQ(PrimaryId(), primary);
  EXPECT_EQ(store_.Stored().keys().size(), 1u);
}

TEST_F(KeyRotatorTest, TheSchedulerRotatesOnItsIntervalAndFinishesInterruptedRotations) {
  KeyRotatorOptions options{.schedule = *RotationSchedule::Every(absl::Milliseconds(300)),
                            .check_interval = absl::Milliseconds(20)};
  auto rotator = Make(options);
  const std::string first = PrimaryId();
  rotator->Start();
  absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (store_.Stored().Find(first) != nullptr && store_.Stored().Find(first)->state != KeyState::kRetired &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  rotator->Stop();
  EXPECT_NE(PrimaryId(), first);
  EXPECT_GE(store_.Stored().keys().size(), 3u) << "expected at least two rotations";
}

// The schedule's thread looks at this replica's cached keyring, which may
// still show a rotation another replica has just finished; the stored
// keyring decides, so no rotation is started again (it used to start a new
// one, and to refuse a RotateKeys call arriving meanwhile).
TEST_F(KeyRotatorTest, ARotationOnlyTheCacheStillShowsIsNotStartedAgain) {
  const Keyring stored = store_.Stored();
  Keyring stale = *Keyring::Create(
      {*stored.Primary(), core::GenerateSigningKey(absl::Now(), KeyState::kPending, random_)});
  ASSERT_TRUE(keys_.Share(stale).ok());
  auto rotator = Make({.schedule = *RotationSchedule::Every(absl::Hours(24)),  // the primary is 1 h old
                       .check_interval = absl::Milliseconds(10)});
  const int writes = store_.writes();
  rotator->Start();
  absl::SleepFor(absl::Milliseconds(300));  // about 30 checks
  rotator->Stop();
  EXPECT_EQ(store_.writes(), writes);
  EXPECT_EQ(store_.Stored().keys().size(), 1u);
  EXPECT_EQ(rotator->state().last_outcome, "") << "nothing was attempted";
}

// A caller arriving while a rotation runs on this replica waits for it and
// then rotates; one that would wait longer than caller_wait is refused.
TEST_F(KeyRotatorTest, ACallerWaitsItsTurnOnThisReplicaForAWhile) {
  for (const bool long_enough : {true, false}) {
    std::atomic<bool> first = true;
    KeyRotatorOptions options{.caller_wait = long_enough ? absl::Seconds(5) : absl::Milliseconds(50)};
    options.after_step = [&](RotationStep) {
      if (first.exchange(false)) absl::SleepFor(absl::Milliseconds(400));  // the first rotation is slow
    };
    auto rotator = Make(options);
    absl::StatusOr<RotationReport> running;
    std::thread earlier([&] { running = rotator->Rotate(); });
    absl::SleepFor(absl::Milliseconds(100));
    absl::StatusOr<RotationReport> waited = rotator->Rotate();
    earlier.join();
    ASSERT_TRUE(running.ok()) << running.status();
    if (long_enough) {
      ASSERT_TRUE(waited.ok()) << waited.status();
      EXPECT_EQ(waited->previous_primary, running->new_primary) << "it ran after the first";
    } else {
      EXPECT_EQ(waited.status().code(), absl::StatusCode::kAborted) << waited.status();
      EXPECT_THAT(waited.status().message(), HasSubstr("already running on this replica"));
    }
  }
}

TEST(RotationScheduleTest, ParsesTheFormsSmdWritesAndNamesTheWrongField) {
  EXPECT_TRUE(RotationSchedule::Parse("0 3 ? * * *").ok());
  EXPECT_TRUE(RotationSchedule::Parse("cron(30 23 ? * 1 *)").ok());
  EXPECT_TRUE(RotationSchedule::Parse("5 0 ? * 2#1 *").ok());
  EXPECT_EQ(RotationSchedule::Parse("5 0 ? * 2#1 *")->ToString(), "cron(5 0 ? * 2#1 *)");
  struct Bad {
    const char* cron;
    const char* field;
  } bad[] = {{"0 3 ? * *", "expression"},      {"60 3 ? * * *", "minutes"},
             {"0 24 ? * * *", "hours"},        {"0 3 1 * * *", "day-of-month"},
             {"0 3 ? 1 * *", "month"},         {"0 3 ? * 8 *", "day-of-week"},
             {"0 3 ? * 0 *", "day-of-week"},   {"0 3 ? * 2#6 *", "day-of-week"},
             {"0 3 ? * MON *", "day-of-week"}, {"0 3 ? * * 2027", "year"},
             {"cron(0 3 ? * * *", "expression"}, {"-1 3 ? * * *", "minutes"}};
  for (const Bad& b : bad) {
    absl::StatusOr<RotationSchedule> s = RotationSchedule::Parse(b.cron);
    EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument) << b.cron;
    EXPECT_THAT(s.status().message(), HasSubstr(b.field)) << b.cron;
  }
  EXPECT_FALSE(RotationSchedule::Every(absl::ZeroDuration()).ok());
}

absl::Time Utc(int y, int m, int d, int hh, int mm) {
  return absl::FromCivil(absl::CivilMinute(y, m, d, hh, mm), absl::UTCTimeZone());
}

TEST(RotationScheduleTest, DaysCountAsEventBridgeCountsThem) {
  // 2026-12-06 is a Sunday (EventBridge day 1); 2026-12-07 the first Monday.
  RotationSchedule daily = *RotationSchedule::Parse("0 3 ? * * *");
  EXPECT_EQ(daily.LatestAtOrBefore(Utc(2026, 12, 6, 2, 59)), Utc(2026, 12, 5, 3, 0));
  EXPECT_EQ(daily.LatestAtOrBefore(Utc(2026, 12, 6, 3, 0)), Utc(2026, 12, 6, 3, 0));
  RotationSchedule sunday = *RotationSchedule::Parse("15 10 ? * 1 *");
  EXPECT_EQ(sunday.LatestAtOrBefore(Utc(2026, 12, 9, 0, 0)), Utc(2026, 12, 6, 10, 15));
  RotationSchedule first_monday = *RotationSchedule::Parse("0 0 ? * 2#1 *");
  EXPECT_EQ(first_monday.LatestAtOrBefore(Utc(2026, 12, 31, 0, 0)), Utc(2026, 12, 7, 0, 0));
  EXPECT_EQ(first_monday.LatestAtOrBefore(Utc(2026, 12, 6, 0, 0)), Utc(2026, 11, 2, 0, 0));
  RotationSchedule fifth_tuesday = *RotationSchedule::Parse("0 0 ? * 3#5 *");
  EXPECT_EQ(fifth_tuesday.LatestAtOrBefore(Utc(2026, 12, 31, 0, 0)), Utc(2026, 12, 29, 0, 0));

  // Due once a scheduled instant passed since the primary was made, so a
  // rotation another replica already did is not repeated.
  EXPECT_TRUE(daily.Due(Utc(2026, 12, 5, 2, 0), Utc(2026, 12, 6, 1, 0)));
  EXPECT_FALSE(daily.Due(Utc(2026, 12, 5, 3, 0) + absl::Seconds(5), Utc(2026, 12, 6, 1, 0)));
  RotationSchedule every = *RotationSchedule::Every(absl::Hours(24));
  EXPECT_TRUE(every.Due(Utc(2026, 12, 5, 1, 0), Utc(2026, 12, 6, 1, 0)));
  EXPECT_FALSE(every.Due(Utc(2026, 12, 5, 1, 1), Utc(2026, 12, 6, 1, 0)));
  EXPECT_FALSE(RotationSchedule().Due(absl::InfinitePast(), Utc(2026, 12, 6, 1, 0)));
}

}  // namespace
}  // namespace edgepass::server
