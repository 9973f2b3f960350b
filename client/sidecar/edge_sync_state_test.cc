#include <string>

#include "absl/time/time.h"
#include "client/sidecar/edge_sync_client.h"
#include "core/keyring.h"
#include "core/random.h"
#include "edgepass/v1/edge_sync.pb.h"
#include "gtest/gtest.h"

namespace edgepass::sidecar {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1767225600);

v1::EdgeUpdate First(uint64_t version, bool complete) {
  core::SecureRandom random;
  core::SigningKey key = core::GenerateSigningKey(kNow, core::KeyState::kPrimary, random);
  v1::EdgeUpdate u;
  u.set_version(version);
  u.set_snapshot(true);
  u.set_complete(complete);
  u.set_keyring_changed(true);
  u.set_keyring_fingerprint("fp1");
  v1::EdgeKey* k = u.add_keys();
  k->set_id(key.id);
  k->set_value(key.value);
  k->set_state(v1::PRIMARY);
  return u;
}

void AddRevoked(v1::EdgeUpdate* u, const std::string& id) {
  u->add_revoked_add()->set_session_id(id);
}

TEST(EdgeSyncState, SnapshotInSeveralMessagesAppliesOnlyWhenComplete) {
  EdgeSyncState state;
  v1::EdgeUpdate first = First(7, /*complete=*/false);
  AddRevoked(&first, "aaaaaaa1");
  auto applied = state.Apply(first);
  ASSERT_TRUE(applied.ok()) << applied.status();
  EXPECT_FALSE(applied->has_value());

  v1::EdgeUpdate rest;
  rest.set_version(7);
  rest.set_snapshot(true);
  rest.set_complete(true);
  rest.set_keyring_fingerprint("fp1");
  AddRevoked(&rest, "bbbbbbb2");
  applied = state.Apply(rest);
  ASSERT_TRUE(applied.ok()) << applied.status();
  ASSERT_TRUE(applied->has_value());
  EXPECT_EQ((*applied)->version, 7u);
  EXPECT_EQ((*applied)->keyring_fingerprint, "fp1");
  EXPECT_EQ((*applied)->keyring.keys().size(), 1u);
  EXPECT_TRUE((*applied)->revoked->Contains("aaaaaaa1", kNow));
  EXPECT_TRUE((*applied)->revoked->Contains("bbbbbbb2", kNow));
}

TEST(EdgeSyncState, DeltaAddsAndRemovesOnTopOfTheSnapshot) {
  EdgeSyncState state;
  v1::EdgeUpdate first = First(1, /*complete=*/true);
  AddRevoked(&first, "aaaaaaa1");
  AddRevoked(&first, "bbbbbbb2");
  ASSERT_TRUE(state.Apply(first).ok());

  v1::EdgeUpdate delta;
  delta.set_version(2);
  delta.set_complete(true);
  delta.set_keyring_fingerprint("fp1");
  delta.add_revoked_remove("aaaaaaa1");
  AddRevoked(&delta, "ccccccc3");
  auto applied = state.Apply(delta);
  ASSERT_TRUE(applied.ok() && applied->has_value());
  EXPECT_EQ((*applied)->version, 2u);
  EXPECT_FALSE((*applied)->revoked->Contains("aaaaaaa1", kNow));
  EXPECT_TRUE((*applied)->revoked->Contains("bbbbbbb2", kNow));
  EXPECT_TRUE((*applied)->revoked->Contains("ccccccc3", kNow));
  EXPECT_EQ((*applied)->keyring.keys().size(), 1u);  // kept from the snapshot
}

TEST(EdgeSyncState, RefusesUpdatesItCannotApplyAndKeepsItsState) {
  EdgeSyncState state;
  v1::EdgeUpdate delta;
  delta.set_version(3);
  delta.set_complete(true);
  EXPECT_EQ(state.Apply(delta).status().message(), "update: a delta before any snapshot");

  v1::EdgeUpdate continuation;
  continuation.set_snapshot(true);
  EXPECT_EQ(state.Apply(continuation).status().message(),
            "snapshot: continuation without a first message");

  v1::EdgeUpdate bad_key = First(4, /*complete=*/true);
  bad_key.mutable_keys(0)->set_value("not-hex");
  EXPECT_FALSE(state.Apply(bad_key).ok());
  EXPECT_EQ(state.version(), 0u);
}

TEST(EdgeSyncState, AppliedStatesShareOneRevocationSet) {
  EdgeSyncState state;
  v1::EdgeUpdate first = First(1, /*complete=*/true);
  AddRevoked(&first, "aaaaaaa1");
  auto snapshot = state.Apply(first);
  ASSERT_TRUE(snapshot.ok() && snapshot->has_value());

  // A version with no revocation change (the resume marker, a new keyring)
  // hands out the same set, not a copy of it.
  v1::EdgeUpdate marker;
  marker.set_version(2);
  marker.set_complete(true);
  marker.set_keyring_fingerprint("fp1");
  auto applied = state.Apply(marker);
  ASSERT_TRUE(applied.ok() && applied->has_value());
  EXPECT_EQ((*applied)->revoked.get(), (*snapshot)->revoked.get());

  // A delta builds a new set and leaves the one handed out before intact.
  v1::EdgeUpdate delta = marker;
  delta.set_version(3);
  delta.add_revoked_remove("aaaaaaa1");
  auto changed = state.Apply(delta);
  ASSERT_TRUE(changed.ok() && changed->has_value());
  EXPECT_NE((*changed)->revoked.get(), (*snapshot)->revoked.get());
  EXPECT_FALSE((*changed)->revoked->Contains("aaaaaaa1", kNow));
  EXPECT_TRUE((*snapshot)->revoked->Contains("aaaaaaa1", kNow));
}

TEST(EdgeSyncState, AnnouncedCountOnlySizesTheSet) {
  EdgeSyncState state;
  v1::EdgeUpdate first = First(5, /*complete=*/true);
  first.set_snapshot_revoked_count(1000);  // more than sent: no harm
  AddRevoked(&first, "aaaaaaa1");
  AddRevoked(&first, "bbbbbbb2");
  auto applied = state.Apply(first);
  ASSERT_TRUE(applied.ok() && applied->has_value());
  EXPECT_EQ((*applied)->revoked->size(), 2u);
  EXPECT_TRUE((*applied)->revoked->Contains("bbbbbbb2", kNow));
}

TEST(EdgeSyncState, ADeltaSharesTheBaseAndSaysWhatChanged) {
  EdgeSyncState state;
  v1::EdgeUpdate first = First(1, /*complete=*/true);
  for (int i = 0; i < 100; ++i) AddRevoked(&first, "base" + std::to_string(1000 + i));
  auto snapshot = state.Apply(first);
  ASSERT_TRUE(snapshot.ok() && snapshot->has_value());
  EXPECT_FALSE((*snapshot)->delta_from.has_value());

  v1::EdgeUpdate delta;
  delta.set_version(2);
  delta.set_complete(true);
  delta.set_keyring_fingerprint("fp1");
  delta.add_revoked_remove("base1000");
  AddRevoked(&delta, "newsess1");
  auto applied = state.Apply(delta);
  ASSERT_TRUE(applied.ok() && applied->has_value());
  const ValidatorState& s = **applied;
  // The million-entry base is shared, not rebuilt: only the overlay is new.
  EXPECT_EQ(s.revoked->base().get(), (*snapshot)->revoked->base().get());
  EXPECT_EQ(s.revoked->overlay().size(), 2u);
  EXPECT_EQ(s.revoked->size(), 100u);
  ASSERT_TRUE(s.delta_from.has_value());
  EXPECT_EQ(*s.delta_from, 1u);
  ASSERT_EQ(s.changes.size(), 2u);
  EXPECT_EQ(s.changes[0].session_id, "base1000");
  EXPECT_TRUE(s.changes[0].remove);
  EXPECT_EQ(s.changes[1].session_id, "newsess1");

  // A new keyring is no plain delta: a sink writes it whole.
  v1::EdgeUpdate rekey = First(3, /*complete=*/true);
  rekey.set_snapshot(false);
  rekey.set_keyring_fingerprint("fp2");
  auto rekeyed = state.Apply(rekey);
  ASSERT_TRUE(rekeyed.ok() && rekeyed->has_value());
  EXPECT_FALSE((*rekeyed)->delta_from.has_value());
}

}  // namespace
}  // namespace edgepass::sidecar
