#include "client/validator/revoked_sessions.h"

#include <iostream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace edgepass::client {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);

std::shared_ptr<const RevokedSessions> Base(size_t n) {
  core::RevocationSet set;
  for (size_t i = 0; i < n; ++i) set.Add(absl::StrCat("base", i), kNow + absl::Hours(1));
  return RevokedSessions::Share(std::move(set));
}

TEST(RevokedSessions, ADeltaSharesTheBaseAndCostsTheChange) {
  auto before = Base(5000);
  auto after = before->Apply({{.session_id = "new1"}, {.session_id = "base7", .remove = true}});
  EXPECT_EQ(after->base().get(), before->base().get());  // not copied
  EXPECT_EQ(after->overlay().size(), 2u);
  EXPECT_EQ(after->size(), 5000u);
  EXPECT_TRUE(after->Contains("new1", kNow));
  EXPECT_FALSE(after->Contains("base7", kNow));
  EXPECT_TRUE(after->Contains("base8", kNow));
  // The earlier one is intact.
  EXPECT_TRUE(before->Contains("base7", kNow));
  EXPECT_FALSE(before->Contains("new1", kNow));
  // What the validator checks sees the same.
  EXPECT_FALSE(after->view().Contains("base7", kNow));
  EXPECT_TRUE(after->view().Contains("new1", kNow));
}

TEST(RevokedSessions, DeltaSemanticsMatchTheServers) {
  auto s = Base(3);
  // Removed, then added in one delta: revoked with the new expiry.
  s = s->Apply({{.session_id = "base0", .remove = true},
                {.session_id = "base0", .expires_at = kNow + absl::Minutes(5)}});
  absl::Time expiry;
  ASSERT_TRUE(s->view().Lookup("base0", &expiry));
  EXPECT_EQ(expiry, kNow + absl::Minutes(5));
  // Added again while present: the later expiry stays.
  s = s->Apply({{.session_id = "base1", .expires_at = kNow + absl::Minutes(5)}});
  ASSERT_TRUE(s->view().Lookup("base1", &expiry));
  EXPECT_EQ(expiry, kNow + absl::Hours(1));
  // Removing what is not there changes nothing.
  s = s->Apply({{.session_id = "never", .remove = true}});
  EXPECT_EQ(s->size(), 3u);
  // A removed overlay-only id is gone from ForEach and the count.
  s = s->Apply({{.session_id = "x1"}});
  s = s->Apply({{.session_id = "x1", .remove = true}});
  EXPECT_EQ(s->size(), 3u);
  std::vector<std::string> ids;
  s->ForEach([&](absl::string_view id, absl::Time) { ids.emplace_back(id); });
  EXPECT_EQ(ids, (std::vector<std::string>{"base0", "base1", "base2"}));
  bool ok = true;
  s->Apply({{.session_id = ""}}, &ok);
  EXPECT_FALSE(ok);
}

// Random deltas against a plain map, across several folds of the overlay.
TEST(RevokedSessions, MatchesAReferenceAcrossFolds) {
  std::mt19937 rng(7);
  std::map<std::string, absl::Time> reference;
  core::RevocationSet initial;
  for (int i = 0; i < 2000; ++i) {
    const std::string id = absl::StrCat("id", i);
    initial.Add(id, kNow + absl::Seconds(i));
    reference[id] = kNow + absl::Seconds(i);
  }
  auto s = RevokedSessions::Share(std::move(initial));
  size_t folds = 0;
  for (int round = 0; round < 600; ++round) {
    std::vector<RevocationChange> changes;
    for (int k = 0; k < 1 + static_cast<int>(rng() % 8); ++k) {
      const std::string id = absl::StrCat("id", rng() % 4000);
      if (rng() % 3 == 0) {
        changes.push_back({.session_id = id, .remove = true});
        reference.erase(id);
      } else {
        const absl::Time e = kNow + absl::Seconds(rng() % 5000);
        changes.push_back({.session_id = id, .expires_at = e});
        auto [it, added] = reference.emplace(id, e);
        if (!added && it->second < e) it->second = e;
      }
    }
    auto next = s->Apply(changes);
    if (next->base() != s->base()) ++folds;
    s = next;
    EXPECT_LE(s->overlay().size(), RevokedSessions::OverlayLimit(s->base()->size()));
  }
  EXPECT_GE(folds, 1u);
  EXPECT_EQ(s->size(), reference.size());
  for (int i = 0; i < 4000; ++i) {
    const std::string id = absl::StrCat("id", i);
    absl::Time expiry;
    const bool present = s->view().Lookup(id, &expiry);
    auto it = reference.find(id);
    ASSERT_EQ(present, it != reference.end()) << id;
    if (present) EXPECT_EQ(expiry, it->second) << id;
  }
  std::map<std::string, absl::Time> listed;
  s->ForEach([&](absl::string_view id, absl::Time e) { listed[std::string(id)] = e; });
  EXPECT_EQ(listed, reference);
  const core::RevocationSet folded = s->Compacted();
  EXPECT_EQ(folded.size(), reference.size());
}

TEST(RevokedSessions, OverlayLimitGrowsLikeTheSquareRoot) {
  EXPECT_EQ(RevokedSessions::OverlayLimit(0), 1024u);
  EXPECT_EQ(RevokedSessions::OverlayLimit(1'000'000), 2000u);
  EXPECT_EQ(RevokedSessions::OverlayLimit(100'000'000), 20000u);
}

// What a delta costs next to a million revoked sessions (printed; the
// assertions are on structure, not time, on a shared machine).
TEST(RevokedSessions, AMillionEntryBaseTakesDeltasWithoutARebuild) {
  core::RevocationSet set;
  set.Reserve(1'000'000);
  for (int i = 0; i < 1'000'000; ++i) set.Add(absl::StrCat("s", 100000000 + i, "xyz"));
  auto s = RevokedSessions::Share(std::move(set));
  const auto* base = s->base().get();
  const absl::Time t0 = absl::Now();
  for (int i = 0; i < 1000; ++i) s = s->Apply({{.session_id = absl::StrCat("new", i)}});
  const absl::Duration per_delta = (absl::Now() - t0) / 1000;
  EXPECT_EQ(s->base().get(), base);  // 1000 < OverlayLimit(1M) = 2000: no fold
  EXPECT_EQ(s->size(), 1'001'000u);
  const absl::Time t1 = absl::Now();
  const core::RevocationSet folded = s->Compacted();
  const absl::Duration fold = absl::Now() - t1;
  EXPECT_EQ(folded.size(), 1'001'000u);
  std::cout << "1M revoked: a one-id delta " << absl::FormatDuration(per_delta)
            << " (overlay up to 1000 ids), a fold " << absl::FormatDuration(fold) << "\n";
}

}  // namespace
}  // namespace edgepass::client
