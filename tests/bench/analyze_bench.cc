// `edgepass analyze` throughput on one core: a generated CloudFront standard
// log of about a million lines (synthetic_logs.h, 33 fields), plain and gzip;
// for each, the time to just read (and decompress) and split the file into
// lines, next to the whole analysis (parse, filter, aggregate, score) on one
// thread, in the same run; then DuckDB (npm @duckdb/node-api) executing the
// emitted query over the same gzip file through a view (its CPU time, all
// threads, from the child's rusage), when the npm prefix is given.
//
//   edgepass_analyze_bench WORK_DIR [NPM_PREFIX TESTS_ANALYZE_DIR NODE]
// Prints a Markdown table. Not a ctest test: run it on a quiet machine.
#include <sys/resource.h>
#include <sys/time.h>
#include <zlib.h>

#include <cstdio>
#include <ctime>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/analyze/log_reader.h"
#include "client/analyze/scoring.h"
#include "client/analyze/sql.h"
#include "client/analyze/synthetic_logs.h"
#include "tests/support/test_process.h"

namespace edgepass::analyze {
namespace {

double ThreadCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

double ChildrenCpuSeconds() {
  rusage u;
  getrusage(RUSAGE_CHILDREN, &u);
  return u.ru_utime.tv_sec + u.ru_utime.tv_usec / 1e6 + u.ru_stime.tv_sec + u.ru_stime.tv_usec / 1e6;
}

class CountLines : public LineVisitor {
 public:
  void OnLine(absl::string_view line) override {
    ++lines;
    bytes += line.size();
  }
  uint64_t lines = 0, bytes = 0;
};

void WriteGzip(const std::string& path, const std::string& data) {
  gzFile f = gzopen(path.c_str(), "wb6");
  gzwrite(f, data.data(), static_cast<unsigned>(data.size()));
  gzclose(f);
}

struct Row {
  std::string what;
  double cpu_s;
  uint64_t lines;
};

int Main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s WORK_DIR [NPM_PREFIX TESTS_ANALYZE_DIR NODE]\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  // About 56 lines per ordinary session: 18,000 sessions ≈ 1M lines.
  const SyntheticLog log = GenerateSyntheticLog({.ordinary = 18000, .shared = 20});
  const std::string text = CloudFrontW3c(log.requests);
  const std::string plain = dir + "/cloudfront.log", gz = dir + "/cloudfront.log.gz";
  testing::WriteFileOrDie(plain, text);
  WriteGzip(gz, text);
  const Window window{.start_ms = 1796544000000, .end_ms = 1796544000000 + 600000};

  std::vector<Row> rows;
  std::vector<std::string> suspects;
  for (const std::string& path : {plain, gz}) {
    const char* kind = path == plain ? "plain" : "gzip";
    for (int pass = 0; pass < 2; ++pass) {  // the first warms the page cache
      CountLines count;
      ParseStats stats;
      double t0 = ThreadCpuSeconds();
      ReadLines({.path = path}, true, count, &stats);
      const double split_s = ThreadCpuSeconds() - t0;
      t0 = ThreadCpuSeconds();
      ReadResult r = ReadLogs({{.path = path}}, {.window = window, .threads = 1});
      const Analysis a = ScoreSessions(r.table, {});
      const double analyze_s = ThreadCpuSeconds() - t0;
      if (pass == 0) continue;
      rows.push_back({absl::StrCat(kind, ": read", path == gz ? " + decompress" : "", " + split lines"), split_s,
                      count.lines});
      rows.push_back({absl::StrCat(kind, ": edgepass analyze (1 thread)"), analyze_s, r.stats.lines});
      size_t reported = 0;
      for (const SessionScore& s : a.results) reported += s.reported;
      std::fprintf(stderr, "%s: %zu sessions, %zu reported, %s\n", kind, a.results.size(), reported,
                   r.stats.Summary().c_str());
    }
  }

  if (argc >= 5) {
    const std::string sql_path = dir + "/query.sql";
    testing::WriteFileOrDie(sql_path, *EmitSql({.dialect = SqlDialect::kDuckDb, .window = window}));
    const double c0 = ChildrenCpuSeconds();
    testing::RunResult r = testing::RunProcess(
        {argv[4], "--import", absl::StrCat(argv[3], "/register_hook.mjs"), absl::StrCat(argv[3], "/sql_check.mjs"),
         "duckdb-view", argv[2], gz, sql_path},
        dir, absl::Minutes(10));
    const double duck_s = ChildrenCpuSeconds() - c0;
    if (r.exit_code != 0) {
      std::fprintf(stderr, "duckdb failed: %s\n", r.err.c_str());
    } else {
      rows.push_back({"gzip: DuckDB, emitted query over a view on the file (node + engine, all threads)", duck_s,
                      rows[0].lines});
    }
  }
  std::printf("| what | lines | CPU s | lines/s per core |\n|---|---:|---:|---:|\n");
  for (const Row& row : rows) {
    std::printf("| %s | %llu | %.3f | %s |\n", row.what.c_str(), static_cast<unsigned long long>(row.lines),
                row.cpu_s, absl::StrFormat("%.0f", row.lines / row.cpu_s).c_str());
  }
  return 0;
}

}  // namespace
}  // namespace edgepass::analyze

int main(int argc, char** argv) { return edgepass::analyze::Main(argc, argv); }
