#include "client/analyze/scoring.h"

#include <map>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/analyze/session_table.h"
#include "gtest/gtest.h"

namespace edgepass::analyze {
namespace {

// Adds `n` distinct segment requests of session `id` from `ip`, one every
// `step_ms` from `start_ms`.
void Play(SessionTable& t, const std::string& id, const std::string& ip, int64_t start_ms, int n, int64_t step_ms,
          const std::string& ua = "ua", const std::string& referer = "") {
  for (int i = 0; i < n; ++i) {
    const std::string uri = absl::StrCat("/", id, ".h.p.s/seg", i, ".ts");
    LogRecord r{.time_ms = start_ms + i * step_ms, .status = 200, .bytes = 5000, .client_ip = ip, .uri = uri,
                .referer = referer, .user_agent = ua};
    ASSERT_EQ(t.Add(r), AddResult::kKept);
  }
}

const SessionScore& Find(const Analysis& a, const std::string& id) {
  for (const SessionScore& s : a.results) {
    if (s.session_id == id) return s;
  }
  static const SessionScore kNone;
  ADD_FAILURE() << "no session " << id;
  return kNone;
}

TEST(SessionTable, FiltersStatusSizeWindowAndSessionlessUris) {
  SessionTable t({.start_ms = 1000, .end_ms = 2000});
  LogRecord r{.time_ms = 1500, .status = 200, .bytes = 1025, .client_ip = "a", .uri = "/s.h.p.s/x.ts"};
  EXPECT_EQ(t.Add(r), AddResult::kKept);
  r.bytes = 1024;
  EXPECT_EQ(t.Add(r), AddResult::kFiltered);
  r.bytes = 5000;
  r.status = 304;
  EXPECT_EQ(t.Add(r), AddResult::kFiltered);
  r.status = 206;
  r.time_ms = 999;
  EXPECT_EQ(t.Add(r), AddResult::kFiltered);
  r.time_ms = 2001;
  EXPECT_EQ(t.Add(r), AddResult::kFiltered);
  r.time_ms = 2000;
  EXPECT_EQ(t.Add(r), AddResult::kKept);
  r.uri = "/plain/x.ts";
  EXPECT_EQ(t.Add(r), AddResult::kNoSession);
  r.session_id = "from-nginx";
  EXPECT_EQ(t.Add(r), AddResult::kKept);
  EXPECT_EQ(t.sessions().size(), 2u);
}

TEST(ScoreSessions, SmdScoreWithComponents) {
  SessionTable t;
  Play(t, "a", "1.1.1.1", 0, 11, 6000);  // 11 requests over 60 s
  Play(t, "b", "1.1.1.2", 0, 11, 6000);
  Play(t, "c", "1.1.1.3", 0, 21, 6000);  // 21 over 120 s
  // Shared: two IPs, two user agents, two referers, same segments: 22 pairs over 60 s.
  Play(t, "x", "2.2.2.1", 0, 11, 6000, "ua1", "r1");
  Play(t, "x", "2.2.2.2", 0, 11, 6000, "ua2", "r2");
  const Analysis a = ScoreSessions(t, {});
  EXPECT_EQ(a.sessions, 4u);
  // Rates: 11/60, 11/60, 21/120, 22/60 → median (11/60 + 11/60) / 2.
  ASSERT_TRUE(a.median_rate.has_value());
  EXPECT_DOUBLE_EQ(*a.median_rate, 11.0 / 60);
  const SessionScore& x = Find(a, "x");
  EXPECT_EQ(x.requests, 22u);
  EXPECT_DOUBLE_EQ(x.duration_s, 60);
  EXPECT_DOUBLE_EQ(x.rate_component, 2.0);
  EXPECT_EQ(x.ip_component, 1);
  EXPECT_EQ(x.referer_component, 1);
  EXPECT_EQ(x.user_agent_component, 1);
  EXPECT_DOUBLE_EQ(x.score, 5.0);
  EXPECT_TRUE(x.reported);
  EXPECT_FALSE(Find(a, "a").reported);
  EXPECT_EQ(a.results.front().session_id, "x");  // highest score first
  const std::map<std::string, double> c = ScoreComponents(x, a.median_rate);
  EXPECT_DOUBLE_EQ(c.at("rate"), 2.0);
  EXPECT_EQ(c.at("multiple_ips"), 1);
  EXPECT_EQ(c.at("requests"), 22);
  EXPECT_LE(c.size(), 16u);  // the server's limit
}

TEST(ScoreSessions, WeightsSwitchTermsOffAndThresholdIsStrict) {
  SessionTable t;
  Play(t, "a", "1.1.1.1", 0, 11, 6000);
  Play(t, "b", "1.1.1.2", 0, 11, 6000);
  Play(t, "x", "2.2.2.1", 0, 11, 6000, "ua1");
  Play(t, "x", "2.2.2.2", 0, 11, 6000, "ua2");
  // Median of 11/60, 11/60, 22/60 is 11/60: x's rate term is 2.
  ScoringOptions o{.threshold = 4.0, .referer_weight = 0};
  EXPECT_DOUBLE_EQ(Find(ScoreSessions(t, o), "x").score, 4.0);
  EXPECT_FALSE(Find(ScoreSessions(t, o), "x").reported);  // 4 is not > 4
  o.threshold = 3.99;
  EXPECT_TRUE(Find(ScoreSessions(t, o), "x").reported);
  o.rate_weight = 0;
  o.ip_weight = 0.5;
  EXPECT_DOUBLE_EQ(Find(ScoreSessions(t, o), "x").score, 1.5);
}

TEST(ScoreSessions, NothingBelowMinimumSessions) {
  SessionTable t;
  Play(t, "a", "1.1.1.1", 0, 11, 6000);
  Play(t, "x", "2.2.2.1", 0, 11, 6000, "ua1");
  Play(t, "x", "2.2.2.2", 0, 11, 6000, "ua2");
  const Analysis a = ScoreSessions(t, {});
  EXPECT_EQ(a.sessions, 2u);
  EXPECT_NE(a.not_scored_reason, "");
  for (const SessionScore& s : a.results) EXPECT_FALSE(s.scored);
  EXPECT_TRUE(Find(ScoreSessions(t, {.min_sessions = 2}), "x").scored);
}

TEST(ScoreSessions, ShortSessionsCountForMedianAndMinimumButAreNotScored) {
  SessionTable t;
  Play(t, "a", "1.1.1.1", 0, 11, 6000);
  Play(t, "short", "3.3.3.1", 0, 5, 5000, "u1");   // 20 s: skipped
  Play(t, "short", "3.3.3.2", 0, 5, 5000, "u2");
  Play(t, "once", "4.4.4.4", 0, 1, 6000);          // duration 0: no rate
  const Analysis a = ScoreSessions(t, {});
  EXPECT_EQ(a.sessions, 3u);  // enough sessions, counted before the duration filter
  // Median over the sessions with a rate: 11/60 and 10/20.
  EXPECT_DOUBLE_EQ(*a.median_rate, (11.0 / 60 + 10.0 / 20) / 2);
  EXPECT_FALSE(Find(a, "short").scored);
  EXPECT_FALSE(Find(a, "once").scored);
  EXPECT_FALSE(Find(a, "once").rate.has_value());
  EXPECT_TRUE(Find(a, "a").scored);
  // With no minimum duration, a zero-length session is still never scored.
  EXPECT_FALSE(Find(ScoreSessions(t, {.min_duration = absl::ZeroDuration()}), "once").scored);
}

TEST(ScoreSessions, NoMedianMeansNothingScoredUnlessRateIsOff) {
  SessionTable t;
  for (const char* id : {"a", "b", "c"}) {
    Play(t, id, "1.1.1.1", 0, 1, 6000, "u1");
    Play(t, id, "1.1.1.2", 0, 1, 6000, "u2");
  }
  Analysis a = ScoreSessions(t, {.min_duration = absl::ZeroDuration()});
  EXPECT_FALSE(a.median_rate.has_value());
  EXPECT_NE(a.not_scored_reason, "");
  for (const SessionScore& s : a.results) EXPECT_FALSE(s.reported);
}

TEST(ScoreSessions, ByteRangesOfOneSegmentFromOneIpCountOnce) {
  SessionTable t;
  for (int part = 0; part < 3; ++part) {
    LogRecord r{.time_ms = part * 1000, .status = 206, .bytes = 300000, .client_ip = "1.1.1.1",
                .uri = "/s.h.p.s/seg0.ts"};
    t.Add(r);
  }
  LogRecord r{.time_ms = 40000, .status = 206, .bytes = 300000, .client_ip = "1.1.1.1", .uri = "/s.h.p.s/seg1.ts"};
  t.Add(r);
  r.client_ip = "1.1.1.2";  // the same segment from another IP is another request
  t.Add(r);
  ASSERT_EQ(t.sessions().size(), 1u);
  EXPECT_EQ(t.sessions()[0].requests, 3u);
}

// The pipelined table (requests applied some adds later, tables merged)
// against a plain reference over the same requests; also with every id
// hashed alike, so that each session is told apart by its id alone.
TEST(SessionTable, MatchesAReferenceWhenPipelinedAndMerged) {
  struct Reference {
    int64_t first_ms = INT64_MAX, last_ms = INT64_MIN;
    std::set<std::pair<std::string, std::string>> requests;
    std::set<std::string> ips, user_agents;
  };
  for (SessionTable::IdHash id_hash : {SessionTable::IdHash{nullptr}, +[](absl::string_view) { return uint64_t{42}; }}) {
    std::map<std::string, Reference> want;
    SessionTable whole({}, id_hash);
    std::vector<SessionTable> parts(3, SessionTable({}, id_hash));
    std::mt19937_64 random(7);
    for (int i = 0; i < 20000; ++i) {
      const std::string id = absl::StrCat("s", random() % 300);
      const std::string ip = absl::StrCat("10.0.0.", random() % 3);
      const std::string uri = absl::StrCat("/", id, ".h.p.s/seg", random() % 40, ".ts");
      const std::string ua = absl::StrCat("ua", random() % 2);
      const int64_t t = static_cast<int64_t>(random() % 1000000);
      const LogRecord r{.time_ms = t, .status = 200, .bytes = 5000, .client_ip = ip, .uri = uri, .user_agent = ua};
      ASSERT_EQ(whole.Add(r), AddResult::kKept);
      ASSERT_EQ(parts[static_cast<size_t>(i) % parts.size()].Add(r), AddResult::kKept);
      Reference& ref = want[id];
      ref.first_ms = std::min(ref.first_ms, t);
      ref.last_ms = std::max(ref.last_ms, t);
      ref.requests.insert({ip, uri});
      ref.ips.insert(ip);
      ref.user_agents.insert(ua);
    }
    SessionTable merged({}, id_hash);
    for (SessionTable& p : parts) merged.Merge(std::move(p));
    for (const SessionTable* t : {&whole, &merged}) {
      ASSERT_EQ(t->sessions().size(), want.size());
      for (const SessionStats& s : t->sessions()) {
        const Reference& ref = want.at(s.id);
        EXPECT_EQ(s.first_ms, ref.first_ms) << s.id;
        EXPECT_EQ(s.last_ms, ref.last_ms) << s.id;
        EXPECT_EQ(s.requests, ref.requests.size()) << s.id;
        EXPECT_EQ(s.ips.count(), ref.ips.size()) << s.id;
        EXPECT_EQ(s.user_agents.count(), ref.user_agents.size()) << s.id;
        EXPECT_EQ(s.referers.count(), 1u) << s.id;
      }
    }
  }
}

TEST(ValidateScoringOptions, NamesTheOption) {
  EXPECT_EQ(ValidateScoringOptions({}), "");
  EXPECT_EQ(ValidateScoringOptions({.ip_weight = -1}), "--ip-weight: must be a finite number >= 0");
  EXPECT_EQ(ValidateScoringOptions({.min_duration = absl::Seconds(-1)}), "--min-duration: must not be negative");
}

}  // namespace
}  // namespace edgepass::analyze
