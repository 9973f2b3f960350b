// `edgepass policy put|get|list|delete`: the catalog's named token policies
// over CatalogService.
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/cli/catalog_file.h"
#include "client/cli/cli_util.h"
#include "client/cli/commands.h"
#include "client/cli/operator_command.h"
#include "client/cli/operator_output.h"
#include "client/lib/catalog_client.h"
#include "nlohmann/json.hpp"

namespace edgepass::cli {
namespace {

// What the policy binds the token to: "ip,co,ssn,header:User-Agent".
std::string Bindings(const v1::TokenPolicy& p) {
  std::vector<std::string> out;
  for (auto [name, on] : {std::pair<const char*, bool>{"ip", p.ip()},
                          {"co", p.co()},
                          {"co_fallback", p.co_fallback()},
                          {"reg", p.reg()},
                          {"reg_fallback", p.reg_fallback()},
                          {"cty", p.cty()},
                          {"ssn", p.ssn()}}) {
    if (on) out.push_back(name);
  }
  for (const std::string& h : p.headers()) out.push_back("header:" + h);
  for (const std::string& q : p.querystrings()) out.push_back("query:" + q);
  return out.empty() ? "-" : absl::StrJoin(out, ",");
}

constexpr const char* kBindable[] = {"ip", "co", "co_fallback", "reg", "reg_fallback", "cty", "ssn"};

absl::StatusOr<v1::NamedPolicy> PolicyFromArgs(const OperatorArgs& args) {
  const ParsedFlags& f = args.flags;
  const std::string name = args.positional().empty() ? "" : args.positional()[0];
  if (const std::string* file = f.Get("file")) {
    for (const char* flag : {"path", "exc", "exp", "nbf", "bind", "bind-header", "bind-query", "session-length"}) {
      if (f.Has(flag)) return absl::InvalidArgumentError(absl::StrCat("--", flag, ": not with --file"));
    }
    absl::StatusOr<std::string> text = ReadFlagFile("file", *file, 1 << 20);
    if (!text.ok()) return text.status();
    return ParsePolicyDocument(*text, absl::StrCat("--file '", *file, "'"), name);
  }
  if (name.empty()) return absl::InvalidArgumentError("missing NAME (or --file FILE)");
  if (f.All("path").empty()) return absl::InvalidArgumentError("missing required flag --path (or --file)");
  if (!f.Has("exp")) return absl::InvalidArgumentError("missing required flag --exp (or --file)");
  nlohmann::json smd = {{"paths", f.All("path")}, {"exp", *f.Get("exp")}};
  if (!f.All("exc").empty()) smd["exc"] = f.All("exc");
  if (const std::string* nbf = f.Get("nbf")) smd["nbf"] = *nbf;
  for (const std::string& b : f.All("bind")) {
    bool known = false;
    for (const char* k : kBindable) known |= b == k;
    if (!known) {
      return absl::InvalidArgumentError(
          absl::StrCat("--bind '", b, "': one of ip, co, co_fallback, reg, reg_fallback, cty, ssn"));
    }
    smd[b] = true;
  }
  if (!f.All("bind-header").empty()) smd["headers"] = f.All("bind-header");
  if (!f.All("bind-query").empty()) smd["querystrings"] = f.All("bind-query");
  if (const std::string* n = f.Get("session-length")) smd["session_auto_generate"] = *n;
  absl::StatusOr<v1::TokenPolicy> policy = ParseSmdPolicy(smd.dump(), "policy.");
  if (!policy.ok()) return policy.status();
  v1::NamedPolicy named;
  named.set_name(name);
  *named.mutable_policy() = *std::move(policy);
  return named;
}

int RunPut(const OperatorArgs& args, CliEnv& env) {
  absl::StatusOr<v1::NamedPolicy> policy = PolicyFromArgs(args);
  if (!policy.ok()) return ReportUsageError(args.command, env, policy.status().message());
  client::CatalogClient catalog(args.options);
  absl::StatusOr<v1::NamedPolicy> stored = catalog.PutPolicy(*policy);
  if (!stored.ok()) return ReportCallError(args, env, stored.status());
  if (args.json) return PrintJson(args, env, *stored);
  env.out << "stored policy " << stored->name() << "\n";
  return kExitOk;
}

int RunGet(const OperatorArgs& args, CliEnv& env) {
  client::CatalogClient catalog(args.options);
  absl::StatusOr<v1::NamedPolicy> named = catalog.GetPolicy(args.positional()[0]);
  if (!named.ok()) return ReportCallError(args, env, named.status());
  if (args.json) return PrintJson(args, env, *named);
  const v1::TokenPolicy& p = named->policy();
  std::vector<std::pair<std::string, std::string>> fields = {
      {"name", named->name()}, {"paths", absl::StrJoin(p.paths(), " ")}, {"exp", p.exp()}};
  if (!p.nbf().empty()) fields.push_back({"nbf", p.nbf()});
  if (!p.exc().empty()) fields.push_back({"exc", absl::StrJoin(p.exc(), " ")});
  fields.push_back({"binds", Bindings(p)});
  if (p.session_auto_generate() != 0) fields.push_back({"session_length", absl::StrCat(p.session_auto_generate())});
  PrintFields(env.out, fields);
  return kExitOk;
}

int RunList(const OperatorArgs& args, CliEnv& env) {
  client::CatalogClient catalog(args.options);
  absl::StatusOr<v1::ListPoliciesResponse> list = catalog.ListPolicies();
  if (!list.ok()) return ReportCallError(args, env, list.status());
  if (args.json) return PrintJson(args, env, *list);
  Table table({"NAME", "PATHS", "EXP", "BINDS"});
  for (const v1::NamedPolicy& n : list->policies()) {
    table.AddRow({n.name(), absl::StrJoin(n.policy().paths(), " "), n.policy().exp(), Bindings(n.policy())});
  }
  table.Print(env.out);
  return kExitOk;
}

int RunDelete(const OperatorArgs& args, CliEnv& env) {
  client::CatalogClient catalog(args.options);
  if (absl::Status s = catalog.DeletePolicy(args.positional()[0]); !s.ok()) return ReportCallError(args, env, s);
  if (args.json) {
    env.out << "{}\n";
  } else {
    env.out << "deleted policy " << args.positional()[0] << "\n";
  }
  return kExitOk;
}

constexpr FlagSpec kPutFlags[] = {
    {"file"},
    {"path", FlagKind::kRepeated},
    {"exc", FlagKind::kRepeated},
    {"exp"},
    {"nbf"},
    {"bind", FlagKind::kRepeated},
    {"bind-header", FlagKind::kRepeated},
    {"bind-query", FlagKind::kRepeated},
    {"session-length"},
    EDGEPASS_OPERATOR_FLAG_SPECS,
};
constexpr FlagSpec kFlags[] = {EDGEPASS_OPERATOR_FLAG_SPECS};

const OperatorSubcommand kSubcommands[] = {
    {"put",
     "NAME --file FILE | NAME --path P... --exp E [--nbf EPOCH] [--exc P]... [--bind B]...\n"
     "      [--bind-header NAME]... [--bind-query NAME]... [--session-length N]",
     R"(    Adds or replaces a named policy (FAILED_PRECONDITION when the change no
    longer suits an asset naming it). --file: JSON, or YAML when it ends in
    .yaml/.yml: an SMD policy object (as under a catalog file's "policies")
    or what 'policy get --json' prints ({"name","policy":{...}}; NAME may be
    left out then). --exp: "+30m", "+4h" or epoch seconds. --bind: ip, co,
    co_fallback, reg, reg_fallback, cty, ssn. Prints "stored policy NAME", or
    the stored policy with --json.
)",
     kPutFlags, 0, 1, RunPut},
    {"get", "NAME",
     "    Prints one policy; --json: {\"name\",\"policy\":{...}}, which 'policy put --file' takes back.\n", kFlags, 1,
     1, RunGet},
    {"list", "", "    Every named policy; --json: {\"policies\":[...]}.\n", kFlags, 0, 0, RunList},
    {"delete", "NAME", "    Removes a policy (FAILED_PRECONDITION while an asset names it).\n", kFlags, 1, 1,
     RunDelete},
};

}  // namespace

int RunPolicy(absl::Span<const std::string> args, CliEnv& env) {
  return RunOperatorGroup({"policy", "the catalog's named token policies (CatalogService)", kSubcommands}, args, env);
}

}  // namespace edgepass::cli
