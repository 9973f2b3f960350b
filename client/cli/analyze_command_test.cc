// `edgepass analyze` offline: table and JSON output over synthetic logs,
// --every with a state file, --emit-sql, --from-query-result, usage errors.
// Reporting to a real service: tests/integration/analyze_report_test.cc.
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "client/analyze/synthetic_logs.h"
#include "client/cli/commands.h"
#include "core/random.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/support/temp_dir.h"
#include "tests/support/test_process.h"

namespace edgepass::cli {
namespace {

using ::edgepass::testing::TempDir;
using ::edgepass::testing::WriteFileOrDie;

// The synthetic sessions fall in 08:00-08:10 on 2026-12-06.
constexpr char kNow[] = "1796544600";

class NoRandom : public core::RandomSource {
 public:
  void Fill(absl::Span<uint8_t> out) override {
    for (uint8_t& b : out) b = 0;
  }
};

struct Result {
  int code;
  std::string out, err;
};

Result Analyze(std::vector<std::string> args) {
  std::ostringstream out, err;
  NoRandom random;
  CliEnv env{.out = out, .err = err, .now = absl::FromUnixSeconds(1796544600), .random = random};
  args.insert(args.begin(), "analyze");
  const int code = RunCli(args, env);
  return {code, out.str(), err.str()};
}

std::set<std::string> SuspectIds(const nlohmann::json& doc) {
  std::set<std::string> ids;
  for (const auto& s : doc["suspects"]) ids.insert(s["session_id"].get<std::string>());
  return ids;
}

class AnalyzeCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    log_ = analyze::GenerateSyntheticLog({.ordinary = 300, .shared = 3});
    path_ = dir_.path() + "/cf.log";
    WriteFileOrDie(path_, analyze::CloudFrontW3c(log_.requests));
  }
  std::set<std::string> Shared() const { return {log_.shared_ids.begin(), log_.shared_ids.end()}; }

  TempDir dir_;
  analyze::SyntheticLog log_;
  std::string path_;
};

TEST_F(AnalyzeCommand, PrintsSuspectsAsTableAndJson) {
  Result table = Analyze({path_, "--now", kNow});
  ASSERT_EQ(table.code, 0) << table.err;
  for (const std::string& id : log_.shared_ids) EXPECT_TRUE(absl::StrContains(table.out, id)) << table.out;
  EXPECT_FALSE(absl::StrContains(table.out, "view0")) << table.out;
  EXPECT_TRUE(absl::StrContains(table.err, "over threshold 3")) << table.err;

  Result json = Analyze({path_, "--now", kNow, "--json"});
  ASSERT_EQ(json.code, 0) << json.err;
  const nlohmann::json doc = nlohmann::json::parse(json.out);
  EXPECT_EQ(SuspectIds(doc), Shared());
  EXPECT_EQ(doc["sessions_in_window"], 300 + 3 + 1);
  const nlohmann::json& c = doc["suspects"][0]["components"];
  EXPECT_EQ(c["multiple_ips"], 1.0);
  EXPECT_EQ(c["multiple_user_agents"], 1.0);
  EXPECT_GT(c["rate"].get<double>(), 3.0);
  EXPECT_EQ(doc["input"]["records"], log_.requests.size());
}

TEST_F(AnalyzeCommand, WindowAndMinimumSessionsDecide) {
  // A window that ends before the sessions start: nothing in it.
  Result early = Analyze({path_, "--now", "1796543000", "--json"});
  ASSERT_EQ(early.code, 0) << early.err;
  EXPECT_TRUE(nlohmann::json::parse(early.out)["suspects"].empty());
  Result few = Analyze({path_, "--now", kNow, "--json", "--min-sessions", "1000"});
  ASSERT_EQ(few.code, 0) << few.err;
  EXPECT_TRUE(nlohmann::json::parse(few.out)["suspects"].empty());
  EXPECT_TRUE(absl::StrContains(few.err, "fewer than the minimum 1000")) << few.err;
}

TEST_F(AnalyzeCommand, EveryReadsOnlyWhatIsNewAndKeepsTheWindow) {
  const std::string state = dir_.path() + "/state.json";
  Result r = Analyze({path_, "--now", kNow, "--json", "--every", "10ms", "--runs", "2", "--state", state});
  ASSERT_EQ(r.code, 0) << r.err;
  std::vector<std::string> lines = absl::StrSplit(absl::StripTrailingAsciiWhitespace(r.out), '\n');
  ASSERT_EQ(lines.size(), 2u) << r.out;
  const nlohmann::json first = nlohmann::json::parse(lines[0]);
  const nlohmann::json second = nlohmann::json::parse(lines[1]);
  EXPECT_EQ(first["input"]["records"], log_.requests.size());
  EXPECT_EQ(second["input"]["records"], 0);  // nothing new
  EXPECT_EQ(SuspectIds(first), Shared());
  EXPECT_EQ(SuspectIds(second), Shared());  // still in the window
  // A later process resumes from the state: nothing new to read.
  Result again = Analyze({path_, "--now", kNow, "--json", "--state", state});
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_EQ(nlohmann::json::parse(again.out)["input"]["files"], 0);
}

TEST(AnalyzeCommandUsage, EmitSqlAndErrors) {
  Result sql = Analyze({"--emit-sql", "trino", "--now", kNow, "--table", "logs.cloudfront", "--partitioned",
                    "--column", "ip=c_ip"});
  ASSERT_EQ(sql.code, 0) << sql.err;
  EXPECT_TRUE(absl::StrContains(sql.out, "FROM \"logs\".\"cloudfront\"")) << sql.out;
  EXPECT_TRUE(absl::StrContains(sql.out, "\"c_ip\" AS viewer_ip")) << sql.out;
  EXPECT_TRUE(absl::StrContains(sql.out, "BETWEEN 2026120608 AND 2026120608")) << sql.out;
  EXPECT_TRUE(absl::StrContains(sql.out, "approx_percentile(rate, 0.5)")) << sql.out;

  EXPECT_EQ(Analyze({"--emit-sql", "mysql"}).code, kExitUsage);
  EXPECT_TRUE(absl::StrContains(Analyze({"--emit-sql", "mysql"}).err, "--emit-sql 'mysql'"));
  EXPECT_TRUE(absl::StrContains(Analyze({"--emit-sql", "duckdb", "--table", "a;drop"}).err, "--table 'a;drop'"));
  EXPECT_TRUE(absl::StrContains(Analyze({"--emit-sql", "duckdb", "--column", "ip=a b"}).err, "--column ip='a b'"));
  EXPECT_EQ(Analyze({}).code, kExitUsage);
  EXPECT_TRUE(absl::StrContains(Analyze({"x", "--ip-weight", "-1"}).err, "--ip-weight"));
  EXPECT_TRUE(absl::StrContains(Analyze({"x", "--every", "1m"}).err, "--every needs --state"));
  EXPECT_TRUE(absl::StrContains(Analyze({"/nonexistent/x.log"}).err, "/nonexistent/x.log"));
  EXPECT_EQ(Analyze({"--help"}).code, 0);
}

TEST(AnalyzeCommandUsage, FromQueryResultReadsOursAndSmds) {
  TempDir dir;
  WriteFileOrDie(dir.path() + "/ours.csv",
                 "\"session_id\",\"score\",\"rate_component\",\"ip_component\",\"referer_component\","
                 "\"user_agent_component\",\"requests\"\n"
                 "\"s1\",\"7.5\",\"4.5\",\"1.0\",\"1.0\",\"1.0\",\"200\"\n"
                 "\"s2\",\"1.5\",\"1.5\",\"0\",\"0\",\"0\",\"20\"\n");
  Result r = Analyze({"--from-query-result", dir.path() + "/ours.csv", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  const nlohmann::json doc = nlohmann::json::parse(r.out);
  ASSERT_EQ(doc["suspects"].size(), 1u);
  EXPECT_EQ(doc["suspects"][0]["session_id"], "s1");
  EXPECT_EQ(doc["suspects"][0]["components"]["rate"], 4.5);
  EXPECT_EQ(doc["suspects"][0]["components"]["multiple_ips"], 1.0);

  WriteFileOrDie(dir.path() + "/smd.csv",
                 "session_id,score,ip_rate,ip_penalty,referer_penalty,ua_penalty,time_point\n"
                 "abc,3.5,2.5,1,0,0,1796544000\n");
  r = Analyze({"--from-query-result", dir.path() + "/smd.csv", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["suspects"][0]["components"]["multiple_ips"], 1.0);

  WriteFileOrDie(dir.path() + "/bad.csv", "session_id,score\nabc,lots\n");
  r = Analyze({"--from-query-result", dir.path() + "/bad.csv"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_TRUE(absl::StrContains(r.err, "row 2, column score: 'lots'")) << r.err;
}

}  // namespace
}  // namespace edgepass::cli
