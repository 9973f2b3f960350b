#include "client/analyze/query_result.h"

#include <cmath>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace edgepass::analyze {
namespace {

// Splits CSV into rows of fields. nullopt on an unterminated quote.
std::optional<std::vector<std::vector<std::string>>> SplitCsv(absl::string_view text) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false;
  bool any = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field.push_back('"');
          ++i;
        } else {
          quoted = false;
        }
      } else {
        field.push_back(c);
      }
      continue;
    }
    if (c == '"') {
      quoted = true;
      any = true;
    } else if (c == ',') {
      row.push_back(std::move(field));
      field.clear();
      any = true;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      if (any || !field.empty()) {
        row.push_back(std::move(field));
        rows.push_back(std::move(row));
      }
      row.clear();
      field.clear();
      any = false;
    } else {
      field.push_back(c);
      any = true;
    }
  }
  if (quoted) return std::nullopt;
  if (any || !field.empty()) {
    row.push_back(std::move(field));
    rows.push_back(std::move(row));
  }
  return rows;
}

// The component a result column holds, or "" for none.
absl::string_view ComponentOf(absl::string_view column) {
  struct Alias {
    absl::string_view column, component;
  };
  static constexpr Alias kAliases[] = {
      {"rate_component", "rate"},        {"ip_rate", "rate"},
      {"ip_component", "multiple_ips"},  {"ip_penalty", "multiple_ips"},
      {"referer_component", "multiple_referers"}, {"referer_penalty", "multiple_referers"},
      {"user_agent_component", "multiple_user_agents"}, {"ua_penalty", "multiple_user_agents"},
      {"requests", "requests"},          {"duration_s", "duration_s"},
      {"rate", "rate_per_s"},            {"median_rate", "median_rate_per_s"},
      {"ips", "ips"},                    {"referers", "referers"},
      {"user_agents", "user_agents"},
  };
  for (const Alias& a : kAliases) {
    if (a.column == column) return a.component;
  }
  return "";
}

}  // namespace

absl::StatusOr<std::vector<QueryResultRow>> ParseQueryResultCsv(absl::string_view csv) {
  std::optional<std::vector<std::vector<std::string>>> rows = SplitCsv(csv);
  if (!rows.has_value()) return absl::InvalidArgumentError("query result: unterminated quoted field");
  if (rows->empty()) return absl::InvalidArgumentError("query result: empty, expected a header row");
  std::vector<std::string> header = (*rows)[0];
  int id_col = -1, score_col = -1;
  for (size_t i = 0; i < header.size(); ++i) {
    header[i] = absl::AsciiStrToLower(absl::StripAsciiWhitespace(header[i]));
    if (header[i] == "session_id") id_col = static_cast<int>(i);
    if (header[i] == "score") score_col = static_cast<int>(i);
  }
  if (id_col < 0 || score_col < 0) {
    return absl::InvalidArgumentError("query result: the header needs columns session_id and score");
  }
  std::vector<QueryResultRow> out;
  for (size_t r = 1; r < rows->size(); ++r) {
    const std::vector<std::string>& row = (*rows)[r];
    if (row.size() != header.size()) {
      return absl::InvalidArgumentError(absl::StrCat("query result row ", r + 1, ": ", row.size(),
                                                     " columns, the header has ", header.size()));
    }
    QueryResultRow q;
    q.session_id = row[static_cast<size_t>(id_col)];
    for (size_t i = 0; i < row.size(); ++i) {
      const bool is_score = static_cast<int>(i) == score_col;
      const absl::string_view component = ComponentOf(header[i]);
      if (!is_score && component.empty()) continue;
      const absl::string_view cell = absl::StripAsciiWhitespace(row[i]);
      if (cell.empty() && !is_score) continue;
      double v;
      if (!absl::SimpleAtod(cell, &v) || !std::isfinite(v)) {
        return absl::InvalidArgumentError(
            absl::StrCat("query result row ", r + 1, ", column ", header[i], ": '", cell, "' is not a number"));
      }
      if (is_score) {
        q.score = v;
      } else {
        q.components[std::string(component)] = v;
      }
    }
    out.push_back(std::move(q));
  }
  return out;
}

}  // namespace edgepass::analyze
