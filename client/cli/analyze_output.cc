#include "client/cli/analyze_output.h"

#include <string>

#include "absl/strings/str_format.h"
#include "absl/time/time.h"

namespace edgepass::cli {

void PrintTable(std::ostream& out, const analyze::Analysis& a, bool all) {
  out << absl::StrFormat("%-24s %9s %9s %3s %3s %3s %8s %10s %8s\n", "SESSION", "SCORE", "RATE_TERM", "IP", "REF",
                         "UA", "REQUESTS", "DURATION_S", "RATE/S");
  for (const analyze::SessionScore& s : a.results) {
    if (!(s.reported || (all && s.scored))) continue;
    out << absl::StrFormat("%-24s %9.3f %9.3f %3.0f %3.0f %3.0f %8d %10.0f %8.3f\n", s.session_id, s.score,
                           s.rate_component, s.ip_component, s.referer_component, s.user_agent_component,
                           s.requests, s.duration_s, s.rate.value_or(0));
  }
}

nlohmann::ordered_json StatsJson(const analyze::ParseStats& st) {
  nlohmann::ordered_json skipped = nlohmann::ordered_json::object();
  for (size_t i = 0; i < st.errors.size(); ++i) {
    if (st.errors[i] != 0) skipped[std::string(analyze::LineErrorName(static_cast<analyze::LineError>(i)))] = st.errors[i];
  }
  return {{"files", st.files},           {"lines", st.lines},
          {"records", st.records},       {"kept", st.kept},
          {"outside_filters", st.filtered}, {"no_session_id", st.no_session},
          {"skipped", skipped},          {"unreadable_files", st.unreadable_files},
          {"truncated_gzip", st.truncated_gzip}, {"corrupt_gzip", st.corrupt_gzip}};
}

nlohmann::ordered_json AnalysisJson(const analyze::Analysis& a, const analyze::Window& w, bool all) {
  nlohmann::ordered_json sessions = nlohmann::ordered_json::array();
  for (const analyze::SessionScore& s : a.results) {
    if (!(s.reported || (all && s.scored))) continue;
    nlohmann::ordered_json components = nlohmann::ordered_json::object();
    for (const auto& [k, v] : analyze::ScoreComponents(s, a.median_rate)) components[k] = v;
    sessions.push_back({{"session_id", s.session_id},
                        {"score", s.score},
                        {"reported", s.reported},
                        {"components", std::move(components)},
                        {"last_seen", absl::FormatTime(absl::RFC3339_full, absl::FromUnixMillis(s.last_ms),
                                                       absl::UTCTimeZone())}});
  }
  return {{"window",
           {{"start", absl::FormatTime(absl::RFC3339_full, absl::FromUnixMillis(w.start_ms), absl::UTCTimeZone())},
            {"end", absl::FormatTime(absl::RFC3339_full, absl::FromUnixMillis(w.end_ms), absl::UTCTimeZone())}}},
          {"sessions_in_window", a.sessions},
          {"median_rate_per_s", a.median_rate.has_value() ? nlohmann::ordered_json(*a.median_rate) : nullptr},
          {"not_scored_reason", a.not_scored_reason},
          {"suspects", std::move(sessions)}};
}

}  // namespace edgepass::cli
