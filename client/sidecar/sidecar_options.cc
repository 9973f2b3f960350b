#include "client/sidecar/sidecar_options.h"

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "client/channel/plaintext_guard.h"
#include "client/sidecar/sidecar_flags.h"
#include "text/flags.h"

namespace edgepass::sidecar {
namespace {

using flags_internal::FlagDef;
using flags_internal::SidecarFlags;

absl::Status Bad(absl::string_view flag, absl::string_view message) {
  return flags_internal::BadFlag(flag, message);
}

absl::Status ParseCloudFrontOptions(
    const std::map<std::string, std::vector<std::string>>& values,
    SidecarOptions* options) {
  auto get = [&](const char* name) -> std::vector<std::string> {
    auto it = values.find(name);
    return it == values.end() ? std::vector<std::string>{} : it->second;
  };
  const std::vector<std::string> keys = get("cloudfront-public-keys");
  const std::vector<std::string> base = get("cloudfront-url-base");
  options->cloudfront_routes = get("cloudfront-route");
  if (!keys.empty()) options->cloudfront_public_keys_file = keys.front();
  if (!base.empty()) options->cloudfront_url_base = base.front();
  const bool any =
      !keys.empty() || !base.empty() || !options->cloudfront_routes.empty();
  if (!any) return absl::OkStatus();
  if (keys.empty())
    return Bad("cloudfront-public-keys",
               "needed with --cloudfront-url-base and --cloudfront-route");
  if (base.empty())
    return Bad("cloudfront-url-base",
               "needed with --cloudfront-public-keys and --cloudfront-route "
               "(e.g. https://cdn.example.com)");
  if (options->cloudfront_routes.empty())
    return Bad(
        "cloudfront-route",
        "needed with --cloudfront-public-keys and --cloudfront-url-base");
  return absl::OkStatus();
}

// The table's flags for the tokenizer.
absl::Span<const text::FlagSpec> SidecarFlagSpecs() {
  static const std::vector<text::FlagSpec>* const kSpecs = [] {
    auto* specs = new std::vector<text::FlagSpec>();
    for (const FlagDef& f : SidecarFlags()) {
      using text::FlagKind;
      const bool is_switch = *f.value_name == '\0';
      const FlagKind kind = is_switch ? (f.repeated ? FlagKind::kSwitch : FlagKind::kSwitchOnce)
                                      : (f.repeated ? FlagKind::kRepeated : FlagKind::kSingle);
      specs->push_back({f.name, kind});
    }
    return specs;
  }();
  return *kSpecs;
}

}  // namespace

absl::StatusOr<SidecarOptions> ParseSidecarOptions(
    absl::Span<const std::string> args, const EnvLookup& env) {
  // name -> values; environment first, flags replace.
  std::map<std::string, std::vector<std::string>> values;
  for (const FlagDef& f : SidecarFlags()) {
    const char* v = env ? env(f.env) : nullptr;
    if (v == nullptr || *v == '\0') continue;
    if (f.repeated) {
      std::vector<std::string>& list = values[f.name];
      for (absl::string_view item :
           absl::StrSplit(v, ',', absl::SkipWhitespace()))
        list.emplace_back(absl::StripAsciiWhitespace(item));
    } else {
      values[f.name] = {v};
    }
  }
  SidecarOptions options;
  text::FlagParse parse = text::TokenizeFlags(
      args, SidecarFlagSpecs(), {.positional = false, .switch_value = true, .help_stops = true});
  if (parse.error.has_value()) {
    const text::FlagError& e = *parse.error;
    switch (e.kind) {
      case text::FlagError::Kind::kUnknownFlag:
        if (!absl::StartsWith(e.arg, "--")) {  // "-x"
          return absl::InvalidArgumentError(absl::StrCat("unexpected argument '", e.arg, "'"));
        }
        return absl::InvalidArgumentError(absl::StrCat("unknown flag ", e.arg));
      case text::FlagError::Kind::kMissingValue:
        return Bad(e.name, "needs a value");
      case text::FlagError::Kind::kGivenTwice:
        return Bad(e.name, "given more than once");
      case text::FlagError::Kind::kValueOnSwitch:  // not with switch_value
      case text::FlagError::Kind::kUnexpectedArgument:
        return absl::InvalidArgumentError(absl::StrCat("unexpected argument '", e.arg, "'"));
    }
  }
  if (parse.flags.help()) {
    options.help = true;
    return options;
  }
  for (const FlagDef& f : SidecarFlags()) {  // flags replace the environment
    if (parse.flags.Has(f.name)) values[f.name] = parse.flags.All(f.name);
  }
  for (const FlagDef& f : SidecarFlags()) {
    auto it = values.find(f.name);
    if (f.apply == nullptr || it == values.end() || it->second.empty()) {
      continue;
    }
    if (absl::Status s = f.apply(it->second, &options); !s.ok()) return s;
  }
  const std::pair<const char*, const std::string*> credentials[] = {
      {"api-key-file", &options.api_key_file},
      {"server-ca", &options.server_ca_file},
      {"client-cert", &options.client_cert_file},
      {"client-key", &options.client_key_file}};
  for (const auto& [flag, value] : credentials) {
    if (!value->empty() && options.servers.empty()) {
      return Bad(flag,
                 "needs --server (credentials for the edge-sync servers)");
    }
  }
  if (options.client_cert_file.empty() != options.client_key_file.empty()) {
    return Bad(options.client_cert_file.empty() ? "client-cert" : "client-key",
               "--client-cert and --client-key go together");
  }
  if (!options.client_cert_file.empty() && options.server_ca_file.empty()) {
    return Bad("client-cert", "needs --server-ca (mTLS is TLS first)");
  }
  // The stream carries HMAC key values (and the API key goes the other way):
  // off loopback it needs TLS, or the operator's explicit opt-out.
  if (options.server_ca_file.empty() && !options.insecure_plaintext) {
    for (const std::string& server : options.servers) {
      if (absl::Status s = client::CheckPlaintextServer(
              "--server", server,
              options.api_key_file.empty()
                  ? "the HMAC keys it streams"
                  : "the API key and the HMAC keys it streams");
          !s.ok()) {
        return s;
      }
    }
  }
  if (absl::Status s = ParseCloudFrontOptions(values, &options); !s.ok())
    return s;
  if (!options.revoked_file.empty() && options.keyring_file.empty()) {
    return Bad("revoked", "needs --keyring (static sources come together)");
  }
  if (options.keyring_file.empty() && options.snapshot_file.empty() &&
      options.servers.empty()) {
    return absl::InvalidArgumentError(
        "no keyring source: give --keyring, --snapshot or --server");
  }
  return options;
}

}  // namespace edgepass::sidecar
