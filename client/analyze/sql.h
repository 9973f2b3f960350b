// The analysis of scoring.h as one SQL query over a CloudFront log table, for
// log volumes beyond one machine (Athena, Trino) or for DuckDB over Parquet
// or CSV exports. Same filters, grouping and score as ScoreSessions, with the
// same definitions for zero-length sessions (no rate, out of the median) and
// a missing median (nothing reported). The look-back window is written as
// timestamp literals, so the query is regenerated for each run, as SMD's
// workflow does. What differs between engines is in one table in sql.cc
// (kDialects): list splitting and length, the median (Athena and Trino only
// have approx_percentile) and Unix seconds from a timestamp.
//
//   SqlOptions o{.dialect = SqlDialect::kTrino, .table = "logs.cloudfront", .window = w};
//   std::string query = EmitSql(o);
#ifndef EDGEPASS_CLIENT_ANALYZE_SQL_H_
#define EDGEPASS_CLIENT_ANALYZE_SQL_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "client/analyze/scoring.h"
#include "client/analyze/session_table.h"

namespace edgepass::analyze {

enum class SqlDialect { kAthena, kTrino, kDuckDb };

// "athena", "trino", "duckdb"; INVALID_ARGUMENT naming --emit-sql otherwise.
absl::StatusOr<SqlDialect> ParseSqlDialect(absl::string_view name);

// Column names of the log table; the defaults are those of the CloudFront
// table in the Athena documentation (and SMD's defaults).
struct SqlColumns {
  std::string date = "date";
  std::string time = "time";
  std::string ip = "request_ip";
  std::string uri = "uri";
  std::string status = "status";
  std::string bytes = "bytes";
  std::string referer = "referrer";
  std::string user_agent = "user_agent";
};

// Sets one column from "--column NAME=COLUMN" (NAME: date, time, ip, uri,
// status, bytes, referer, user_agent; COLUMN: letters, digits, '_').
// INVALID_ARGUMENT naming --column otherwise.
absl::Status SetSqlColumn(SqlColumns* columns, absl::string_view name, absl::string_view column);

struct SqlOptions {
  SqlDialect dialect = SqlDialect::kTrino;
  // [catalog.][schema.]table, each part letters, digits, '_'.
  std::string table = "cloudfront_logs";
  SqlColumns columns;
  // The table has Hive partitions year, month, day, hour (strings or
  // integers): the query reads only the hours the window touches.
  bool partitioned = false;
  Window window;  // finite ends required
  ScoringOptions scoring;
  // true: every scored session, not only those over the threshold.
  bool all_sessions = false;
};

// INVALID_ARGUMENT naming the option for a bad table name or window.
absl::StatusOr<std::string> EmitSql(const SqlOptions& options);

}  // namespace edgepass::analyze

#endif  // EDGEPASS_CLIENT_ANALYZE_SQL_H_
