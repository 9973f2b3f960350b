// `edgepass analyze`: finds shared sessions in CDN access logs (SMD's score,
// client/analyze), prints them, reports them as AUTO revocations, runs on a
// schedule, or prints the same analysis as SQL.
#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "client/analyze/log_reader.h"
#include "client/analyze/query_result.h"
#include "client/analyze/scan_state.h"
#include "client/analyze/scoring.h"
#include "client/analyze/sql.h"
#include "client/cli/analyze_output.h"
#include "client/cli/analyze_report.h"
#include "client/cli/cli_util.h"
#include "client/cli/client_flags.h"
#include "client/cli/commands.h"
#include "client/cli/flags.h"
#include "client/lib/session_client.h"
#include "nlohmann/json.hpp"

namespace edgepass::cli {
namespace {

using analyze::Analysis;
using analyze::ScoringOptions;
using analyze::SessionScore;
using analyze::Window;

constexpr absl::string_view kCmd = "analyze";

constexpr FlagSpec kFlags[] = {
    {"now"},
    {"lookback"},
    {"min-duration"},
    {"min-sessions"},
    {"threshold"},
    {"rate-weight"},
    {"ip-weight"},
    {"referer-weight"},
    {"user-agent-weight"},
    {"threads"},
    {"all", FlagKind::kSwitch},
    {"json", FlagKind::kSwitch},
    {"report"},
    {"revoke-for"},
    EDGEPASS_CLIENT_FLAG_SPECS,
    {"every"},
    {"state"},
    {"runs"},
    {"emit-sql"},
    {"table"},
    {"column", FlagKind::kRepeated},
    {"partitioned", FlagKind::kSwitch},
    {"from-query-result"},
};

int UsageError(CliEnv& env, absl::string_view message) {
  env.err << "edgepass analyze: " << message << "\n"
          << "Run 'edgepass analyze --help' for usage.\n";
  return kExitUsage;
}

absl::Status DurationFlag(const ParsedFlags& f, absl::string_view name, absl::Duration* out) {
  const std::string* text = f.Get(name);
  if (text == nullptr) return absl::OkStatus();
  if (!absl::ParseDuration(*text, out) || *out < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat("--", name, " '", *text, "': expected e.g. 30s, 10m, 1h"));
  }
  return absl::OkStatus();
}

absl::Status NumberFlag(const ParsedFlags& f, absl::string_view name, double* out) {
  const std::string* text = f.Get(name);
  if (text == nullptr) return absl::OkStatus();
  if (!absl::SimpleAtod(*text, out)) {
    return absl::InvalidArgumentError(absl::StrCat("--", name, " '", *text, "': expected a number"));
  }
  return absl::OkStatus();
}

absl::Status CountFlag(const ParsedFlags& f, absl::string_view name, uint64_t* out) {
  const std::string* text = f.Get(name);
  if (text == nullptr) return absl::OkStatus();
  if (!absl::SimpleAtoi(*text, out)) {
    return absl::InvalidArgumentError(absl::StrCat("--", name, " '", *text, "': expected a whole number >= 0"));
  }
  return absl::OkStatus();
}

// Everything a run needs, parsed once.
struct AnalyzeSettings {
  absl::Time now;
  bool fixed_now = false;  // --now given: every --every run uses it
  absl::Duration lookback = absl::Minutes(10);
  ScoringOptions scoring;
  int threads = 0;
  bool all = false;
  bool json = false;
  std::optional<client::ClientOptions> report;
  ReportSettings report_settings;
  std::optional<absl::Duration> every;
  uint64_t runs = 0;  // 0: forever (with --every), else that many runs
  std::string state_path;
};

absl::Status ParseSettings(const ParsedFlags& f, const CliEnv& env, AnalyzeSettings* s) {
  s->now = env.now;
  if (const std::string* text = f.Get("now")) {
    absl::StatusOr<absl::Time> now = ParseEpochFlag("now", *text);
    if (!now.ok()) return now.status();
    s->now = *now;
    s->fixed_now = true;
  }
  absl::Status st;
  if (!(st = DurationFlag(f, "lookback", &s->lookback)).ok()) return st;
  if (!(st = DurationFlag(f, "min-duration", &s->scoring.min_duration)).ok()) return st;
  if (!(st = CountFlag(f, "min-sessions", &s->scoring.min_sessions)).ok()) return st;
  if (!(st = NumberFlag(f, "threshold", &s->scoring.threshold)).ok()) return st;
  if (!(st = NumberFlag(f, "rate-weight", &s->scoring.rate_weight)).ok()) return st;
  if (!(st = NumberFlag(f, "ip-weight", &s->scoring.ip_weight)).ok()) return st;
  if (!(st = NumberFlag(f, "referer-weight", &s->scoring.referer_weight)).ok()) return st;
  if (!(st = NumberFlag(f, "user-agent-weight", &s->scoring.user_agent_weight)).ok()) return st;
  if (std::string e = analyze::ValidateScoringOptions(s->scoring); !e.empty()) {
    return absl::InvalidArgumentError(e);
  }
  uint64_t threads = 0;
  if (!(st = CountFlag(f, "threads", &threads)).ok()) return st;
  s->threads = static_cast<int>(std::min<uint64_t>(threads, 256));
  s->all = f.Has("all");
  s->json = f.Has("json");
  if (const std::string* addr = f.Get("report")) {
    absl::StatusOr<client::ClientOptions> o = ClientOptionsFromFlags(f, env, "--report", *addr);
    if (!o.ok()) return o.status();
    s->report = *std::move(o);
  }
  absl::Duration revoke_for = absl::ZeroDuration();
  if (!(st = DurationFlag(f, "revoke-for", &revoke_for)).ok()) return st;
  if (f.Has("revoke-for")) {
    if (revoke_for <= absl::ZeroDuration()) return absl::InvalidArgumentError("--revoke-for: must be positive");
    s->report_settings.revoke_for = revoke_for;
  }
  if (f.Has("every")) {
    absl::Duration every;
    if (!(st = DurationFlag(f, "every", &every)).ok()) return st;
    if (every <= absl::ZeroDuration()) return absl::InvalidArgumentError("--every: must be positive");
    s->every = every;
  }
  if (!(st = CountFlag(f, "runs", &s->runs)).ok()) return st;
  if (const std::string* p = f.Get("state")) s->state_path = *p;
  if (s->every.has_value() && s->state_path.empty()) {
    return absl::InvalidArgumentError("--every needs --state FILE (files and offsets already read)");
  }
  return absl::OkStatus();
}

Window WindowAt(absl::Time now, absl::Duration lookback) {
  const int64_t end = absl::ToUnixMillis(now);
  return {.start_ms = end - absl::ToInt64Milliseconds(lookback), .end_ms = end};
}

std::vector<Suspect> SuspectsOf(const Analysis& a) {
  std::vector<Suspect> out;
  for (const SessionScore& s : a.results) {
    if (s.reported) out.push_back({s.session_id, s.score, analyze::ScoreComponents(s, a.median_rate)});
  }
  return out;
}

// Reports `suspects` when --report was given; prints a summary line on err.
// Returns the exit code.
int Report(CliEnv& env, const AnalyzeSettings& s, const std::vector<Suspect>& suspects, absl::Time now,
           analyze::ScanState* state, nlohmann::ordered_json* json) {
  if (!s.report.has_value()) return kExitOk;
  client::SessionClient sessions(*s.report);
  ReportSettings settings = s.report_settings;
  settings.now = now;
  const ReportSummary r = ReportSuspects(sessions, suspects, settings, state);
  env.err << "edgepass analyze: reported " << r.reported << ", already revoked " << r.already_manual
          << " MANUAL and " << r.already_auto << " AUTO (left as they are), invalid session ids "
          << r.invalid_ids << ", refused " << r.refused << "\n";
  if (json != nullptr) {
    (*json)["report"] = {{"reported", r.reported},       {"already_manual", r.already_manual},
                         {"already_auto", r.already_auto}, {"invalid_session_ids", r.invalid_ids},
                         {"refused", r.refused}};
  }
  if (!r.error.ok()) return ReportFailedCall("analyze: --report", r.error, env.err);
  return kExitOk;
}

int RunEmitSql(const ParsedFlags& f, CliEnv& env, const AnalyzeSettings& s) {
  absl::StatusOr<analyze::SqlDialect> dialect = analyze::ParseSqlDialect(*f.Get("emit-sql"));
  if (!dialect.ok()) return UsageError(env, dialect.status().message());
  analyze::SqlOptions o{.dialect = *dialect, .window = WindowAt(s.now, s.lookback), .scoring = s.scoring,
                        .all_sessions = s.all};
  if (const std::string* t = f.Get("table")) o.table = *t;
  o.partitioned = f.Has("partitioned");
  for (const std::string& arg : f.All("column")) {
    absl::StatusOr<std::pair<std::string, std::string>> nv = SplitNameValue("column", arg);
    if (!nv.ok()) return UsageError(env, nv.status().message());
    if (absl::Status st = analyze::SetSqlColumn(&o.columns, nv->first, nv->second); !st.ok()) {
      return UsageError(env, st.message());
    }
  }
  absl::StatusOr<std::string> sql = analyze::EmitSql(o);
  if (!sql.ok()) return UsageError(env, sql.status().message());
  env.out << *sql;
  return kExitOk;
}

int RunFromQueryResult(const std::string& path, CliEnv& env, const AnalyzeSettings& s) {
  absl::StatusOr<std::string> text = ReadFlagFile("from-query-result", path, 256 << 20);
  if (!text.ok()) return UsageError(env, text.status().message());
  absl::StatusOr<std::vector<analyze::QueryResultRow>> rows = analyze::ParseQueryResultCsv(*text);
  if (!rows.ok()) return UsageError(env, absl::StrCat("--from-query-result '", path, "': ", rows.status().message()));
  std::vector<Suspect> suspects;
  for (const analyze::QueryResultRow& r : *rows) {
    if (r.score > s.scoring.threshold) suspects.push_back({r.session_id, r.score, r.components});
  }
  nlohmann::ordered_json json;
  if (s.json) {
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const Suspect& x : suspects) list.push_back({{"session_id", x.session_id}, {"score", x.score}, {"components", x.components}});
    json["suspects"] = std::move(list);
  } else {
    env.out << absl::StrFormat("%-24s %9s\n", "SESSION", "SCORE");
    for (const Suspect& x : suspects) env.out << absl::StrFormat("%-24s %9.3f\n", x.session_id, x.score);
  }
  const int code = Report(env, s, suspects, s.now, nullptr, s.json ? &json : nullptr);
  if (s.json) env.out << json.dump() << "\n";
  return code;
}

// One analysis over `paths`. With a state (--state / --every) only new data
// is read and the window's minutes are kept in `sliding` between runs.
int RunOnce(const std::vector<std::string>& paths, CliEnv& env, const AnalyzeSettings& s, absl::Time now,
            analyze::ScanState* state, analyze::SlidingSessions* sliding) {
  const Window window = WindowAt(now, s.lookback);
  absl::StatusOr<std::vector<std::string>> files = analyze::ListLogFiles(paths, window);
  if (!files.ok()) return UsageError(env, files.status().message());
  std::vector<analyze::InputFile> inputs;
  if (state != nullptr) {
    inputs = state->Plan(*files);
  } else {
    for (const std::string& p : *files) inputs.push_back({.path = p});
  }
  analyze::ReadOptions read{.window = window, .threads = s.threads,
                            .read_unterminated_last_line = state == nullptr,
                            .bucket_ms = sliding != nullptr ? analyze::kBucketMs : 0};
  analyze::ReadResult r = analyze::ReadLogs(inputs, read);
  analyze::SessionTable table = std::move(r.table);
  if (sliding != nullptr) {
    sliding->Add(std::move(r.buckets));
    table = sliding->Current(window);
  }
  if (state != nullptr) state->Record(r.files);
  const Analysis a = analyze::ScoreSessions(table, s.scoring);
  const std::vector<Suspect> suspects = SuspectsOf(a);

  nlohmann::ordered_json json;
  if (s.json) {
    json = AnalysisJson(a, window, s.all);
    json["input"] = StatsJson(r.stats);
  } else {
    PrintTable(env.out, a, s.all);
  }
  env.err << "edgepass analyze: " << r.stats.Summary() << "; sessions " << a.sessions << ", median rate "
          << (a.median_rate.has_value() ? absl::StrFormat("%.4f/s", *a.median_rate) : std::string("none"))
          << ", over threshold " << suspects.size()
          << (a.not_scored_reason.empty() ? "" : absl::StrCat(" (", a.not_scored_reason, ")")) << "\n";
  const int code = Report(env, s, suspects, now, state, s.json ? &json : nullptr);
  if (s.json) env.out << json.dump() << "\n";
  env.out.flush();
  if (state != nullptr) {
    // Reported sessions are remembered a day past the window.
    state->ForgetReportedBefore(absl::ToUnixSeconds(now - s.lookback - absl::Hours(24)));
    if (absl::Status st = state->Save(s.state_path); !st.ok()) {
      env.err << "edgepass analyze: --state: " << st.message() << "\n";
      return kExitUsage;
    }
  }
  return code;
}

}  // namespace

std::string AnalyzeUsage() {
  return R"(Usage:
  edgepass analyze PATH... [--now EPOCH] [--lookback 10m] [--min-duration 30s]
      [--min-sessions 3] [--threshold 2.2] [--rate-weight 1] [--ip-weight 1]
      [--referer-weight 1] [--user-agent-weight 1] [--threads N] [--all] [--json]
      [--report ADDR [--revoke-for DURATION] [--deadline D] [--api-key-file FILE]
       [--server-ca FILE] [--insecure-plaintext]]
      [--every DURATION --state FILE [--runs N]]
    Scores the sessions in CDN access logs the way SMD's auto revocation does
    and prints those over the threshold (--all: every scored session) as a
    table or, with --json, one JSON document per run. PATH: a log file, a
    directory (recursively; Hive partitions year=/month=/day=/hour= outside
    the window are skipped). Formats, per file: CloudFront standard logs
    (W3C, plain or gzip), CloudFront v2 JSON lines, nginx edgepass_json.
    A summary of what was read and skipped goes to stderr.
    --report: send them to the service as AUTO revocations with score and
    components (API key scope revoke); sessions already revoked (MANUAL or
    AUTO) are left as they are. --every: run again every DURATION reading
    only what is new (files and offsets in --state, which also remembers
    what was reported); --runs stops after N runs.

  edgepass analyze --emit-sql athena|trino|duckdb [--table NAME]
      [--column NAME=COLUMN]... [--partitioned] [--now EPOCH] [--lookback 10m]
      [scoring flags] [--all]
    Prints the same analysis as one SQL query over a CloudFront log table
    (column names as in Athena's CloudFront table unless --column date|time|
    ip|uri|status|bytes|referer|user_agent=COLUMN; --partitioned: filter
    on year/month/day/hour partitions).

  edgepass analyze --from-query-result FILE.csv [--threshold 2.2] [--json]
      [--report ADDR ...]
    Reads the CSV result of that query (or of SMD's) and reports the sessions
    over the threshold.

  Exit codes: 0 done, 1 the service refused a report, 2 bad usage or
  unusable state file, 3 the service could not be reached (retry).
  Docs: docs/analyze.md.
)";
}

int RunAnalyze(absl::Span<const std::string> args, CliEnv& env) {
  absl::StatusOr<ParsedFlags> flags = ParseFlags(args, kFlags);
  if (!flags.ok()) return UsageError(env, flags.status().message());
  if (flags->help()) {
    env.out << AnalyzeUsage();
    return kExitOk;
  }
  AnalyzeSettings s;
  if (absl::Status st = ParseSettings(*flags, env, &s); !st.ok()) return UsageError(env, st.message());
  if (flags->Has("emit-sql")) {
    if (!flags->positional().empty()) return UsageError(env, "--emit-sql takes no PATH");
    return RunEmitSql(*flags, env, s);
  }
  if (const std::string* csv = flags->Get("from-query-result")) {
    if (!flags->positional().empty()) return UsageError(env, "--from-query-result takes no PATH");
    return RunFromQueryResult(*csv, env, s);
  }
  if (flags->positional().empty()) return UsageError(env, "missing PATH (a log file or directory)");
  const std::vector<std::string> paths(flags->positional().begin(), flags->positional().end());

  std::optional<analyze::ScanState> state;
  if (!s.state_path.empty()) {
    absl::StatusOr<analyze::ScanState> loaded = analyze::ScanState::Load(s.state_path);
    if (!loaded.ok()) return UsageError(env, loaded.status().message());
    state = *std::move(loaded);
  }
  if (!s.every.has_value()) {
    return RunOnce(paths, env, s, s.now, state.has_value() ? &*state : nullptr, nullptr);
  }
  analyze::SlidingSessions sliding;
  int code = kExitOk;
  const absl::Time started = absl::Now();
  for (uint64_t run = 0; s.runs == 0 || run < s.runs; ++run) {
    const absl::Time now = s.fixed_now ? s.now : s.now + (absl::Now() - started);
    code = RunOnce(paths, env, s, now, &*state, &sliding);
    if (code == kExitUsage) return code;  // e.g. the state cannot be saved
    if (s.runs != 0 && run + 1 == s.runs) break;
    std::this_thread::sleep_for(absl::ToChronoSeconds(*s.every) +
                                std::chrono::milliseconds(absl::ToInt64Milliseconds(*s.every) % 1000));
  }
  return code;
}

}  // namespace edgepass::cli
