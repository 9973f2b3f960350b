#include "aws/credentials.h"

#include <cstdlib>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "aws/profile_file.h"
#include "aws/web_identity.h"

extern char** environ;

namespace edgepass::aws {
namespace {

std::string HomeFile(const Environment& env, absl::string_view rel) {
  return absl::StrCat(env.Get("HOME").value_or(""), "/", rel);
}

std::string CredentialsFilePath(const Environment& env) {
  return env.Get("AWS_SHARED_CREDENTIALS_FILE").value_or(HomeFile(env, ".aws/credentials"));
}

std::string ConfigFilePath(const Environment& env) {
  return env.Get("AWS_CONFIG_FILE").value_or(HomeFile(env, ".aws/config"));
}

// nullopt: the file is absent (not an error: the chain moves on).
absl::StatusOr<std::optional<ProfileFile>> ReadOptional(const std::string& path,
                                                        ProfileFileKind kind) {
  absl::StatusOr<ProfileFile> f = ReadProfileFile(path, kind);
  if (absl::IsNotFound(f.status())) return std::optional<ProfileFile>();
  if (!f.ok()) return f.status();
  return std::optional<ProfileFile>(std::move(*f));
}

// Credentials of `profile` in a file; nullopt when the profile has no key id.
absl::StatusOr<std::optional<Credentials>> ProfileCredentials(const Profile& profile,
                                                              const std::string& where) {
  std::string id = profile.Get("aws_access_key_id");
  std::string secret = profile.Get("aws_secret_access_key");
  if (id.empty() && secret.empty()) return std::optional<Credentials>();
  if (id.empty() || secret.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        where, ": has ", id.empty() ? "aws_secret_access_key but no aws_access_key_id"
                                    : "aws_access_key_id but no aws_secret_access_key"));
  }
  return std::optional<Credentials>(Credentials{.access_key_id = id,
                                                .secret_access_key = secret,
                                                .session_token = profile.Get("aws_session_token")});
}

}  // namespace

Environment Environment::FromProcess() {
  std::map<std::string, std::string> vars;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    absl::string_view entry(*e);
    size_t eq = entry.find('=');
    if (eq == absl::string_view::npos) continue;
    absl::string_view name = entry.substr(0, eq);
    if (absl::StartsWith(name, "AWS_") || name == "HOME") {
      vars.emplace(std::string(name), std::string(entry.substr(eq + 1)));
    }
  }
  return Environment(std::move(vars));
}

std::optional<std::string> Environment::Get(absl::string_view name) const {
  auto it = vars_.find(std::string(name));
  if (it == vars_.end() || it->second.empty()) return std::nullopt;
  return it->second;
}

std::string ProfileName(const Environment& env) {
  return env.Get("AWS_PROFILE").value_or(env.Get("AWS_DEFAULT_PROFILE").value_or("default"));
}

std::string DefaultRegion(const Environment& env) {
  if (auto r = env.Get("AWS_REGION")) return *r;
  if (auto r = env.Get("AWS_DEFAULT_REGION")) return *r;
  absl::StatusOr<ProfileFile> config = ReadProfileFile(ConfigFilePath(env), ProfileFileKind::kConfig);
  if (!config.ok()) return "";
  const Profile* p = config->Find(ProfileName(env));
  return p == nullptr ? "" : p->Get("region");
}

absl::StatusOr<std::shared_ptr<CredentialsProvider>> DefaultCredentialsChain(
    const Environment& env, const CredentialsChainOptions& options) {
  std::vector<std::string> tried;
  // 1. Environment.
  std::optional<std::string> id = env.Get("AWS_ACCESS_KEY_ID");
  std::optional<std::string> secret = env.Get("AWS_SECRET_ACCESS_KEY");
  if (id.has_value() != secret.has_value()) {
    return absl::InvalidArgumentError(absl::StrCat(
        id ? "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not"
           : "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not"));
  }
  if (id) {
    return std::shared_ptr<CredentialsProvider>(std::make_shared<StaticCredentialsProvider>(
        Credentials{.access_key_id = *id,
                    .secret_access_key = *secret,
                    .session_token = env.Get("AWS_SESSION_TOKEN").value_or("")},
        "environment"));
  }
  tried.push_back("AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY");

  const std::string profile_name = ProfileName(env);
  const std::string config_path = ConfigFilePath(env);
  absl::StatusOr<std::optional<ProfileFile>> config =
      ReadOptional(config_path, ProfileFileKind::kConfig);
  if (!config.ok()) return config.status();
  const Profile* config_profile = config->has_value() ? (*config)->Find(profile_name) : nullptr;

  // 2. Web identity: the environment, else the profile of the config file.
  WebIdentityConfig web;
  web.role_arn = env.Get("AWS_ROLE_ARN").value_or("");
  web.token_file = env.Get("AWS_WEB_IDENTITY_TOKEN_FILE").value_or("");
  web.session_name = env.Get("AWS_ROLE_SESSION_NAME").value_or("");
  if (web.role_arn.empty() && web.token_file.empty() && config_profile != nullptr) {
    web.role_arn = config_profile->Get("role_arn");
    web.token_file = config_profile->Get("web_identity_token_file");
    web.session_name = config_profile->Get("role_session_name");
    if (web.token_file.empty()) web.role_arn.clear();  // role_arn + source_profile: not supported
  }
  if (!web.role_arn.empty() || !web.token_file.empty()) {
    if (web.role_arn.empty() || web.token_file.empty()) {
      return absl::InvalidArgumentError(
          web.role_arn.empty() ? "AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not"
                               : "AWS_ROLE_ARN is set but AWS_WEB_IDENTITY_TOKEN_FILE is not");
    }
    if (options.http == nullptr) {
      return absl::InvalidArgumentError("web identity needs an HTTP client for STS");
    }
    Endpoint sts;
    if (options.sts_endpoint) {
      sts = *options.sts_endpoint;
    } else {
      std::string region = options.region.empty() ? DefaultRegion(env) : options.region;
      if (region.empty()) {
        return absl::InvalidArgumentError("web identity: no region for STS (set AWS_REGION)");
      }
      sts = Endpoint{.scheme = "https", .host = absl::StrCat("sts.", region, ".amazonaws.com")};
    }
    return std::shared_ptr<CredentialsProvider>(std::make_shared<WebIdentityCredentialsProvider>(
        web, options.http, sts, options.now));
  }
  tried.push_back("AWS_ROLE_ARN/AWS_WEB_IDENTITY_TOKEN_FILE");

  // 3. The shared credentials file.
  const std::string credentials_path = CredentialsFilePath(env);
  absl::StatusOr<std::optional<ProfileFile>> credentials_file =
      ReadOptional(credentials_path, ProfileFileKind::kCredentials);
  if (!credentials_file.ok()) return credentials_file.status();
  if (credentials_file->has_value()) {
    if (const Profile* p = (*credentials_file)->Find(profile_name)) {
      absl::StatusOr<std::optional<Credentials>> c =
          ProfileCredentials(*p, absl::StrCat(credentials_path, " [", profile_name, "]"));
      if (!c.ok()) return c.status();
      if (c->has_value()) {
        return std::shared_ptr<CredentialsProvider>(
            std::make_shared<StaticCredentialsProvider>(**c, "shared-credentials-file"));
      }
    }
  }
  tried.push_back(absl::StrCat(credentials_path, " [", profile_name, "]"));

  // 4. The config file.
  if (config_profile != nullptr) {
    absl::StatusOr<std::optional<Credentials>> c = ProfileCredentials(
        *config_profile, absl::StrCat(config_path, " [profile ", profile_name, "]"));
    if (!c.ok()) return c.status();
    if (c->has_value()) {
      return std::shared_ptr<CredentialsProvider>(
          std::make_shared<StaticCredentialsProvider>(**c, "config-file"));
    }
  }
  tried.push_back(absl::StrCat(config_path, " [profile ", profile_name, "]"));
  return absl::NotFoundError(
      absl::StrCat("no AWS credentials found; tried ", absl::StrJoin(tried, ", ")));
}

}  // namespace edgepass::aws
