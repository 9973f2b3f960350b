// `edgepass analyze` throughput on a generated CloudFront standard log of
// about a million lines (synthetic_logs.h, 33 fields), all in one run:
//   plain   the analysis (parse, filter, aggregate, score) on one thread, its
//           CPU time: lines/s per core; next to just reading and splitting;
//   gzip    just decompressing (zlib, the analyzer's library) and splitting
//           on one thread, against the analysis as `edgepass analyze` runs
//           it (one thread per core: one reads, and parses when the others
//           are busy): wall-clock ratio, with the CPU time of each; and the
//           analysis on one thread;
//   DuckDB  (npm @duckdb/node-api, when the npm prefix is given) executing the
//           emitted query over the same gzip file through a view: its CPU
//           time (node start included, all threads) against ours;
//   GoAccess (Debian's goaccess, --log-format=CLOUDFRONT, fed by zcat) on the
//           same gzip file, for context.
//
//   edgepass_analyze_bench WORK_DIR [NPM_PREFIX TESTS_ANALYZE_DIR NODE]
// Prints Markdown tables. Not a ctest test: run it once, on a quiet machine.
#include <sys/resource.h>
#include <sys/time.h>
#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
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

double WallSeconds() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

double Seconds(const timeval& tv) { return tv.tv_sec + tv.tv_usec / 1e6; }

// CPU time of this process (every thread) or of its waited-for children.
double CpuSeconds(int who) {
  rusage u;
  getrusage(who, &u);
  return Seconds(u.ru_utime) + Seconds(u.ru_stime);
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
  uint64_t lines = 0;
  double wall_s = 0;
  double cpu_s = 0;
  std::string threads;
};

// Runs `fn` twice (the first warms the page cache and the allocator) and
// measures the second: wall, and CPU of this process (all its threads).
template <typename Fn>
Row Measure(std::string what, std::string threads, Fn fn) {
  fn();
  const double w0 = WallSeconds(), c0 = CpuSeconds(RUSAGE_SELF);
  const uint64_t lines = fn();
  return {std::move(what), lines, WallSeconds() - w0, CpuSeconds(RUSAGE_SELF) - c0, std::move(threads)};
}

// A child process measured by wall clock and its rusage (CPU of it and of
// everything it waited for).
std::optional<Row> MeasureChild(std::string what, const std::vector<std::string>& argv, const std::string& dir,
                                uint64_t lines) {
  const double w0 = WallSeconds(), c0 = CpuSeconds(RUSAGE_CHILDREN);
  testing::RunResult r = testing::RunProcess(argv, dir, absl::Minutes(10));
  const double wall = WallSeconds() - w0, cpu = CpuSeconds(RUSAGE_CHILDREN) - c0;
  if (r.exit_code != 0) {
    std::fprintf(stderr, "%s failed (exit %d): %s\n", what.c_str(), r.exit_code, r.err.substr(0, 2000).c_str());
    return std::nullopt;
  }
  return Row{std::move(what), lines, wall, cpu, "all of its own"};
}

int Main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s WORK_DIR [NPM_PREFIX TESTS_ANALYZE_DIR NODE]\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  // Wall-clock figures mean little on a loaded machine: say how loaded.
  const std::string load_before = testing::ReadFileOrEmpty("/proc/loadavg");
  // About 56 lines per ordinary session: 18,000 sessions ≈ 1M lines.
  const SyntheticLog log = GenerateSyntheticLog({.ordinary = 18000, .shared = 20});
  const std::string text = CloudFrontW3c(log.requests);
  const std::string plain = dir + "/cloudfront.log", gz = dir + "/cloudfront.log.gz";
  testing::WriteFileOrDie(plain, text);
  WriteGzip(gz, text);
  const Window window{.start_ms = 1796544000000, .end_ms = 1796544000000 + 600000};
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));

  auto split = [](const std::string& path) {
    return [path] {
      CountLines count;
      ParseStats stats;
      ReadLines({.path = path}, true, count, &stats);
      return count.lines;
    };
  };
  auto analyze = [&](const std::string& path, int threads) {
    return [&, path, threads] {
      ReadResult r = ReadLogs({{.path = path}}, {.window = window, .threads = threads});
      const Analysis a = ScoreSessions(r.table, {});
      size_t reported = 0;
      for (const SessionScore& s : a.results) reported += s.reported;
      std::fprintf(stderr, "%s, %d thread(s): %zu sessions, %zu reported, %s\n", path.c_str(), threads,
                   a.results.size(), reported, r.stats.Summary().c_str());
      return r.stats.lines;
    };
  };
  const std::string all = absl::StrCat(cores, " (1 reading and parsing)");
  const Row plain_split = Measure("plain: read + split lines", "1", split(plain));
  const Row plain_one = Measure("plain: edgepass analyze", "1", analyze(plain, 1));
  const Row gz_split = Measure("gzip: read + decompress (zlib) + split lines", "1", split(gz));
  const Row gz_one = Measure("gzip: edgepass analyze", "1", analyze(gz, 1));
  const Row gz_all = Measure("gzip: edgepass analyze", all, analyze(gz, cores));
  std::vector<Row> rows = {plain_split, plain_one, gz_split, gz_one, gz_all};

  std::optional<Row> duck, goaccess;
  if (argc >= 5) {
    const std::string sql_path = dir + "/query.sql";
    testing::WriteFileOrDie(sql_path, *EmitSql({.dialect = SqlDialect::kDuckDb, .window = window}));
    duck = MeasureChild("gzip: DuckDB, emitted query over a view on the file (node + engine)",
                        {argv[4], "--import", absl::StrCat(argv[3], "/register_hook.mjs"),
                         absl::StrCat(argv[3], "/sql_check.mjs"), "duckdb-view", argv[2], gz, sql_path},
                        dir, gz_split.lines);
    if (duck) rows.push_back(*duck);
  }
  if (std::filesystem::exists("/usr/bin/goaccess")) {
    goaccess = MeasureChild(
        "gzip: GoAccess --log-format=CLOUDFRONT (zcat | goaccess, JSON report)",
        {"/bin/sh", "-c",
         absl::StrCat("zcat '", gz, "' | /usr/bin/goaccess - --no-global-config --log-format=CLOUDFRONT -o '", dir,
                      "/goaccess.json'")},
        dir, gz_split.lines);
    if (goaccess) rows.push_back(*goaccess);
  }

  std::printf("%d cores; /proc/loadavg before: %s; after: %s\n\n", cores,
              std::string(absl::StripAsciiWhitespace(load_before)).c_str(),
              std::string(absl::StripAsciiWhitespace(testing::ReadFileOrEmpty("/proc/loadavg"))).c_str());
  std::printf("| what | threads | lines | wall s | CPU s | lines/s (wall) | lines/s per CPU s |\n"
              "|---|---|---:|---:|---:|---:|---:|\n");
  for (const Row& row : rows) {
    std::printf("| %s | %s | %llu | %.3f | %.3f | %s | %s |\n", row.what.c_str(), row.threads.c_str(),
                static_cast<unsigned long long>(row.lines), row.wall_s, row.cpu_s,
                absl::StrFormat("%.2f M", row.lines / row.wall_s / 1e6).c_str(),
                absl::StrFormat("%.2f M", row.lines / row.cpu_s / 1e6).c_str());
  }
  std::printf("\n| ratio | value | target |\n|---|---:|---|\n");
  std::printf("| plain: lines/s per core (1 thread, CPU) | %.2f M | >= 1 M |\n",
              plain_one.lines / plain_one.cpu_s / 1e6);
  std::printf("| gzip: analysis (%s threads) / decompress-and-split (1 thread), speed by wall clock | %.2fx | >= 0.8x |\n",
              all.c_str(), gz_split.wall_s / gz_all.wall_s);
  std::printf("| gzip: analysis / decompress-and-split, both on 1 thread, speed by CPU | %.2fx | - |\n",
              gz_split.cpu_s / gz_one.cpu_s);
  if (duck) {
    std::printf("| gzip: DuckDB CPU / edgepass analyze CPU (%s threads) | %.1fx | >= 3x |\n", all.c_str(),
                duck->cpu_s / gz_all.cpu_s);
  }
  if (goaccess) {
    std::printf("| gzip: GoAccess CPU / edgepass analyze CPU (%s threads) | %.1fx | (context) |\n", all.c_str(),
                goaccess->cpu_s / gz_all.cpu_s);
  }
  return 0;
}

}  // namespace
}  // namespace edgepass::analyze

int main(int argc, char** argv) { return edgepass::analyze::Main(argc, argv); }
