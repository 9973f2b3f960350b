#include "client/analyze/sql.h"

#include <cmath>
#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/substitute.h"
#include "absl/time/time.h"

namespace edgepass::analyze {
namespace {

// Everything that differs between the engines. $0 is the argument.
struct Dialect {
  absl::string_view name;
  absl::string_view split_first_segment;  // the URI's first path segment split at '.'
  absl::string_view list_length;
  absl::string_view median;
  absl::string_view unix_seconds;
};

constexpr Dialect kDialects[] = {
    {"athena", "split(split_part($0, '/', 2), '.')", "cardinality($0)", "approx_percentile($0, 0.5)",
     "to_unixtime($0)"},
    {"trino", "split(split_part($0, '/', 2), '.')", "cardinality($0)", "approx_percentile($0, 0.5)",
     "to_unixtime($0)"},
    {"duckdb", "string_split(split_part($0, '/', 2), '.')", "len($0)", "median($0)", "epoch($0)"},
};

const Dialect& DialectOf(SqlDialect d) { return kDialects[static_cast<int>(d)]; }

bool IsIdentifier(absl::string_view s) {
  if (s.empty() || s.size() > 128) return false;
  for (char c : s) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

std::string Quote(absl::string_view identifier) { return absl::StrCat("\"", identifier, "\""); }

// The shortest decimal that reads back as `v`.
std::string Number(double v) {
  for (int precision = 1; precision < 17; ++precision) {
    std::string text = absl::StrFormat("%.*g", precision, v);
    if (std::strtod(text.c_str(), nullptr) == v) return text;
  }
  return absl::StrFormat("%.17g", v);
}

std::string TimestampLiteral(int64_t ms) {
  return absl::StrCat("TIMESTAMP '",
                      absl::FormatTime("%Y-%m-%d %H:%M:%E3S", absl::FromUnixMillis(ms), absl::UTCTimeZone()),
                      "'");
}

// yyyymmddhh of the hour `ms` falls in.
int64_t HourKey(int64_t ms) {
  const absl::CivilHour h = absl::ToCivilHour(absl::FromUnixMillis(ms), absl::UTCTimeZone());
  return ((h.year() * 100 + h.month()) * 100 + h.day()) * 100 + h.hour();
}

}  // namespace

absl::StatusOr<SqlDialect> ParseSqlDialect(absl::string_view name) {
  for (int i = 0; i < 3; ++i) {
    if (kDialects[i].name == name) return static_cast<SqlDialect>(i);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("--emit-sql '", name, "': expected athena, trino or duckdb"));
}

absl::Status SetSqlColumn(SqlColumns* c, absl::string_view name, absl::string_view column) {
  if (!IsIdentifier(column)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--column ", name, "='", column, "': column names are letters, digits and '_'"));
  }
  std::string* slot = name == "date"         ? &c->date
                      : name == "time"       ? &c->time
                      : name == "ip"         ? &c->ip
                      : name == "uri"        ? &c->uri
                      : name == "status"     ? &c->status
                      : name == "bytes"      ? &c->bytes
                      : name == "referer"    ? &c->referer
                      : name == "user_agent" ? &c->user_agent
                                             : nullptr;
  if (slot == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--column '", name, "': expected one of date, time, ip, uri, status, bytes, referer, user_agent"));
  }
  *slot = std::string(column);
  return absl::OkStatus();
}

absl::StatusOr<std::string> EmitSql(const SqlOptions& o) {
  std::vector<std::string> parts = absl::StrSplit(o.table, '.');
  if (parts.size() > 3) return absl::InvalidArgumentError(absl::StrCat("--table '", o.table, "': at most catalog.schema.table"));
  for (std::string& p : parts) {
    if (!IsIdentifier(p)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--table '", o.table, "': each part is letters, digits and '_'"));
    }
    p = Quote(p);
  }
  if (o.window.start_ms == INT64_MIN || o.window.end_ms == INT64_MAX || o.window.start_ms > o.window.end_ms) {
    return absl::InvalidArgumentError("window: needs a start and an end");
  }
  const Dialect& d = DialectOf(o.dialect);
  const SqlColumns& c = o.columns;
  const ScoringOptions& s = o.scoring;
  auto sub = [](absl::string_view pattern, absl::string_view arg) { return absl::Substitute(pattern, arg); };

  std::string partition_filter;
  if (o.partitioned) {
    partition_filter = absl::StrCat(
        "\n    AND CAST(\"year\" AS BIGINT) * 1000000 + CAST(\"month\" AS BIGINT) * 10000"
        " + CAST(\"day\" AS BIGINT) * 100 + CAST(\"hour\" AS BIGINT) BETWEEN ",
        HourKey(o.window.start_ms), " AND ", HourKey(o.window.end_ms));
  }
  const std::string median = sub(d.median, "rate");
  const std::string rate_term =
      s.rate_weight == 0 ? std::string("CAST(0 AS DOUBLE)")
                         : absl::StrCat(Number(s.rate_weight), " * rate / (SELECT ", median, " FROM rated)");
  auto penalty = [&](absl::string_view count, double weight) {
    return weight == 0 ? std::string("CAST(0 AS DOUBLE)")
                       : absl::StrCat("CASE WHEN ", count, " > 1 THEN CAST(", Number(weight),
                                      " AS DOUBLE) ELSE CAST(0 AS DOUBLE) END");
  };
  std::string q = absl::StrCat(
      "-- edgepass analyze --emit-sql ", d.name,
      ": SMD's auto-revocation score per session (docs/analyze.md).\n"
      "WITH requests AS (\n"
      "  SELECT\n"
      "    ", sub(d.split_first_segment, Quote(c.uri)), " AS first_segment_parts,\n"
      "    ", Quote(c.uri), " AS uri,\n"
      "    ", Quote(c.referer), " AS referer,\n"
      "    ", Quote(c.user_agent), " AS user_agent,\n"
      "    ", Quote(c.ip), " AS viewer_ip,\n"
      "    CAST(CAST(", Quote(c.date), " AS VARCHAR) || ' ' || CAST(", Quote(c.time),
      " AS VARCHAR) AS TIMESTAMP) AS time_point\n"
      "  FROM ", absl::StrJoin(parts, "."), "\n"
      "  WHERE CAST(", Quote(c.status), " AS INTEGER) IN (200, 206)\n"
      "    AND CAST(", Quote(c.bytes), " AS BIGINT) > ", kMinResponseBytes, partition_filter, "\n"
      "),\n"
      "sessions AS (\n"
      "  SELECT\n"
      "    first_segment_parts[1] AS session_id,\n"
      "    COUNT(DISTINCT (viewer_ip, uri)) AS requests,\n"
      "    date_diff('second', MIN(time_point), MAX(time_point)) AS duration_s,\n"
      "    MAX(time_point) AS last_seen,\n"
      "    COUNT(DISTINCT viewer_ip) AS ips,\n"
      "    COUNT(DISTINCT referer) AS referers,\n"
      "    COUNT(DISTINCT user_agent) AS user_agents\n"
      "  FROM requests\n"
      "  WHERE time_point BETWEEN ", TimestampLiteral(o.window.start_ms), " AND ",
      TimestampLiteral(o.window.end_ms), "\n"
      "    AND ", sub(d.list_length, "first_segment_parts"), " = 4\n"
      "  GROUP BY 1\n"
      "),\n"
      "rated AS (\n"
      "  -- A session of duration 0 has no rate: counted, out of the median, never scored.\n"
      "  SELECT sessions.*,\n"
      "    CASE WHEN duration_s > 0 THEN CAST(requests AS DOUBLE) / duration_s END AS rate\n"
      "  FROM sessions\n"
      "),\n"
      "scored AS (\n"
      "  SELECT session_id, requests, duration_s, rate, ips, referers, user_agents, last_seen,\n"
      "    ", rate_term, " AS rate_component,\n"
      "    ", penalty("ips", s.ip_weight), " AS ip_component,\n"
      "    ", penalty("referers", s.referer_weight), " AS referer_component,\n"
      "    ", penalty("user_agents", s.user_agent_weight), " AS user_agent_component\n"
      "  FROM rated\n"
      "  WHERE (SELECT COUNT(*) FROM rated) >= ", s.min_sessions, "\n"
      "    AND rate IS NOT NULL\n"
      "    AND duration_s >= ", Number(absl::ToDoubleSeconds(s.min_duration)), "\n"
      ")\n"
      "SELECT\n"
      "  session_id,\n"
      "  rate_component + ip_component + referer_component + user_agent_component AS score,\n"
      "  rate_component, ip_component, referer_component, user_agent_component,\n"
      "  requests, duration_s, rate, (SELECT ", median, " FROM rated) AS median_rate,\n"
      "  ips, referers, user_agents, ", sub(d.unix_seconds, "last_seen"), " AS last_seen\n"
      "FROM scored\n"
      "WHERE rate_component IS NOT NULL",
      o.all_sessions ? ""
                     : absl::StrCat("\n  AND rate_component + ip_component + referer_component + user_agent_component > ",
                                    Number(s.threshold)),
      "\nORDER BY score DESC, session_id\n");
  return q;
}

}  // namespace edgepass::analyze
