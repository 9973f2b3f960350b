// libFuzzer target: the access-log line parsers of `edgepass analyze`
// (client/analyze: W3C CloudFront lines mapped by a #Fields line, JSON lines
// of CloudFront v2 and nginx), the session table they feed and the query
// result CSV reader. The input is split into lines; the first byte picks the
// W3C columns (the 33 current fields, or the input's own #Fields lines).
// Checks: no crash, leak or UB; every line gives a record or a counted
// reason; a record's views stay inside valid memory (ASan) and a kept record
// lands in exactly one session.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "absl/strings/string_view.h"
#include "client/analyze/json_log_parser.h"
#include "client/analyze/log_text.h"
#include "client/analyze/query_result.h"
#include "client/analyze/scoring.h"
#include "client/analyze/session_table.h"
#include "client/analyze/w3c_parser.h"

using namespace edgepass::analyze;  // NOLINT: a fuzz target's one function

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const bool preset_fields = data[0] & 1;
  absl::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  W3cParser w3c;
  if (preset_fields) w3c.SetFields(kCloudFrontFields);
  JsonLogParser json;
  SessionTable table;
  ParseStats stats;
  LogRecord r;
  while (!input.empty()) {
    const size_t nl = input.find('\n');
    const absl::string_view line = input.substr(0, nl);
    input.remove_prefix(nl == absl::string_view::npos ? input.size() : nl + 1);
    for (int which = 0; which < 2; ++which) {
      const LineError e = which == 0 ? w3c.Parse(line, &r) : json.Parse(line, &r);
      stats.Count(e);
      if (static_cast<size_t>(e) >= kLineErrorCount) std::abort();
      if (e != LineError::kNone) continue;
      // Touch every view: ASan catches one that points at freed memory.
      size_t sum = 0;
      for (absl::string_view v : {r.client_ip, r.uri, r.referer, r.user_agent, r.session_id}) {
        for (char c : v) sum += static_cast<unsigned char>(c);
      }
      if (sum == SIZE_MAX) std::abort();
      const size_t before = table.sessions().size();
      const AddResult added = table.Add(r);
      if (added != AddResult::kKept && table.sessions().size() != before) std::abort();
    }
  }
  if (stats.records + stats.skipped() > stats.lines) std::abort();
  const Analysis a = ScoreSessions(table, {});
  if (a.sessions != table.sessions().size() || a.results.size() != a.sessions) std::abort();
  (void)ParseQueryResultCsv(absl::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
