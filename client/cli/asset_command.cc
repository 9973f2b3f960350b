// `edgepass asset put|get|list|delete`: the catalog's assets over
// CatalogService.
#include <algorithm>
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

namespace edgepass::cli {
namespace {

std::string PolicyCell(const v1::Asset& a) {
  if (a.has_inline_policy()) return "(inline)";
  return a.policy_name().empty() ? "-" : a.policy_name();
}

std::string VariantsCell(const v1::Asset& a) {
  std::vector<std::string> names;
  for (const auto& [entitlement, unused] : a.variants()) names.push_back(entitlement);
  std::sort(names.begin(), names.end());
  return names.empty() ? "-" : absl::StrJoin(names, ",");
}

std::string Or(const std::string& value, absl::string_view fallback) {
  return value.empty() ? std::string(fallback) : value;
}

// The asset of --file, or of the flags.
absl::StatusOr<v1::Asset> AssetFromArgs(const OperatorArgs& args) {
  const ParsedFlags& f = args.flags;
  const std::string id = args.positional().empty() ? "" : args.positional()[0];
  if (const std::string* file = f.Get("file")) {
    for (const char* flag :
         {"hostname", "url-path", "policy", "policy-json", "scheme", "fallback-asset", "cloudfront-key-pair-id"}) {
      if (f.Has(flag)) return absl::InvalidArgumentError(absl::StrCat("--", flag, ": not with --file"));
    }
    absl::StatusOr<std::string> text = ReadFlagFile("file", *file, 1 << 20);
    if (!text.ok()) return text.status();
    absl::StatusOr<v1::Asset> asset = ParseAssetDocument(*text, absl::StrCat("--file '", *file, "'"));
    if (!asset.ok()) return asset.status();
    if (!id.empty() && asset->id() != id) {
      return absl::InvalidArgumentError(
          absl::StrCat("ID '", id, "' differs from the file's asset.id '", asset->id(), "'"));
    }
    return asset;
  }
  if (id.empty()) return absl::InvalidArgumentError("missing ID (or --file FILE)");
  v1::Asset asset;
  asset.set_id(id);
  for (const char* flag : {"hostname", "url-path"}) {
    if (!f.Has(flag)) return absl::InvalidArgumentError(absl::StrCat("missing required flag --", flag, " (or --file)"));
  }
  asset.set_hostname(*f.Get("hostname"));
  asset.set_url_path(*f.Get("url-path"));
  if (f.Has("policy") == f.Has("policy-json")) {
    return absl::InvalidArgumentError("give one of --policy NAME or --policy-json JSON");
  }
  if (const std::string* name = f.Get("policy")) asset.set_policy_name(*name);
  if (const std::string* text = f.Get("policy-json")) {
    absl::StatusOr<v1::TokenPolicy> policy = ParseSmdPolicy(*text, "--policy-json: ");
    if (!policy.ok()) return policy.status();
    *asset.mutable_inline_policy() = *std::move(policy);
  }
  if (const std::string* v = f.Get("scheme")) asset.set_scheme(*v);
  if (const std::string* v = f.Get("fallback-asset")) asset.set_fallback_asset_id(*v);
  if (const std::string* v = f.Get("cloudfront-key-pair-id")) asset.set_cloudfront_key_pair_id(*v);
  return asset;
}

void PrintAsset(std::ostream& out, const v1::Asset& a) {
  std::vector<std::pair<std::string, std::string>> fields = {
      {"id", a.id()},
      {"hostname", a.hostname()},
      {"url_path", a.url_path()},
      {"scheme", Or(a.scheme(), "smd-token")},
      {"policy", PolicyCell(a)},
  };
  for (const auto& [entitlement, v] : a.variants()) {
    fields.push_back({absl::StrCat("variant ", entitlement),
                      absl::StrCat(v.url_path(), " policy ", v.has_inline_policy() ? "(inline)" : v.policy_name())});
  }
  if (!a.fallback_asset_id().empty()) fields.push_back({"fallback_asset", a.fallback_asset_id()});
  if (!a.cloudfront_key_pair_id().empty()) fields.push_back({"cloudfront_key_pair_id", a.cloudfront_key_pair_id()});
  PrintFields(out, fields);
}

int RunPut(const OperatorArgs& args, CliEnv& env) {
  absl::StatusOr<v1::Asset> asset = AssetFromArgs(args);
  if (!asset.ok()) return ReportUsageError(args.command, env, asset.status().message());
  client::CatalogClient catalog(args.options);
  absl::StatusOr<v1::Asset> stored = catalog.PutAsset(*asset);
  if (!stored.ok()) return ReportCallError(args, env, stored.status());
  if (args.json) return PrintJson(args, env, *stored);
  env.out << "stored asset " << stored->id() << "\n";
  return kExitOk;
}

int RunGet(const OperatorArgs& args, CliEnv& env) {
  client::CatalogClient catalog(args.options);
  absl::StatusOr<v1::Asset> asset = catalog.GetAsset(args.positional()[0]);
  if (!asset.ok()) return ReportCallError(args, env, asset.status());
  if (args.json) return PrintJson(args, env, *asset);
  PrintAsset(env.out, *asset);
  return kExitOk;
}

int RunList(const OperatorArgs& args, CliEnv& env) {
  client::CatalogClient catalog(args.options);
  absl::StatusOr<v1::ListAssetsResponse> list = catalog.ListAllAssets();
  if (!list.ok()) return ReportCallError(args, env, list.status());
  if (args.json) return PrintJson(args, env, *list);
  Table table({"ID", "HOSTNAME", "URL_PATH", "SCHEME", "POLICY", "VARIANTS", "FALLBACK"});
  for (const v1::Asset& a : list->assets()) {
    table.AddRow({a.id(), a.hostname(), a.url_path(), Or(a.scheme(), "smd-token"), PolicyCell(a), VariantsCell(a),
                  Or(a.fallback_asset_id(), "-")});
  }
  table.Print(env.out);
  return kExitOk;
}

int RunDelete(const OperatorArgs& args, CliEnv& env) {
  client::CatalogClient catalog(args.options);
  if (absl::Status s = catalog.DeleteAsset(args.positional()[0]); !s.ok()) return ReportCallError(args, env, s);
  if (args.json) {
    env.out << "{}\n";
  } else {
    env.out << "deleted asset " << args.positional()[0] << "\n";
  }
  return kExitOk;
}

constexpr FlagSpec kPutFlags[] = {
    {"file"},
    {"hostname"},
    {"url-path"},
    {"policy"},
    {"policy-json"},
    {"scheme"},
    {"fallback-asset"},
    {"cloudfront-key-pair-id"},
    EDGEPASS_OPERATOR_FLAG_SPECS,
};
constexpr FlagSpec kFlags[] = {EDGEPASS_OPERATOR_FLAG_SPECS};

const OperatorSubcommand kSubcommands[] = {
    {"put",
     "[ID] --file FILE | ID --hostname H --url-path P (--policy NAME | --policy-json JSON)\n"
     "      [--scheme S] [--fallback-asset ID] [--cloudfront-key-pair-id K]",
     R"(    Adds or replaces an asset. --file: JSON, or YAML when it ends in .yaml/.yml;
    what 'asset get --json' prints (protobuf's JSON of edgepass.v1.Asset, also
    the REST body) or an asset object of a catalog file ("token_policy": a
    policy name or an SMD policy object; "fallback_asset"). Variants only
    through a file. --policy-json: an SMD policy object, inline. Prints
    "stored asset ID", or the stored asset with --json.
)",
     kPutFlags, 0, 1, RunPut},
    {"get", "ID", "    Prints one asset; --json: protobuf's JSON, which 'asset put --file' takes back.\n", kFlags, 1, 1,
     RunGet},
    {"list", "", "    Every asset in id order (all pages); --json: {\"assets\":[...]}.\n", kFlags, 0, 0, RunList},
    {"delete", "ID", "    Removes an asset (NOT_FOUND when there is none).\n", kFlags, 1, 1, RunDelete},
};

}  // namespace

int RunAsset(absl::Span<const std::string> args, CliEnv& env) {
  return RunOperatorGroup({"asset", "the catalog's assets (CatalogService)", kSubcommands}, args, env);
}

}  // namespace edgepass::cli
