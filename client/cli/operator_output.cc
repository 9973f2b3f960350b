#include "client/cli/operator_output.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"

namespace edgepass::cli {
namespace {

std::string Printable(std::string text) {
  for (char& c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  return text;
}

// What every JSON reply is printed with: proto field names.
google::protobuf::util::JsonPrintOptions PrintOptions() {
  google::protobuf::util::JsonPrintOptions print;
  print.preserve_proto_field_names = true;
  return print;
}

}  // namespace

Table::Table(std::vector<std::string> headers) : headers_(std::move(headers)) {}

void Table::AddRow(std::vector<std::string> cells) {
  cells.resize(headers_.size());
  for (std::string& c : cells) c = Printable(std::move(c));
  rows_.push_back(std::move(cells));
}

void Table::Flush(std::ostream& out) {
  auto print_row = [&](const std::vector<std::string>& row) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(std::max(width_[i], row[i].size()) - row[i].size() + 2, ' ');
    }
    out << line << "\n";
  };
  if (width_.empty()) {
    width_.resize(headers_.size());
    for (size_t i = 0; i < headers_.size(); ++i) width_[i] = headers_[i].size();
    for (const auto& row : rows_) {
      for (size_t i = 0; i < row.size(); ++i) width_[i] = std::max(width_[i], row[i].size());
    }
    print_row(headers_);
  }
  for (const auto& row : rows_) print_row(row);
  printed_rows_ |= !rows_.empty();
  rows_.clear();
}

void Table::Print(std::ostream& out) {
  Flush(out);
  if (!printed_rows_) out << "(none)\n";
}

JsonListWriter::JsonListWriter(std::ostream& out, std::string list_field)
    : out_(out), list_field_(std::move(list_field)) {}

absl::Status JsonListWriter::Add(const google::protobuf::Message& element) {
  std::string json;
  if (auto s = google::protobuf::util::MessageToJsonString(element, &json, PrintOptions()); !s.ok()) {
    return absl::InternalError(s.ToString());
  }
  out_ << (any_ ? "," : absl::StrCat("{\"", list_field_, "\":[")) << json;
  any_ = true;
  return absl::OkStatus();
}

void JsonListWriter::Finish(const std::vector<std::pair<std::string, std::string>>& fields) {
  out_ << (any_ ? "]" : "{");
  bool first = !any_;
  for (const auto& [name, value] : fields) {
    out_ << (first ? "" : ",") << "\"" << name << "\":" << value;
    first = false;
  }
  out_ << "}\n";
}

void PrintFields(std::ostream& out, const std::vector<std::pair<std::string, std::string>>& fields) {
  size_t width = 0;
  for (const auto& [name, value] : fields) width = std::max(width, name.size());
  for (const auto& [name, value] : fields) {
    out << name << ":" << std::string(width - name.size() + 1, ' ') << Printable(value) << "\n";
  }
}

int PrintJson(const OperatorArgs& args, CliEnv& env, const google::protobuf::Message& message) {
  std::string json;
  if (auto s = google::protobuf::util::MessageToJsonString(message, &json, PrintOptions()); !s.ok()) {
    return ReportJsonError(args, env, absl::InternalError(s.ToString()));
  }
  env.out << json << "\n";
  return kExitOk;
}

int ReportJsonError(const OperatorArgs& args, CliEnv& env, const absl::Status& error) {
  env.err << "edgepass " << args.command << ": cannot print the reply as JSON: " << error.message() << "\n";
  return kExitDenied;
}

std::string FormatTimestamp(const google::protobuf::Timestamp& ts) {
  if (ts.seconds() == 0 && ts.nanos() == 0) return "-";
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixSeconds(ts.seconds()), absl::UTCTimeZone());
}

}  // namespace edgepass::cli
