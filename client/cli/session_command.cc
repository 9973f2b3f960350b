// `edgepass session revoke|report|list|restore`: the revocation list over
// SessionService.
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "client/cli/cli_util.h"
#include "client/cli/commands.h"
#include "client/cli/operator_command.h"
#include "client/cli/operator_output.h"
#include "client/lib/session_client.h"
#include "text/json_string.h"

namespace edgepass::cli {
namespace {

// --expires: Unix seconds, or "+DURATION" from now ("+2h").
absl::Status SetExpiry(const OperatorArgs& args, const CliEnv& env, google::protobuf::Timestamp* out) {
  const std::string* text = args.flags.Get("expires");
  if (text == nullptr) return absl::OkStatus();
  absl::Time at;
  if (!text->empty() && (*text)[0] == '+') {
    absl::Duration d;
    if (!absl::ParseDuration(text->substr(1), &d) || d <= absl::ZeroDuration()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--expires '", *text, "': expected +DURATION (+2h) or Unix seconds"));
    }
    at = env.now + d;
  } else {
    absl::StatusOr<absl::Time> epoch = ParseEpochFlag("expires", *text);
    if (!epoch.ok()) return epoch.status();
    at = *epoch;
  }
  out->set_seconds(absl::ToUnixSeconds(at));
  return absl::OkStatus();
}

const char* TypeName(v1::RevocationType type) {
  switch (type) {
    case v1::MANUAL:
      return "MANUAL";
    case v1::AUTO:
      return "AUTO";
    default:
      return "-";
  }
}

int PrintEntry(const OperatorArgs& args, CliEnv& env, const v1::RevokedSession& entry, absl::string_view verb) {
  if (args.json) return PrintJson(args, env, entry);
  env.out << verb << " session " << entry.session_id() << " (" << TypeName(entry.type());
  if (entry.type() == v1::AUTO) env.out << absl::StrFormat(", score %.3f", entry.score());
  env.out << ", until " << (entry.has_expires_at() ? FormatTimestamp(entry.expires_at()) : "restored") << ")\n";
  return kExitOk;
}

int RunRevoke(const OperatorArgs& args, CliEnv& env) {
  v1::RevokeSessionRequest request;
  request.set_session_id(args.positional()[0]);
  if (const std::string* reason = args.flags.Get("reason")) request.set_reason(*reason);
  if (absl::Status s = SetExpiry(args, env, request.mutable_expires_at()); !s.ok()) {
    return ReportUsageError(args.command, env, s.message());
  }
  if (request.expires_at().seconds() == 0) request.clear_expires_at();
  client::SessionClient sessions(args.options);
  absl::StatusOr<v1::RevokedSession> entry = sessions.RevokeSession(request);
  if (!entry.ok()) return ReportCallError(args, env, entry.status());
  return PrintEntry(args, env, *entry, "revoked");
}

int RunReport(const OperatorArgs& args, CliEnv& env) {
  v1::ReportSessionRequest request;
  request.set_session_id(args.positional()[0]);
  const std::string* score = args.flags.Get("score");
  double value = 0;
  if (score == nullptr) return ReportUsageError(args.command, env, "missing required flag --score");
  if (!absl::SimpleAtod(*score, &value)) {
    return ReportUsageError(args.command, env, absl::StrCat("--score '", *score, "': expected a number"));
  }
  request.set_score(value);
  for (const std::string& arg : args.flags.All("component")) {
    auto nv = SplitNameValue("component", arg);
    double v = 0;
    if (nv.ok() && !absl::SimpleAtod(nv->second, &v)) {
      nv = absl::InvalidArgumentError(absl::StrCat("--component '", arg, "': the value must be a number"));
    }
    if (!nv.ok()) return ReportUsageError(args.command, env, nv.status().message());
    (*request.mutable_score_components())[nv->first] = v;
  }
  if (const std::string* reason = args.flags.Get("reason")) request.set_reason(*reason);
  if (absl::Status s = SetExpiry(args, env, request.mutable_expires_at()); !s.ok()) {
    return ReportUsageError(args.command, env, s.message());
  }
  if (request.expires_at().seconds() == 0) request.clear_expires_at();
  client::SessionClient sessions(args.options);
  absl::StatusOr<v1::RevokedSession> entry = sessions.ReportSession(request);
  if (!entry.ok()) return ReportCallError(args, env, entry.status());
  return PrintEntry(args, env, *entry, "reported");
}

// A count flag's value (`name` absent: 0).
absl::StatusOr<int> CountFlag(const OperatorArgs& args, absl::string_view name) {
  const std::string* text = args.flags.Get(name);
  int n = 0;
  if (text != nullptr && (!absl::SimpleAtoi(*text, &n) || n < 0)) {
    return absl::InvalidArgumentError(absl::StrCat("--", name, " '", *text, "': expected a count"));
  }
  return n;
}

// Follows next_page_token from --page-token (default: the first page) to the
// last page, or until --limit entries; prints each page as it arrives, as one
// table or one JSON document. A call that fails part-way leaves what was
// printed; with --json the document is still closed, with the error and the
// next_page_token that resumes at the failed page.
int RunList(const OperatorArgs& args, CliEnv& env) {
  absl::StatusOr<int> limit = CountFlag(args, "limit");
  absl::StatusOr<int> page_size = limit.ok() ? CountFlag(args, "page-size") : limit;
  if (!page_size.ok()) return ReportUsageError(args.command, env, page_size.status().message());
  v1::ListRevokedSessionsRequest request;
  request.set_compiled(args.flags.Has("compiled"));
  if (const std::string* token = args.flags.Get("page-token")) request.set_page_token(*token);
  client::SessionClient sessions(args.options);
  Table table({"SESSION_ID", "TYPE", "SCORE", "ADDED", "EXPIRES", "REASON"});
  JsonListWriter json(env.out, "sessions");
  int listed = 0;
  bool fetched = false;  // a page came (perhaps empty, with a token)
  absl::StatusOr<v1::ListRevokedSessionsResponse> page;
  do {
    // The last page asks for just what --limit leaves, so its token resumes right after it.
    const int left = *limit - listed;
    request.set_page_size(*limit > 0 && (*page_size == 0 || left < *page_size) ? left : *page_size);
    page = sessions.ListRevokedSessions(request);
    if (!page.ok()) {
      if (args.json && fetched) {
        json.Finish({{"error", text::JsonString(FailedCallText(page.status()))},
                     {"next_page_token", text::JsonString(request.page_token())}});
      }
      return ReportCallError(args, env, page.status());
    }
    fetched = true;
    for (const v1::RevokedSession& s : page->sessions()) {
      if (args.json) {
        if (absl::Status added = json.Add(s); !added.ok()) return ReportJsonError(args, env, added);
        continue;
      }
      table.AddRow({s.session_id(), TypeName(s.type()), s.type() == v1::AUTO ? absl::StrFormat("%.3f", s.score()) : "-",
                    FormatTimestamp(s.added_at()), FormatTimestamp(s.expires_at()),
                    s.reason().empty() ? "-" : s.reason()});
    }
    if (!args.json) table.Flush(env.out);
    env.out.flush();  // a reader of a pipe gets each page as it arrives
    listed += page->sessions_size();
    request.set_page_token(page->next_page_token());
  } while (!page->next_page_token().empty() && (*limit == 0 || listed < *limit));
  // The version is the last page's.
  const uint64_t version = page->version();
  const std::string& next = page->next_page_token();
  if (args.json) {
    std::vector<std::pair<std::string, std::string>> fields;
    if (version != 0) fields.emplace_back("version", absl::StrCat("\"", version, "\""));
    if (!next.empty()) fields.emplace_back("next_page_token", text::JsonString(next));
    json.Finish(fields);
    return kExitOk;
  }
  table.Print(env.out);
  env.out << "list version " << version << "\n";
  if (!next.empty()) env.out << "more after --page-token " << next << "\n";
  return kExitOk;
}

int RunRestore(const OperatorArgs& args, CliEnv& env) {
  client::SessionClient sessions(args.options);
  if (absl::Status s = sessions.RestoreSession(args.positional()[0]); !s.ok()) return ReportCallError(args, env, s);
  if (args.json) {
    env.out << "{}\n";
  } else {
    env.out << "restored session " << args.positional()[0] << "\n";
  }
  return kExitOk;
}

constexpr FlagSpec kRevokeFlags[] = {{"reason"}, {"expires"}, EDGEPASS_OPERATOR_FLAG_SPECS};
constexpr FlagSpec kReportFlags[] = {
    {"score"}, {"component", FlagKind::kRepeated}, {"reason"}, {"expires"}, EDGEPASS_OPERATOR_FLAG_SPECS};
constexpr FlagSpec kListFlags[] = {
    {"compiled", FlagKind::kSwitch}, {"limit"}, {"page-size"}, {"page-token"}, EDGEPASS_OPERATOR_FLAG_SPECS};
constexpr FlagSpec kFlags[] = {EDGEPASS_OPERATOR_FLAG_SPECS};

const OperatorSubcommand kSubcommands[] = {
    {"revoke", "SESSION_ID [--reason TEXT] [--expires EPOCH|+DURATION]",
     R"(    Revokes a session (MANUAL); validators refuse its tokens within about a
    second. --expires: when its token expires (the entry is dropped then);
    default: until restored. Prints the entry (--json: edgepass.v1.RevokedSession).
)",
     kRevokeFlags, 1, 1, RunRevoke},
    {"report", "SESSION_ID --score X [--component NAME=VALUE]...\n      [--reason TEXT] [--expires EPOCH|+DURATION]",
     R"(    Reports a suspicious session (AUTO) with its score and what it is made
    of, as 'edgepass analyze --report' does.
)",
     kReportFlags, 1, 1, RunReport},
    {"list", "[--compiled] [--limit N] [--page-size N] [--page-token TOKEN]",
     R"(    The stored entries in session id order, or with --compiled the list as
    validators receive it. Fetches every page (--page-size entries a call,
    default the server's 500, at most 1000) and prints each as it arrives,
    or stops after --limit entries and prints the token to pass as
    --page-token to go on from there.
    --json: {"sessions":[...],"version":"N","next_page_token":"..."}; the
    version is the last page's. A call failing after the first page ends
    the document with "error" and the "next_page_token" to go on from.
)",
     kListFlags, 0, 0, RunList},
    {"restore", "SESSION_ID", "    Takes a session off the list (NOT_FOUND when it is not on it).\n", kFlags, 1, 1,
     RunRestore},
};

}  // namespace

int RunSession(absl::Span<const std::string> args, CliEnv& env) {
  return RunOperatorGroup({"session", "revoked playback sessions (SessionService)", kSubcommands}, args, env);
}

}  // namespace edgepass::cli
