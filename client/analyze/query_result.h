// Reads the CSV an engine wrote for the query of sql.h (Athena's result
// file, `trino --output-format CSV_HEADER`, DuckDB's COPY ... (HEADER)), or
// for SMD's own query, back into sessions to report
// (`edgepass analyze --from-query-result FILE.csv --report ADDR`).
//
//   absl::StatusOr<std::vector<QueryResultRow>> rows = ParseQueryResultCsv(text);
#ifndef EDGEPASS_CLIENT_ANALYZE_QUERY_RESULT_H_
#define EDGEPASS_CLIENT_ANALYZE_QUERY_RESULT_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace edgepass::analyze {

struct QueryResultRow {
  std::string session_id;
  double score = 0;
  // By the names ScoreComponents uses ("rate", "multiple_ips", ...).
  std::map<std::string, double> components;
};

// RFC 4180 CSV with a header row. Needs columns session_id and score; takes
// the components from this project's names (rate_component, ip_component,
// referer_component, user_agent_component, requests, duration_s, rate,
// median_rate, ips, referers, user_agents) or SMD's (ip_rate, ip_penalty,
// referer_penalty, ua_penalty); other columns are ignored, empty cells
// skipped. INVALID_ARGUMENT naming the line and column otherwise.
absl::StatusOr<std::vector<QueryResultRow>> ParseQueryResultCsv(absl::string_view csv);

}  // namespace edgepass::analyze

#endif  // EDGEPASS_CLIENT_ANALYZE_QUERY_RESULT_H_
