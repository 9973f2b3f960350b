// The SQL of `edgepass analyze --emit-sql` against real engine code: DuckDB
// (npm @duckdb/node-api) runs the DuckDB query over the synthetic log loaded
// as a table and must find the same sessions with the same scores (1e-6) as
// the C++ analysis; the Athena and Trino queries must parse with Trino's
// grammar (npm dt-sql-parser) and use only functions those engines have.
// Label integration: installs npm packages into the build dir and runs node.
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "client/analyze/log_reader.h"
#include "client/analyze/scoring.h"
#include "client/analyze/sql.h"
#include "client/analyze/synthetic_logs.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/support/temp_dir.h"
#include "tests/support/test_process.h"

namespace edgepass::analyze {
namespace {

using ::edgepass::testing::RunProcess;
using ::edgepass::testing::RunResult;
using ::edgepass::testing::TempDir;
using ::edgepass::testing::WriteFileOrDie;

constexpr int64_t kStartMs = 1796544000000;  // 2026-12-06 08:00 UTC
const Window kWindow{.start_ms = kStartMs, .end_ms = kStartMs + 600000};

class AnalyzeSql : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    RunResult r = RunProcess({EDGEPASS_ANALYZE_NPM_SCRIPT, EDGEPASS_ANALYZE_NPM_PREFIX, EDGEPASS_DUCKDB_NODE_VERSION,
                              EDGEPASS_DT_SQL_PARSER_VERSION},
                             "/tmp", absl::Minutes(5));
    installed_ = r.exit_code == 0;
    if (!installed_) install_log_ = r.err;
  }

  void SetUp() override { ASSERT_TRUE(installed_) << "npm install failed:\n" << install_log_; }

  // Runs sql_check.mjs; its stdout parsed as JSON.
  nlohmann::json Check(std::vector<std::string> args) {
    std::vector<std::string> argv = {EDGEPASS_NODE_PATH, "--import", EDGEPASS_ANALYZE_TESTS_DIR "/register_hook.mjs",
                                     EDGEPASS_ANALYZE_TESTS_DIR "/sql_check.mjs"};
    argv.insert(argv.end(), args.begin(), args.end());
    RunResult r = RunProcess(argv, dir_.path(), absl::Minutes(2));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r.out << r.err;
    return j.is_discarded() ? nlohmann::json::array({"no result"}) : j;
  }

  std::string WriteSql(const SqlOptions& o, const std::string& name) {
    absl::StatusOr<std::string> sql = EmitSql(o);
    EXPECT_TRUE(sql.ok()) << sql.status();
    const std::string path = absl::StrCat(dir_.path(), "/", name, ".sql");
    WriteFileOrDie(path, sql.value_or(""));
    return path;
  }

  static bool installed_;
  static std::string install_log_;
  TempDir dir_;
};
bool AnalyzeSql::installed_ = false;
std::string AnalyzeSql::install_log_;

double AsDouble(const nlohmann::json& v) {
  return v.is_string() ? std::stod(v.get<std::string>()) : v.get<double>();
}

TEST_F(AnalyzeSql, DuckDbFindsTheSameSessionsAndScores) {
  const SyntheticLog log = GenerateSyntheticLog({.ordinary = 1000, .shared = 5});
  const std::string path = dir_.path() + "/cloudfront.log";
  WriteFileOrDie(path, CloudFrontW3c(log.requests));
  const Analysis cpp = ScoreSessions(ReadLogs({{.path = path}}, {.window = kWindow}).table, {});

  for (bool all : {false, true}) {
    SCOPED_TRACE(all ? "every scored session" : "over the threshold");
    const nlohmann::json rows = Check(
        {"duckdb", EDGEPASS_ANALYZE_NPM_PREFIX, path,
         WriteSql({.dialect = SqlDialect::kDuckDb, .window = kWindow, .all_sessions = all}, "duckdb")});
    std::map<std::string, const nlohmann::json*> by_id;
    for (const nlohmann::json& row : rows) by_id[row["session_id"].get<std::string>()] = &row;
    size_t expected = 0;
    for (const SessionScore& s : cpp.results) {
      if (!(all ? s.scored : s.reported)) continue;
      ++expected;
      auto it = by_id.find(s.session_id);
      ASSERT_NE(it, by_id.end()) << s.session_id << " missing from DuckDB's result";
      const nlohmann::json& row = *it->second;
      EXPECT_NEAR(AsDouble(row["score"]), s.score, 1e-6) << s.session_id;
      EXPECT_NEAR(AsDouble(row["rate_component"]), s.rate_component, 1e-6) << s.session_id;
      EXPECT_EQ(AsDouble(row["ip_component"]), s.ip_component) << s.session_id;
      EXPECT_EQ(AsDouble(row["referer_component"]), s.referer_component) << s.session_id;
      EXPECT_EQ(AsDouble(row["user_agent_component"]), s.user_agent_component) << s.session_id;
      EXPECT_EQ(AsDouble(row["requests"]), static_cast<double>(s.requests)) << s.session_id;
    }
    EXPECT_EQ(rows.size(), expected);
    if (!all) {
      std::set<std::string> ids;
      for (const nlohmann::json& row : rows) ids.insert(row["session_id"].get<std::string>());
      EXPECT_EQ(ids, std::set<std::string>(log.shared_ids.begin(), log.shared_ids.end()));
    } else {
      EXPECT_GT(rows.size(), 1000u);
    }
  }
}

TEST_F(AnalyzeSql, DuckDbReportsNothingBelowMinimumSessions) {
  const SyntheticLog log = GenerateSyntheticLog({.ordinary = 1, .shared = 1, .short_shared = 0});
  const std::string path = dir_.path() + "/few.log";
  WriteFileOrDie(path, CloudFrontW3c(log.requests));
  const nlohmann::json rows =
      Check({"duckdb", EDGEPASS_ANALYZE_NPM_PREFIX, path,
             WriteSql({.dialect = SqlDialect::kDuckDb, .window = kWindow, .all_sessions = true}, "few")});
  EXPECT_TRUE(rows.empty()) << rows.dump();
}

TEST_F(AnalyzeSql, AthenaAndTrinoQueriesParseWithTrinosGrammar) {
  std::vector<std::string> files;
  std::map<std::string, std::string> text;
  int n = 0;
  for (SqlDialect d : {SqlDialect::kAthena, SqlDialect::kTrino}) {
    for (bool partitioned : {false, true}) {
      for (bool rate_on : {false, true}) {
        SqlOptions o{.dialect = d, .table = "awsdatacatalog.logs.cloudfront", .partitioned = partitioned,
                     .window = kWindow};
        if (!rate_on) o.scoring.rate_weight = 0;
        const std::string sql = *EmitSql(o);
        files.push_back(WriteSql(o, absl::StrCat("trino", n++)));
        text[files.back()] = sql;
        // Functions Athena (engine 3) and Trino have; none that only DuckDB has.
        for (const char* f : {"split(", "split_part(", "cardinality(", "to_unixtime(", "date_diff('second'"}) {
          EXPECT_NE(sql.find(f), std::string::npos) << f;
        }
        if (rate_on) EXPECT_NE(sql.find("approx_percentile("), std::string::npos);
        for (const char* f : {"string_split(", "len(", "median(", "epoch("}) {
          EXPECT_EQ(sql.find(f), std::string::npos) << f;
        }
      }
    }
  }
  // The parser does catch mistakes.
  files.push_back(dir_.path() + "/bad.sql");
  WriteFileOrDie(files.back(), "SELECT FROM WHERE");
  std::vector<std::string> args = {"trino", EDGEPASS_ANALYZE_NPM_PREFIX};
  args.insert(args.end(), files.begin(), files.end());
  const nlohmann::json errors = Check(args);
  for (const std::string& f : files) {
    if (f.ends_with("bad.sql")) {
      EXPECT_FALSE(errors[f].empty());
    } else {
      EXPECT_TRUE(errors[f].empty()) << errors[f].dump() << "\n" << text[f];
    }
  }
}

}  // namespace
}  // namespace edgepass::analyze
