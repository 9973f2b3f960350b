#include "client/analyze/log_reader.h"

#include <zlib.h>

#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "client/analyze/scoring.h"
#include "client/analyze/synthetic_logs.h"
#include "gtest/gtest.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_process.h"

namespace edgepass::analyze {
namespace {

using ::edgepass::testing::TempDir;
using ::edgepass::testing::WriteFileOrDie;

std::string Gzip(const std::string& data) {
  std::string out(compressBound(data.size()) + 64, '\0');
  z_stream zs{};
  deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

std::vector<InputFile> Inputs(const std::vector<std::string>& paths) {
  std::vector<InputFile> out;
  for (const std::string& p : paths) out.push_back({.path = p});
  return out;
}

std::set<std::string> Reported(const Analysis& a) {
  std::set<std::string> ids;
  for (const SessionScore& s : a.results) {
    if (s.reported) ids.insert(s.session_id);
  }
  return ids;
}

class SyntheticLogs : public ::testing::Test {
 protected:
  void SetUp() override {
    log_ = GenerateSyntheticLog({.ordinary = 1000, .shared = 5});
    window_ = {.start_ms = 1796544000000, .end_ms = 1796544000000 + 600000};
  }
  std::set<std::string> SharedIds() const { return {log_.shared_ids.begin(), log_.shared_ids.end()}; }

  TempDir dir_;
  SyntheticLog log_;
  Window window_;
};

TEST_F(SyntheticLogs, ReportsExactlyTheSharedSessionsWithTheirComponents) {
  const std::string path = dir_.path() + "/E2ABCDEF.2026-12-06-08.a1b2c3d4";
  WriteFileOrDie(path, CloudFrontW3c(log_.requests));
  ReadResult r = ReadLogs(Inputs({path}), {.window = window_});
  EXPECT_EQ(r.stats.skipped(), 0u) << r.stats.Summary();
  EXPECT_EQ(r.stats.records, log_.requests.size());
  const Analysis a = ScoreSessions(r.table, {});
  EXPECT_EQ(a.sessions, 1000u + 5 + 1);
  EXPECT_EQ(Reported(a), SharedIds());
  for (const SessionScore& s : a.results) {
    if (!s.reported) continue;
    EXPECT_EQ(s.ips, 4u);
    EXPECT_EQ(s.user_agents, 3u);
    EXPECT_EQ(s.ip_component, 1);
    EXPECT_EQ(s.referer_component, 1);
    EXPECT_EQ(s.user_agent_component, 1);
    EXPECT_GT(s.rate_component, 3.0);  // four viewers: about 4x the median rate
    EXPECT_EQ(s.requests, 200u);       // 4 IPs x 50 segments
  }
  // The short shared session is scored by nobody.
  for (const SessionScore& s : a.results) {
    if (s.session_id == log_.short_shared_ids[0]) EXPECT_FALSE(s.scored);
  }
}

TEST_F(SyntheticLogs, SameResultFromGzipJsonNginxAndSplitFiles) {
  const Analysis expected = [&] {
    const std::string path = dir_.path() + "/all.log";
    WriteFileOrDie(path, CloudFrontW3c(log_.requests));
    return ScoreSessions(ReadLogs(Inputs({path}), {.window = window_}).table, {});
  }();
  // Four gzip files in Hive partitions (and one outside the window, pruned).
  const size_t quarter = log_.requests.size() / 4;
  std::vector<std::string> parts;
  for (int i = 0; i < 4; ++i) {
    std::vector<SyntheticRequest> part(log_.requests.begin() + i * quarter,
                                       i == 3 ? log_.requests.end() : log_.requests.begin() + (i + 1) * quarter);
    const std::string d = absl::StrCat(dir_.path(), "/hive/year=2026/month=12/day=06/hour=08");
    std::filesystem::create_directories(d);
    WriteFileOrDie(absl::StrCat(d, "/part", i, ".gz"), Gzip(CloudFrontW3c(part)));
  }
  std::filesystem::create_directories(dir_.path() + "/hive/year=2026/month=12/day=05/hour=08");
  WriteFileOrDie(dir_.path() + "/hive/year=2026/month=12/day=05/hour=08/old.gz", "not even gzip");
  absl::StatusOr<std::vector<std::string>> files = ListLogFiles({dir_.path() + "/hive"}, window_);
  ASSERT_TRUE(files.ok()) << files.status();
  ASSERT_EQ(files->size(), 4u);
  ReadResult gz = ReadLogs(Inputs(*files), {.window = window_, .threads = 2});
  EXPECT_EQ(gz.stats.skipped(), 0u) << gz.stats.Summary();
  EXPECT_TRUE(gz.files[0].gzip);
  const Analysis from_gz = ScoreSessions(gz.table, {});

  WriteFileOrDie(dir_.path() + "/v2.json", CloudFrontJsonLines(log_.requests));
  const Analysis from_json = ScoreSessions(ReadLogs(Inputs({dir_.path() + "/v2.json"}), {.window = window_}).table, {});
  WriteFileOrDie(dir_.path() + "/nginx.json", NginxJsonLines(log_.requests));
  const Analysis from_nginx =
      ScoreSessions(ReadLogs(Inputs({dir_.path() + "/nginx.json"}), {.window = window_}).table, {});

  EXPECT_EQ(Reported(from_gz), SharedIds());
  EXPECT_EQ(Reported(from_json), SharedIds());
  ASSERT_EQ(from_gz.results.size(), expected.results.size());
  for (size_t i = 0; i < expected.results.size(); ++i) {
    EXPECT_EQ(from_gz.results[i].session_id, expected.results[i].session_id);
    EXPECT_DOUBLE_EQ(from_gz.results[i].score, expected.results[i].score);
    EXPECT_DOUBLE_EQ(from_json.results[i].score, expected.results[i].score);
  }
  // nginx logs milliseconds: the same sessions stand out.
  EXPECT_EQ(Reported(from_nginx), SharedIds());
}

// Swaps the W3C columns `a` and `b` of every line (the #Fields line too,
// counting its field names from 0 after "#Fields:").
std::string SwapColumns(const std::string& text, size_t a, size_t b) {
  std::string out;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    if (absl::StartsWith(line, "#Version")) {
      absl::StrAppend(&out, line, "\n");
      continue;
    }
    const bool header = absl::StartsWith(line, "#Fields: ");
    if (header) line.remove_prefix(9);
    std::vector<std::string> cols = absl::StrSplit(line, header ? ' ' : '\t');
    std::swap(cols[a], cols[b]);
    absl::StrAppend(&out, header ? "#Fields: " : "", absl::StrJoin(cols, header ? " " : "\t"), "\n");
  }
  return out;
}

// Everything ReadLogs reports, to compare two runs.
std::string Everything(const ReadResult& r) {
  std::string out = absl::StrCat(r.stats.Summary(), " lines=", r.stats.lines, " records=", r.stats.records,
                                 " kept=", r.stats.kept, " filtered=", r.stats.filtered,
                                 " no_session=", r.stats.no_session, " bytes=", r.stats.bytes_read, "\n");
  for (const FileOutcome& f : r.files) {
    absl::StrAppend(&out, f.path, " gzip=", f.gzip, " consumed=", f.consumed, "\n");
  }
  auto table = [&](const SessionTable& t) {
    const Analysis a = ScoreSessions(t, {});
    absl::StrAppend(&out, "sessions=", a.sessions, " median=", a.median_rate.value_or(-1), "\n");
    for (const SessionScore& s : a.results) {
      absl::StrAppend(&out, s.session_id, " ", s.requests, " ", s.duration_s, " ", s.ips, " ", s.referers, " ",
                      s.user_agents, " ", s.last_ms, " ", s.score, " ", s.reported, "\n");
    }
  };
  table(r.table);
  for (const auto& [b, t] : r.buckets) {
    absl::StrAppend(&out, "bucket ", b, "\n");
    table(t);
  }
  return out;
}

TEST_F(SyntheticLogs, OneFileOnSeveralThreadsGivesWhatOneThreadGives) {
  // Many blocks (~25 MB), a second #Fields header mid-file with two columns
  // swapped (sc-bytes and c-ip), bad and too-long lines (one longer than a
  // block of the reading thread), blank lines first, and a last line
  // without '\n'.
  const size_t half = log_.requests.size() / 2;
  std::string text = "\n  \n" + CloudFrontW3c({log_.requests.begin(), log_.requests.begin() + half});
  text += "garbage line without tabs\n" + std::string(kMaxLineBytes + 10, 'x') + "\n";
  text += std::string(5 << 20, 'y') + "\n";
  std::string second = SwapColumns(CloudFrontW3c({log_.requests.begin() + half, log_.requests.end()}), 3, 4);
  second.pop_back();
  text += second;
  const std::string plain = dir_.path() + "/one.log", gz = dir_.path() + "/one.log.gz";
  WriteFileOrDie(plain, text);
  WriteFileOrDie(gz, Gzip(text));

  // gzip: whole with libdeflate (the default for a file this small) and
  // streamed with zlib give the same too.
  for (const auto& [path, whole_gzip] : {std::pair{plain, kMaxWholeGzipBytes}, std::pair{gz, kMaxWholeGzipBytes},
                                         std::pair{gz, size_t{0}}}) {
    for (int64_t bucket_ms : {int64_t{0}, int64_t{60000}}) {
      const ReadOptions one{
          .window = window_, .max_whole_gzip_bytes = whole_gzip, .threads = 1, .bucket_ms = bucket_ms};
      ReadOptions four = one;
      four.threads = 4;
      const ReadResult a = ReadLogs(Inputs({path}), one);
      const ReadResult b = ReadLogs(Inputs({path}), four);
      EXPECT_EQ(a.stats.errors[static_cast<size_t>(LineError::kTooLong)], 2u);
      EXPECT_EQ(a.stats.records, log_.requests.size()) << a.stats.Summary();
      EXPECT_EQ(Reported(ScoreSessions(a.table, {})), bucket_ms ? std::set<std::string>{} : SharedIds());
      EXPECT_EQ(Everything(a), Everything(b)) << path << " bucket_ms " << bucket_ms;
      if (path == plain) {  // --every: the last line waits for its '\n'
        ReadOptions more = one;
        more.read_unterminated_last_line = false;
        ReadOptions more_four = more;
        more_four.threads = 4;
        const ReadResult c = ReadLogs(Inputs({path}), more);
        EXPECT_EQ(c.files[0].consumed, text.rfind('\n') + 1);
        EXPECT_EQ(Everything(c), Everything(ReadLogs(Inputs({path}), more_four)));
      }
      if (path == gz) {
        const ReadOptions zlib{.window = window_, .max_whole_gzip_bytes = 0, .threads = 1, .bucket_ms = bucket_ms};
        EXPECT_EQ(Everything(a), Everything(ReadLogs(Inputs({path}), zlib))) << "libdeflate against zlib";
      }
    }
  }
}

TEST_F(SyntheticLogs, GzipMembersAreReadInTurnByLibdeflateAndByZlib) {
  const std::string text = CloudFrontW3c(log_.requests);
  const size_t cut = text.find('\n', text.size() / 2) + 1;
  const std::string gz = dir_.path() + "/two.gz", plain = dir_.path() + "/all.log";
  WriteFileOrDie(gz, Gzip(text.substr(0, cut)) + Gzip(text.substr(cut)));
  WriteFileOrDie(plain, text);
  auto sessions = [&](const std::string& path, size_t whole) {
    ReadResult r = ReadLogs(Inputs({path}), {.window = window_, .max_whole_gzip_bytes = whole, .threads = 1});
    EXPECT_EQ(r.stats.skipped(), 0u) << r.stats.Summary();
    EXPECT_EQ(r.stats.truncated_gzip + r.stats.corrupt_gzip, 0u) << r.stats.Summary();
    std::string out;
    for (const SessionScore& s : ScoreSessions(r.table, {}).results) {
      absl::StrAppend(&out, s.session_id, " ", s.requests, " ", s.score, "\n");
    }
    return out;
  };
  const std::string want = sessions(plain, 0);
  EXPECT_EQ(sessions(gz, kMaxWholeGzipBytes), want);
  EXPECT_EQ(sessions(gz, 0), want);
}

TEST_F(SyntheticLogs, BadInputIsCountedAndSkipped) {
  std::string text = CloudFrontW3c(log_.requests);
  text += "garbage line without tabs\n";
  text += "2026-12-06\t08:00:01\ttoo\tfew\n";
  text += "2026-12-06\t08:00:01\t\xff\xfe\n";
  text += "\n";
  const std::string plain = dir_.path() + "/bad.log";
  WriteFileOrDie(plain, text);
  const std::string full_gz = Gzip(CloudFrontW3c(log_.requests));
  const std::string truncated = dir_.path() + "/truncated.gz";
  WriteFileOrDie(truncated, full_gz.substr(0, full_gz.size() / 2));
  const std::string corrupt = dir_.path() + "/corrupt.gz";
  std::string bad = full_gz;
  for (size_t i = bad.size() / 3; i < bad.size() / 3 + 64; ++i) bad[i] = static_cast<char>(bad[i] ^ 0x5a);
  WriteFileOrDie(corrupt, bad);
  ReadResult r = ReadLogs(Inputs({plain, truncated, dir_.path() + "/missing.log"}), {.window = window_});
  EXPECT_EQ(r.stats.errors[static_cast<size_t>(LineError::kWrongColumnCount)], 2u) << r.stats.Summary();
  EXPECT_EQ(r.stats.errors[static_cast<size_t>(LineError::kNonUtf8)], 1u) << r.stats.Summary();
  EXPECT_EQ(r.stats.skipped(), 3u) << r.stats.Summary();
  EXPECT_EQ(r.stats.truncated_gzip, 1u);
  EXPECT_EQ(r.stats.unreadable_files, 1u);
  EXPECT_EQ(r.stats.files, 3u);
  // The good lines still give the answer.
  EXPECT_EQ(Reported(ScoreSessions(r.table, {})), SharedIds());
  EXPECT_NE(r.stats.Summary().find("wrong_column_count 2"), std::string::npos) << r.stats.Summary();
  EXPECT_NE(r.stats.Summary().find("truncated gzip 1"), std::string::npos) << r.stats.Summary();

  // Damaged deflate data decompresses to garbage until zlib notices (at the
  // latest at the CRC): counted, never fatal.
  ReadResult c = ReadLogs(Inputs({corrupt}), {.window = window_});
  EXPECT_EQ(c.stats.corrupt_gzip, 1u) << c.stats.Summary();
}

TEST_F(SyntheticLogs, ResumesPlainFilesFromAnOffsetWithTheirHeader) {
  const std::string text = CloudFrontW3c(log_.requests);
  const size_t cut = text.find('\n', text.size() / 2) + 1;
  const std::string path = dir_.path() + "/growing.log";
  WriteFileOrDie(path, text.substr(0, cut) + "2026-12-06\t08:00");  // the writer is mid-line
  ReadResult first = ReadLogs(Inputs({path}), {.window = window_, .read_unterminated_last_line = false});
  EXPECT_EQ(first.files[0].consumed, cut);
  EXPECT_EQ(first.stats.skipped(), 0u);
  WriteFileOrDie(path, text);
  ReadResult second = ReadLogs({{.path = path, .offset = first.files[0].consumed}},
                               {.window = window_, .read_unterminated_last_line = false});
  EXPECT_EQ(second.stats.skipped(), 0u) << second.stats.Summary();
  EXPECT_EQ(second.files[0].consumed, text.size());
  EXPECT_EQ(first.stats.records + second.stats.records, log_.requests.size());
  first.table.Merge(std::move(second.table));
  EXPECT_EQ(Reported(ScoreSessions(first.table, {})), SharedIds());
}

TEST(ListLogFiles, MissingPathIsNotFound) {
  absl::StatusOr<std::vector<std::string>> files = ListLogFiles({"/nonexistent/logs"}, {});
  EXPECT_EQ(files.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(files.status().message().find("/nonexistent/logs"), absl::string_view::npos);
}

}  // namespace
}  // namespace edgepass::analyze
