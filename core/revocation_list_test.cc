#include "core/revocation_list.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace edgepass::core {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1767225600);

RevocationEntry Manual(std::string id, absl::Duration age) {
  return {.session_id = std::move(id), .type = RevocationType::kManual,
          .added_at = kNow - age, .expires_at = kNow + absl::Hours(1)};
}

RevocationEntry Auto(std::string id, double score) {
  return {.session_id = std::move(id), .type = RevocationType::kAuto, .score = score,
          .score_components = {{"rate_ratio", score}}, .added_at = kNow - absl::Minutes(1),
          .expires_at = kNow + absl::Hours(1)};
}

std::vector<std::string> Ids(const std::vector<const RevocationEntry*>& list) {
  std::vector<std::string> ids;
  for (const RevocationEntry* e : list) ids.push_back(e->session_id);
  return ids;
}

TEST(CompileRevocationList, ManualNewestFirstThenAutoByScore) {
  std::vector<RevocationEntry> entries = {Auto("a1", 2.5), Manual("m_old", absl::Hours(2)),
                                          Auto("a2", 9.0), Manual("m_new", absl::Minutes(5))};
  EXPECT_EQ(Ids(CompileRevocationList(entries, kNow, {})),
            (std::vector<std::string>{"m_new", "m_old", "a2", "a1"}));
}

TEST(CompileRevocationList, DropsExpiredAndPastRetention) {
  RevocationEntry expired = Manual("expired", absl::Minutes(1));
  expired.expires_at = kNow;
  std::vector<RevocationEntry> entries = {expired, Manual("old", absl::Hours(30)),
                                          Manual("kept", absl::Hours(1))};
  EXPECT_EQ(Ids(CompileRevocationList(entries, kNow, {.retention = absl::Hours(24)})),
            (std::vector<std::string>{"kept"}));
}

TEST(CompileRevocationList, CapacityKeepsManualBeforeAuto) {
  std::vector<RevocationEntry> entries = {Auto("a1", 100), Manual("m1", absl::Minutes(1)),
                                          Manual("m2", absl::Minutes(2))};
  EXPECT_EQ(Ids(CompileRevocationList(entries, kNow, {.capacity = 2})),
            (std::vector<std::string>{"m1", "m2"}));
}

TEST(CompileRevocationList, TiesBrokenBySessionId) {
  std::vector<RevocationEntry> entries = {Auto("b", 3), Auto("a", 3)};
  EXPECT_EQ(Ids(CompileRevocationList(entries, kNow, {})), (std::vector<std::string>{"a", "b"}));
}

TEST(ToRevocationSet, ContainsCompiledIdsUntilExpiry) {
  std::vector<RevocationEntry> entries = {Manual("m1", absl::Minutes(1))};
  RevocationSet set = ToRevocationSet(CompileRevocationList(entries, kNow, {}));
  EXPECT_TRUE(set.Contains("m1", kNow));
  EXPECT_FALSE(set.Contains("m1", kNow + absl::Hours(2)));
  EXPECT_FALSE(set.Contains("m", kNow));
}

TEST(RevocationEntryJson, RoundTrips) {
  RevocationEntry e = Auto("sess01", 3.25);
  e.reason = "rate";
  e.score_components["ip_penalty"] = 1;
  absl::StatusOr<RevocationEntry> back = ParseRevocationEntryJson(RevocationEntryToJson(e));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->session_id, "sess01");
  EXPECT_EQ(back->type, RevocationType::kAuto);
  EXPECT_EQ(back->reason, "rate");
  EXPECT_EQ(back->score, 3.25);
  EXPECT_EQ(back->score_components, e.score_components);
  EXPECT_EQ(back->added_at, e.added_at);
  EXPECT_EQ(back->expires_at, e.expires_at);
}

TEST(RevocationEntryJson, InfiniteExpiryIsOmittedAndRestored) {
  RevocationEntry e = Manual("sess01", absl::Minutes(1));
  e.expires_at = absl::InfiniteFuture();
  const std::string json = RevocationEntryToJson(e);
  EXPECT_EQ(json.find("expires_at"), std::string::npos);
  EXPECT_EQ(ParseRevocationEntryJson(json)->expires_at, absl::InfiniteFuture());
}

TEST(RevocationEntryJson, ErrorsNameTheField) {
  EXPECT_EQ(ParseRevocationEntryJson(R"({"session_id":"a b","added_at":1})").status().message(),
            "entry.session_id: must be 1 to 64 characters of [A-Za-z0-9_-]");
  EXPECT_EQ(ParseRevocationEntryJson(R"({"session_id":"ab","type":"SOON"})").status().message(),
            "entry.type: must be \"MANUAL\" or \"AUTO\"");
  EXPECT_EQ(ParseRevocationEntryJson(R"({"session_id":"ab","score":-1})").status().message(),
            "entry.score: must be a finite number >= 0");
  EXPECT_EQ(ParseRevocationEntryJson(R"({"session_id":"ab","added_at":5,"expires_at":5})")
                .status()
                .message(),
            "entry.expires_at: must be after added_at");
  EXPECT_EQ(ParseRevocationEntryJson(R"({"session_id":"ab","extra":1})").status().message(),
            "entry.extra: unknown field");
  EXPECT_EQ(ParseRevocationEntryJson("[").status().message(), "entry: not valid JSON");
}

}  // namespace
}  // namespace edgepass::core
