#include "client/analyze/scoring.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace edgepass::analyze {
namespace {

std::optional<double> Median(std::vector<double> values) {
  if (values.empty()) return std::nullopt;
  const size_t mid = values.size() / 2;
  std::nth_element(values.begin(), values.begin() + static_cast<ptrdiff_t>(mid), values.end());
  const double upper = values[mid];
  if (values.size() % 2 == 1) return upper;
  const double lower = *std::max_element(values.begin(), values.begin() + static_cast<ptrdiff_t>(mid));
  return (lower + upper) / 2;
}

}  // namespace

std::string ValidateScoringOptions(const ScoringOptions& o) {
  auto bad_weight = [](double w) { return !std::isfinite(w) || w < 0; };
  if (o.min_duration < absl::ZeroDuration()) return "--min-duration: must not be negative";
  if (!std::isfinite(o.threshold)) return "--threshold: must be a finite number";
  if (bad_weight(o.rate_weight)) return "--rate-weight: must be a finite number >= 0";
  if (bad_weight(o.ip_weight)) return "--ip-weight: must be a finite number >= 0";
  if (bad_weight(o.referer_weight)) return "--referer-weight: must be a finite number >= 0";
  if (bad_weight(o.user_agent_weight)) return "--user-agent-weight: must be a finite number >= 0";
  return "";
}

Analysis ScoreSessions(const SessionTable& table, const ScoringOptions& options) {
  Analysis out;
  out.sessions = table.sessions().size();
  out.results.reserve(table.sessions().size());
  std::vector<double> rates;
  rates.reserve(table.sessions().size());
  for (const SessionStats& s : table.sessions()) {
    SessionScore r;
    r.session_id = s.id;
    r.requests = s.requests;
    // Whole milliseconds apart; CloudFront's standard logs have whole seconds.
    r.duration_s = static_cast<double>(s.last_ms - s.first_ms) / 1000.0;
    if (r.duration_s > 0) {
      r.rate = static_cast<double>(r.requests) / r.duration_s;
      rates.push_back(*r.rate);
    }
    r.ips = s.ips.count();
    r.referers = s.referers.count();
    r.user_agents = s.user_agents.count();
    r.last_ms = s.last_ms;
    out.results.push_back(std::move(r));
  }
  out.median_rate = Median(std::move(rates));

  const bool rate_on = options.rate_weight != 0;
  if (out.sessions < options.min_sessions) {
    out.not_scored_reason = absl::StrCat(out.sessions, " sessions in the window, fewer than the minimum ",
                                         options.min_sessions);
  } else if (rate_on && !out.median_rate.has_value()) {
    out.not_scored_reason = "no session in the window lasts more than 0 s: no median rate";
  }
  const double min_duration_s = absl::ToDoubleSeconds(options.min_duration);
  for (SessionScore& r : out.results) {
    if (!out.not_scored_reason.empty() || !r.rate.has_value() || r.duration_s < min_duration_s) continue;
    r.rate_component = rate_on ? options.rate_weight * *r.rate / *out.median_rate : 0;
    r.ip_component = r.ips > 1 ? options.ip_weight : 0;
    r.referer_component = r.referers > 1 ? options.referer_weight : 0;
    r.user_agent_component = r.user_agents > 1 ? options.user_agent_weight : 0;
    r.score = r.rate_component + r.ip_component + r.referer_component + r.user_agent_component;
    r.scored = true;
    r.reported = r.score > options.threshold;
  }
  std::sort(out.results.begin(), out.results.end(), [](const SessionScore& a, const SessionScore& b) {
    if (a.scored != b.scored) return a.scored;
    if (a.score != b.score) return a.score > b.score;
    return a.session_id < b.session_id;
  });
  return out;
}

std::map<std::string, double> ScoreComponents(const SessionScore& s, std::optional<double> median) {
  std::map<std::string, double> c{
      {"rate", s.rate_component},
      {"multiple_ips", s.ip_component},
      {"multiple_referers", s.referer_component},
      {"multiple_user_agents", s.user_agent_component},
      {"requests", static_cast<double>(s.requests)},
      {"duration_s", s.duration_s},
      {"ips", s.ips},
      {"referers", s.referers},
      {"user_agents", s.user_agents},
  };
  if (s.rate.has_value()) c["rate_per_s"] = *s.rate;
  if (median.has_value()) c["median_rate_per_s"] = *median;
  return c;
}

}  // namespace edgepass::analyze
