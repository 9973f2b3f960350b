#include "core/revocation.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace edgepass::core {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);

TEST(RevocationSet, ContainsByExactIdUntilExpiry) {
  RevocationSet set;
  EXPECT_FALSE(set.Contains("Sess1234567", kNow));
  EXPECT_TRUE(set.Add("Sess1234567", kNow + absl::Minutes(5)));
  EXPECT_TRUE(set.Add("Forever12345"));
  EXPECT_EQ(set.size(), 2u);
  EXPECT_TRUE(set.Contains("Sess1234567", kNow));
  EXPECT_FALSE(set.Contains("Sess123456", kNow));   // a prefix
  EXPECT_FALSE(set.Contains("Sess12345678", kNow));  // an extension
  EXPECT_FALSE(set.Contains("sess1234567", kNow));   // case matters
  EXPECT_FALSE(set.Contains("Sess1234567", kNow + absl::Minutes(5)));
  EXPECT_TRUE(set.Contains("Forever12345", absl::FromUnixSeconds(4'000'000'000)));
}

TEST(RevocationSet, ExpiryIsRoundedUpToTheSecond) {
  RevocationSet set;
  set.Add("Sess1234567", kNow + absl::Milliseconds(1));
  EXPECT_TRUE(set.Contains("Sess1234567", kNow + absl::Milliseconds(999)));
  EXPECT_FALSE(set.Contains("Sess1234567", kNow + absl::Seconds(1)));
  set.Add("Past1234567", absl::InfinitePast());
  EXPECT_FALSE(set.Contains("Past1234567", kNow));
}

TEST(RevocationSet, AddingAgainKeepsTheLaterExpiry) {
  RevocationSet set;
  set.Add("Sess1234567", kNow + absl::Minutes(5));
  set.Add("Sess1234567", kNow + absl::Minutes(1));
  EXPECT_EQ(set.size(), 1u);
  EXPECT_TRUE(set.Contains("Sess1234567", kNow + absl::Minutes(2)));
  set.Add("Sess1234567", kNow + absl::Minutes(10));
  EXPECT_TRUE(set.Contains("Sess1234567", kNow + absl::Minutes(9)));
  set.Add("Sess1234567");
  EXPECT_TRUE(set.Contains("Sess1234567", absl::FromUnixSeconds(4'000'000'000)));
  EXPECT_EQ(set.size(), 1u);
}

TEST(RevocationSet, RefusesEmptyAndOverlongIds) {
  RevocationSet set;
  EXPECT_FALSE(set.Add(""));
  EXPECT_FALSE(set.Add(std::string(kMaxRevokedSessionIdBytes + 1, 'a')));
  EXPECT_TRUE(set.Add(std::string(kMaxRevokedSessionIdBytes, 'a')));
  EXPECT_EQ(set.size(), 1u);
  EXPECT_FALSE(set.Contains("", kNow));
  EXPECT_FALSE(set.Contains(std::string(kMaxRevokedSessionIdBytes + 1, 'a'), kNow));
  EXPECT_TRUE(set.Contains(std::string(kMaxRevokedSessionIdBytes, 'a'), kNow));
}

TEST(RevocationSet, GrowsAndCopiesWithEveryEntryIntact) {
  RevocationSet set;
  for (int i = 0; i < 5000; ++i) {
    ASSERT_TRUE(set.Add(absl::StrCat("id", i), absl::FromUnixSeconds(1'000'000 + i)));
  }
  const RevocationSet copy = set;
  set.Add("only-in-original");
  EXPECT_EQ(copy.size(), 5000u);
  for (int i = 0; i < 5000; ++i) {
    const std::string id = absl::StrCat("id", i);
    ASSERT_TRUE(copy.Contains(id, absl::FromUnixSeconds(1'000'000 + i - 1))) << i;
    ASSERT_FALSE(copy.Contains(id, absl::FromUnixSeconds(1'000'000 + i))) << i;
    ASSERT_FALSE(copy.Contains(absl::StrCat("xd", i), absl::FromUnixSeconds(0))) << i;
  }
  EXPECT_FALSE(copy.Contains("only-in-original", kNow));
  EXPECT_TRUE(set.Contains("only-in-original", kNow));
}

TEST(RevocationSet, ForEachVisitsEntriesInInsertionOrder) {
  RevocationSet set;
  set.Add("bbbbbbb1", kNow);
  set.Add("aaaaaaa2");
  set.Add("bbbbbbb1", kNow + absl::Seconds(3));
  std::vector<std::pair<std::string, absl::Time>> seen;
  set.ForEach([&](absl::string_view id, absl::Time t) { seen.emplace_back(std::string(id), t); });
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0], std::make_pair(std::string("bbbbbbb1"), kNow + absl::Seconds(3)));
  EXPECT_EQ(seen[1], std::make_pair(std::string("aaaaaaa2"), absl::InfiniteFuture()));
}

TEST(RevocationSet, ReservedSetHoldsEntriesCompactly) {
  constexpr int kEntries = 100'000;
  RevocationSet set;
  set.Reserve(kEntries, kEntries * 12);
  const size_t reserved = set.memory_bytes();
  for (int i = 0; i < kEntries; ++i) set.Add(absl::StrCat("s", 10'000'000 + i, "xyz"));  // 12 bytes
  EXPECT_EQ(set.size(), static_cast<size_t>(kEntries));
  EXPECT_EQ(set.memory_bytes(), reserved) << "Reserve() must size the set for the whole snapshot";
  // A 21-byte record, and 8-byte slots in a table kept more than 3/8 full.
  EXPECT_LE(set.memory_bytes(), static_cast<size_t>(kEntries) * (21 + 22));
}

// The layout is shared through files between processes: the hash must not
// depend on the process (absl::Hash is seeded per process).
TEST(RevocationView, CopiedBytesAnswerLikeTheSet) {
  RevocationSet set;
  for (int i = 0; i < 1000; ++i) set.Add(absl::StrCat("sess", i), i % 2 ? absl::InfiniteFuture() : kNow);
  const RevocationView original = set.view();
  const std::vector<char> arena(original.arena().begin(), original.arena().end());
  const std::vector<uint64_t> slots(original.slots().begin(), original.slots().end());
  absl::StatusOr<RevocationView> view = RevocationView::FromBytes(arena, slots, set.size());
  ASSERT_TRUE(view.ok()) << view.status();
  EXPECT_EQ(view->size(), 1000u);
  EXPECT_TRUE(view->Contains("sess1", kNow));
  EXPECT_FALSE(view->Contains("sess2", kNow));  // expired at kNow
  EXPECT_TRUE(view->Contains("sess2", kNow - absl::Seconds(1)));
  EXPECT_FALSE(view->Contains("sess1000", kNow));
  EXPECT_FALSE(view->Contains("", kNow));
}

TEST(RevocationView, TheHashIsFixed) {
  // Pins the layout of kRevocationLayoutVersion: a set built anywhere puts
  // this id in the same slot.
  RevocationSet set;
  set.Add("pTq3ZkW8sN1x");
  const absl::Span<const uint64_t> slots = set.view().slots();
  ASSERT_EQ(slots.size(), 16u);
  size_t used = 0;
  uint64_t slot = 0;
  for (size_t i = 0; i < slots.size(); ++i) {
    if (slots[i] != 0) used = i, slot = slots[i];
  }
  EXPECT_EQ(absl::StrCat(used, ":", slot >> 32), "10:1007212194");
}

TEST(RevocationView, FromBytesRefusesDamagedTables) {
  RevocationSet set;
  set.Add("abc");
  const RevocationView original = set.view();
  std::vector<char> arena(original.arena().begin(), original.arena().end());
  std::vector<uint64_t> slots(original.slots().begin(), original.slots().end());
  EXPECT_TRUE(RevocationView::FromBytes(arena, slots, 1).ok());
  EXPECT_FALSE(RevocationView::FromBytes(arena, slots, 2).ok());  // count mismatch
  EXPECT_FALSE(RevocationView::FromBytes(arena, absl::MakeSpan(slots).subspan(0, 15), 1).ok());
  EXPECT_FALSE(RevocationView::FromBytes(absl::MakeSpan(arena).subspan(0, 10), slots, 1).ok());
  std::vector<uint64_t> full(16, (uint64_t{1} << 32) | 1);  // every slot used: lookups would not end
  EXPECT_FALSE(RevocationView::FromBytes(arena, full, 16).ok());
  std::vector<uint64_t> far = slots;
  for (uint64_t& s : far) if (s != 0) s = (s & ~uint64_t{0xffffffff}) | 1000;
  EXPECT_FALSE(RevocationView::FromBytes(arena, far, 1).ok());
  arena[8] = 0;  // id length 0
  EXPECT_FALSE(RevocationView::FromBytes(arena, slots, 1).ok());
  EXPECT_TRUE(RevocationView::FromBytes({}, {}, 0).ok());
}

TEST(ParseRevocationJson, AcceptsListsObjectsAndTheSessionsWrapper) {
  auto set = ParseRevocationJson(
      R"({"sessions":["Sess0000001",{"session_id":"Sess0000002","expires_at":1800000060}]})");
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->size(), 2u);
  EXPECT_TRUE(set->Contains("Sess0000001", kNow));
  EXPECT_TRUE(set->Contains("Sess0000002", kNow));
  EXPECT_FALSE(set->Contains("Sess0000002", kNow + absl::Minutes(1)));
  ASSERT_TRUE(ParseRevocationJson(R"(["Sess0000001"])").ok());
}

TEST(ParseRevocationJson, IgnoresOtherFieldsWhateverTheyHold) {
  auto set = ParseRevocationJson(
      R"({"version":3,"meta":{"a":[1,{"b":null}]},"sessions":[)"
      R"({"note":{"x":[1,2]},"session_id":"Sess0000001","score":2.5,"expires_at":1800000060},)"
      R"("Sess0000002"],"more":[[]]})");
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->size(), 2u);
  EXPECT_TRUE(set->Contains("Sess0000001", kNow));
  EXPECT_FALSE(set->Contains("Sess0000001", kNow + absl::Minutes(1)));
  EXPECT_TRUE(set->Contains("Sess0000002", kNow));
}

TEST(ParseRevocationJson, LastSessionsKeyCountsAsInAJsonObject) {
  auto set = ParseRevocationJson(R"({"sessions":["Sess0000001"],"sessions":["Sess0000002"]})");
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->size(), 1u);
  EXPECT_TRUE(set->Contains("Sess0000002", kNow));
}

TEST(ParseRevocationJson, ReadsAHundredThousandEntries) {
  std::string json = "[";
  for (int i = 0; i < 100'000; ++i) {
    absl::StrAppend(&json, i ? "," : "", R"({"session_id":"s)", 10'000'000 + i,
                    R"(xyz","expires_at":1900000000})");
  }
  json += "]";
  auto set = ParseRevocationJson(json);
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->size(), 100'000u);
  EXPECT_TRUE(set->Contains("s10099999xyz", kNow));
}

TEST(ParseRevocationJson, NamesTheFieldAtFault) {
  const std::string long_id(kMaxRevokedSessionIdBytes + 1, 'a');
  const std::pair<std::string, std::string> cases[] = {
      {"[1]", "sessions[0]: must be a session id"},
      {R"(["ok12345", ""])", "sessions[1]: empty session id"},
      {absl::StrCat(R"(["ok12345", ")", long_id, R"("])"), "sessions[1]: longer than 128 bytes"},
      {absl::StrCat(R"([{"session_id":")", long_id, R"("}])"),
       "sessions[0].session_id: longer than 128 bytes"},
      {R"([{"session_id":7}])", "sessions[0].session_id: must be a string"},
      {R"([{"session_id":"ok12345","expires_at":"soon"}])",
       "sessions[0].expires_at: must be integer epoch seconds"},
      {R"({"list":[]})", "revocations: expected a list"},
      {R"({"sessions":{}})", "sessions: must be a list"},
      {"[", "revocations: not valid JSON"},
      {R"(["ok12345",])", "revocations: not valid JSON"},
      {"7", "sessions: must be a list"},
      {R"(["ok12345",["nested"]])", "sessions[1]: must be a session id"},
      {R"(["ok12345",{"expires_at":5}])", "sessions[1]: must be a session id"},
      {R"([{"session_id":"ok12345","expires_at":1.5}])",
       "sessions[0].expires_at: must be integer epoch seconds"},
      {R"([{"session_id":"ok12345","expires_at":null}])",
       "sessions[0].expires_at: must be integer epoch seconds"},
  };
  for (const auto& [json, message] : cases) {
    auto set = ParseRevocationJson(json);
    ASSERT_FALSE(set.ok()) << json;
    EXPECT_EQ(set.status().code(), absl::StatusCode::kInvalidArgument) << json;
    EXPECT_TRUE(absl::StartsWith(set.status().message(), message)) << set.status();
  }
}

TEST(RevocationSet, PutSetsTheExpiryEvenEarlier) {
  RevocationSet set;
  set.Add("Sess1", kNow + absl::Hours(1));
  EXPECT_TRUE(set.Add("Sess1", kNow));  // Add keeps the later one
  absl::Time expiry;
  ASSERT_TRUE(set.Lookup("Sess1", &expiry));
  EXPECT_EQ(expiry, kNow + absl::Hours(1));
  EXPECT_TRUE(set.Put("Sess1", kNow));
  ASSERT_TRUE(set.Lookup("Sess1", &expiry));
  EXPECT_EQ(expiry, kNow);
  EXPECT_FALSE(set.Lookup("Sess2", &expiry));
  EXPECT_FALSE(set.Put("", kNow));
  EXPECT_EQ(set.size(), 1u);
}

TEST(RevocationView, AnOverlayOverridesTheBaseAndRemovesWithInfinitePast) {
  RevocationSet base;
  base.Add("kept1");
  base.Add("removed1");
  base.Add("shortened1", kNow + absl::Hours(1));
  RevocationSet overlay;
  overlay.Put("removed1", absl::InfinitePast());
  overlay.Put("shortened1", kNow - absl::Seconds(1));
  overlay.Put("added1", kNow + absl::Minutes(1));
  const RevocationView both = base.view().WithOverlay(overlay.view());
  EXPECT_TRUE(both.Contains("kept1", kNow));
  EXPECT_FALSE(both.Contains("removed1", kNow));
  EXPECT_FALSE(both.Contains("shortened1", kNow));
  EXPECT_TRUE(both.Contains("added1", kNow));
  EXPECT_FALSE(both.Contains("never1", kNow));
  absl::Time expiry;
  EXPECT_FALSE(both.Lookup("removed1", &expiry));  // a removal is no entry
  ASSERT_TRUE(both.Lookup("shortened1", &expiry));
  EXPECT_EQ(expiry, kNow - absl::Seconds(1));
  EXPECT_EQ(both.size(), 3u);  // the base's
  // An empty base with an overlay, and an empty overlay, both work.
  EXPECT_TRUE(RevocationView().WithOverlay(overlay.view()).Contains("added1", kNow));
  EXPECT_TRUE(base.view().WithOverlay(RevocationSet().view()).Contains("removed1", kNow));
}

}  // namespace
}  // namespace edgepass::core
