// `edgepass token issue`, `token verify` and `token explain`: offline, core only.
#include <algorithm>
#include <initializer_list>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/cli/cli_util.h"
#include "client/cli/commands.h"
#include "client/cli/flags.h"
#include "client/explain/token_explain.h"
#include "client/explain/token_explain_text.h"
#include "core/keyring.h"
#include "core/revocation.h"
#include "core/token_issuer.h"
#include "core/token_policy.h"
#include "core/url_query.h"
#include "core/validator.h"
#include "core/viewer.h"
#include "nlohmann/json.hpp"

namespace edgepass::cli {
namespace {

int UsageError(CliEnv& env, absl::string_view command,
               absl::string_view message) {
  env.err << "edgepass " << command << ": " << message << "\n"
          << "Run 'edgepass token --help' for usage.\n";
  return kExitUsage;
}

int UsageError(CliEnv& env, absl::string_view command,
               const absl::Status& status) {
  return UsageError(env, command, status.message());
}

// Reads and parses the --keyring file.
absl::StatusOr<core::Keyring> LoadKeyring(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFlagFile("keyring", path);
  if (!text.ok()) return text.status();
  absl::StatusOr<core::Keyring> keys = core::ParseKeyringJson(*text);
  if (!keys.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--keyring file '", path, "': ", keys.status().message()));
  }
  return keys;
}

// The key `token issue` signs with: the primary unless --key-id names a key
// id; "primary" and "secondary" (SMD's aliases) select by state when no key
// has that id.
const core::SigningKey* SelectSigningKey(const core::Keyring& keys,
                                         const std::string* key_id) {
  if (key_id == nullptr) return keys.Primary();
  if (const core::SigningKey* key = keys.Find(*key_id)) return key;
  if (*key_id == "primary") return keys.Primary();
  if (*key_id == "secondary") {
    for (const core::SigningKey& key : keys.keys()) {
      if (key.state == core::KeyState::kSecondary) return &key;
    }
  }
  return nullptr;
}

std::string KeyIds(const core::Keyring& keys) {
  return absl::StrJoin(
      keys.keys(), ", ", [](std::string* out, const core::SigningKey& k) {
        absl::StrAppend(out, k.id, " (", core::KeyStateName(k.state), ")");
      });
}

constexpr FlagSpec kIssueFlags[] = {
    {"keyring"}, {"policy"}, {"viewer"}, {"url"}, {"now"}, {"key-id"},
};

constexpr FlagSpec kVerifyFlags[] = {
    {"keyring"},
    {"uri"},
    {"header", FlagKind::kRepeated},
    {"query", FlagKind::kRepeated},
    {"ip"},
    {"now"},
    {"revoked"},
};

constexpr FlagSpec kExplainFlags[] = {
    {"keyring"},
    {"uri"},
    {"path"},
    {"header", FlagKind::kRepeated},
    {"query", FlagKind::kRepeated},
    {"ip"},
    {"now"},
    {"revoked"},
    {"expected-ip"},
    {"expected-header", FlagKind::kRepeated},
    {"expected-query", FlagKind::kRepeated},
    {"json", FlagKind::kSwitch},
};

// Parses a token subcommand's flags into *flags. Returns the exit code when
// the command ends here (--help, a usage error, a missing required flag).
std::optional<int> ParseTokenFlags(absl::Span<const std::string> args,
                                   absl::Span<const FlagSpec> spec,
                                   std::initializer_list<absl::string_view> required,
                                   absl::string_view cmd, CliEnv& env,
                                   absl::StatusOr<ParsedFlags>* flags) {
  *flags = ParseFlags(args, spec);
  if (!flags->ok()) return UsageError(env, cmd, flags->status());
  if ((*flags)->help()) {
    env.out << TokenUsage();
    return kExitOk;
  }
  if (!(*flags)->positional().empty()) {
    return UsageError(env, cmd,
                      absl::StrCat("unexpected argument '", (*flags)->positional()[0], "'"));
  }
  for (absl::string_view name : required) {
    if (!(*flags)->Has(name)) {
      return UsageError(env, cmd, absl::StrCat("missing required flag --", name));
    }
  }
  return std::nullopt;
}

}  // namespace

int RunTokenIssue(absl::Span<const std::string> args, CliEnv& env) {
  constexpr absl::string_view kCmd = "token issue";
  absl::StatusOr<ParsedFlags> flags;
  if (std::optional<int> done = ParseTokenFlags(args, kIssueFlags, {"keyring", "policy", "viewer"},
                                                kCmd, env, &flags)) {
    return *done;
  }

  absl::StatusOr<core::Keyring> keys = LoadKeyring(*flags->Get("keyring"));
  if (!keys.ok()) return UsageError(env, kCmd, keys.status());

  const std::string& policy_path = *flags->Get("policy");
  absl::StatusOr<std::string> policy_text = ReadFlagFile("policy", policy_path);
  if (!policy_text.ok()) return UsageError(env, kCmd, policy_text.status());
  absl::StatusOr<core::TokenPolicy> policy =
      core::ParseTokenPolicyJson(*policy_text);
  if (!policy.ok()) {
    return UsageError(env, kCmd,
                      absl::StrCat("--policy file '", policy_path,
                                   "': ", policy.status().message()));
  }

  const std::string& viewer_path = *flags->Get("viewer");
  absl::StatusOr<std::string> viewer_text = ReadFlagFile("viewer", viewer_path);
  if (!viewer_text.ok()) return UsageError(env, kCmd, viewer_text.status());
  absl::StatusOr<core::ViewerAttributes> viewer =
      core::ParseViewerJson(*viewer_text);
  if (!viewer.ok()) {
    return UsageError(env, kCmd,
                      absl::StrCat("--viewer file '", viewer_path,
                                   "': ", viewer.status().message()));
  }

  absl::Time now = env.now;
  if (const std::string* text = flags->Get("now")) {
    absl::StatusOr<absl::Time> parsed = ParseEpochFlag("now", *text);
    if (!parsed.ok()) return UsageError(env, kCmd, parsed.status());
    now = *parsed;
  }

  const std::string* key_id = flags->Get("key-id");
  const core::SigningKey* key = SelectSigningKey(*keys, key_id);
  if (key == nullptr) {
    return UsageError(
        env, kCmd,
        absl::StrCat(key_id == nullptr ? std::string("no primary key")
                                       : absl::StrCat("no key '", *key_id, "'"),
                     " in --keyring; keys: ", KeyIds(*keys)));
  }

  const std::string* url = flags->Get("url");
  const absl::string_view url_query = url != nullptr ? core::UrlQuery(*url) : "";

  absl::StatusOr<core::IssuedToken> issued =
      core::IssueToken(*policy, *viewer, *key, now, env.random, url_query);
  if (!issued.ok()) {
    env.err << "edgepass " << kCmd
            << ": cannot issue: " << issued.status().message() << "\n";
    return kExitDenied;
  }
  if (url == nullptr) {
    env.out << issued->token << "\n";
    return kExitOk;
  }
  absl::StatusOr<std::string> with_token =
      core::InsertTokenIntoUrl(*url, issued->token);
  if (!with_token.ok()) {
    return UsageError(env, kCmd,
                      absl::StrCat("--url: ", with_token.status().message()));
  }
  env.out << *with_token << "\n";
  return kExitOk;
}

namespace {

// What `token verify` and `token explain` read besides the request: the
// keyring, the revoked sessions and the time. Returns the exit code when the
// command ends here.
struct CheckInputs {
  core::Keyring keys;
  core::RevocationSet revoked;
  absl::Time now;
};

std::optional<int> LoadCheckInputs(const ParsedFlags& flags, absl::string_view cmd, CliEnv& env,
                                   CheckInputs* in) {
  absl::StatusOr<core::Keyring> keys = LoadKeyring(*flags.Get("keyring"));
  if (!keys.ok()) return UsageError(env, cmd, keys.status());
  in->keys = *std::move(keys);
  if (const std::string* path = flags.Get("revoked")) {
    absl::StatusOr<std::string> text = ReadFlagFile("revoked", *path);
    if (!text.ok()) return UsageError(env, cmd, text.status());
    absl::StatusOr<core::RevocationSet> parsed = core::ParseRevocationJson(*text);
    if (!parsed.ok()) {
      return UsageError(env, cmd,
                        absl::StrCat("--revoked file '", *path, "': ", parsed.status().message()));
    }
    in->revoked = *std::move(parsed);
  }
  in->now = env.now;
  if (const std::string* text = flags.Get("now")) {
    absl::StatusOr<absl::Time> parsed = ParseEpochFlag("now", *text);
    if (!parsed.ok()) return UsageError(env, cmd, parsed.status());
    in->now = *parsed;
  }
  return std::nullopt;
}

// The NAME=VALUE pairs of a repeated flag (--header, --query, --expected-*).
absl::StatusOr<std::vector<std::pair<std::string, std::string>>> NameValues(
    const ParsedFlags& flags, absl::string_view flag) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const std::string& arg : flags.All(flag)) {
    auto nv = SplitNameValue(flag, arg);
    if (!nv.ok()) return nv.status();
    out.push_back(*std::move(nv));
  }
  return out;
}

}  // namespace

int RunTokenVerify(absl::Span<const std::string> args, CliEnv& env) {
  constexpr absl::string_view kCmd = "token verify";
  absl::StatusOr<ParsedFlags> flags;
  if (std::optional<int> done =
          ParseTokenFlags(args, kVerifyFlags, {"keyring", "uri"}, kCmd, env, &flags)) {
    return *done;
  }
  CheckInputs in;
  if (std::optional<int> done = LoadCheckInputs(*flags, kCmd, env, &in)) return *done;

  auto headers = NameValues(*flags, "header");
  if (!headers.ok()) return UsageError(env, kCmd, headers.status());
  // The URI's own query comes first, then --query values.
  const std::string& uri_arg = *flags->Get("uri");
  const size_t q = uri_arg.find('?');
  const std::string uri = uri_arg.substr(0, q);
  std::vector<std::pair<std::string, std::string>> query;
  if (q != std::string::npos)
    query = core::ParseQueryString(absl::string_view(uri_arg).substr(q + 1));
  auto more_query = NameValues(*flags, "query");
  if (!more_query.ok()) return UsageError(env, kCmd, more_query.status());
  query.insert(query.end(), more_query->begin(), more_query->end());

  std::vector<core::NameValue> header_views(headers->begin(), headers->end());
  std::vector<core::NameValue> query_views(query.begin(), query.end());
  const std::string* ip = flags->Get("ip");
  core::EdgeRequest request{
      .uri = uri,
      .client_ip = ip == nullptr ? absl::string_view() : absl::string_view(*ip),
      .headers = header_views,
      .query = query_views,
  };
  core::Decision decision = core::Validate(request, in.keys, in.revoked, in.now);

  nlohmann::ordered_json line;
  line["allow"] = decision.allow;
  line["path"] = decision.allow
                     ? nlohmann::ordered_json(std::string(decision.path))
                     : nlohmann::ordered_json(nullptr);
  line["session_id"] =
      decision.allow && !decision.session_id.empty()
          ? nlohmann::ordered_json(std::string(decision.session_id))
          : nlohmann::ordered_json(nullptr);
  line["reason"] = std::string(core::ReasonName(decision.reason));
  env.out << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
          << "\n";
  return decision.allow ? kExitOk : kExitDenied;
}

int RunTokenExplain(absl::Span<const std::string> args, CliEnv& env) {
  constexpr absl::string_view kCmd = "token explain";
  absl::StatusOr<ParsedFlags> flags = ParseFlags(args, kExplainFlags);
  if (!flags.ok()) return UsageError(env, kCmd, flags.status());
  if (flags->help()) {
    env.out << TokenUsage();
    return kExitOk;
  }
  if (!flags->Has("keyring")) return UsageError(env, kCmd, "missing required flag --keyring");
  // The token, path or URL: --uri (as `token verify`) or one argument.
  const std::string* uri = flags->Get("uri");
  if (flags->positional().size() > 1 ||
      (uri != nullptr && !flags->positional().empty())) {
    return UsageError(env, kCmd, "give one token, path or URL (an argument or --uri)");
  }
  if (uri == nullptr && flags->positional().empty()) {
    return UsageError(env, kCmd, "missing the token, path or URL to explain (an argument or --uri)");
  }
  const std::string& input = uri != nullptr ? *uri : flags->positional()[0];
  const std::string* path = flags->Get("path");
  absl::StatusOr<explain::ExplainTarget> target =
      explain::ParseExplainTarget(input, path == nullptr ? absl::string_view() : absl::string_view(*path));
  if (!target.ok()) return UsageError(env, kCmd, target.status());

  CheckInputs in;
  if (std::optional<int> done = LoadCheckInputs(*flags, kCmd, env, &in)) return *done;

  explain::ExplainRequest request{.target = *target};
  if (const std::string* ip = flags->Get("ip")) request.client_ip = *ip;
  auto headers = NameValues(*flags, "header");
  if (!headers.ok()) return UsageError(env, kCmd, headers.status());
  request.headers = *std::move(headers);
  auto query = NameValues(*flags, "query");
  if (!query.ok()) return UsageError(env, kCmd, query.status());
  request.query = *std::move(query);

  // --expected-*: the request with the values the viewer had at issue time.
  std::optional<explain::ExplainRequest> expected;
  if (flags->Has("expected-ip") || flags->Has("expected-header") || flags->Has("expected-query")) {
    expected = request;
    if (const std::string* ip = flags->Get("expected-ip")) expected->client_ip = *ip;
    for (absl::string_view flag : {"expected-header", "expected-query"}) {
      auto values = NameValues(*flags, flag);
      if (!values.ok()) return UsageError(env, kCmd, values.status());
      const bool is_header = flag == "expected-header";
      auto& list = is_header ? expected->headers : expected->query;
      for (const auto& [name, value] : *values) {
        // Replaces every value of that name (headers: any case); an empty
        // value removes it.
        const auto same = [&, n = name](const std::pair<std::string, std::string>& p) {
          return is_header ? absl::EqualsIgnoreCase(p.first, n) : p.first == n;
        };
        list.erase(std::remove_if(list.begin(), list.end(), same), list.end());
        if (!is_header) {
          auto& own = expected->target.query;
          own.erase(std::remove_if(own.begin(), own.end(), same), own.end());
        }
        if (!value.empty()) list.emplace_back(name, value);
      }
    }
  }

  const nlohmann::ordered_json report = explain::ExplainToken(
      request, expected.has_value() ? &*expected : nullptr, in.keys, in.revoked, in.now);
  if (flags->Has("json")) {
    env.out << report.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  } else {
    env.out << explain::RenderExplanation(report);
  }
  return report["decision"]["allow"].get<bool>() ? kExitOk : kExitDenied;
}

}  // namespace edgepass::cli
