// How `edgepass analyze` prints a run: the table of suspects, and the JSON
// document (window, sessions, median, suspects with components, input counts).
//
//   PrintTable(env.out, analysis, /*all=*/false);
//   nlohmann::ordered_json doc = AnalysisJson(analysis, window, false);
//   doc["input"] = StatsJson(read.stats);
#ifndef EDGEPASS_CLIENT_CLI_ANALYZE_OUTPUT_H_
#define EDGEPASS_CLIENT_CLI_ANALYZE_OUTPUT_H_

#include <ostream>

#include "client/analyze/log_record.h"
#include "client/analyze/scoring.h"
#include "client/analyze/session_table.h"
#include "nlohmann/json.hpp"

namespace edgepass::cli {

// The sessions over the threshold (`all`: every scored one), one per line.
void PrintTable(std::ostream& out, const analyze::Analysis& a, bool all);
// {"files","lines","records","kept","outside_filters","no_session_id",
//  "skipped":{reason:n},"unreadable_files","truncated_gzip","corrupt_gzip"}
nlohmann::ordered_json StatsJson(const analyze::ParseStats& st);
// {"window":{"start","end"},"sessions_in_window","median_rate_per_s",
//  "not_scored_reason","suspects":[{"session_id","score","reported","components","last_seen"}]}
nlohmann::ordered_json AnalysisJson(const analyze::Analysis& a, const analyze::Window& w, bool all);

}  // namespace edgepass::cli

#endif  // EDGEPASS_CLIENT_CLI_ANALYZE_OUTPUT_H_
