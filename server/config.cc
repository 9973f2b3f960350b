#include "server/config.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "aws/http_client.h"
#include "core/ip_address.h"
#include "core/status_macros.h"
#include "core/validator.h"
#include "files/atomic_file.h"
#include "obs/metrics_endpoint.h"
#include "server/app/rotation_schedule.h"
#include "server/config_table.h"
#include "text/flags.h"
#include "text/host_port.h"
#include "text/json_doc.h"

namespace edgepass::server {
namespace {

using config_internal::ConfigOption;
using nlohmann::json;

absl::Status ApplyConfigFile(const std::string& path, ServerOptions* o) {
  EDGEPASS_ASSIGN_OR_RETURN(std::string text, files::ReadFileToString(path));
  EDGEPASS_ASSIGN_OR_RETURN(json doc, text::ParseJson(text, path, {.object = true, .detail = true}));
  for (const auto& [key, value] : doc.items()) {
    const ConfigOption* option = config_internal::FindByKey(key);
    if (option == nullptr) return core::FieldError(path, absl::StrCat("unknown option \"", key, "\""));
    std::string where = absl::StrCat(path, ": ", key);
    std::string text_value;
    if (value.is_string()) {
      text_value = value.get_ref<const std::string&>();
    } else if (option->IsSwitch() && value.is_boolean()) {
      text_value = value.get<bool>() ? "true" : "false";
    } else {
      return core::FieldError(where, option->IsSwitch() ? "must be a boolean" : "must be a string");
    }
    EDGEPASS_RETURN_IF_ERROR(option->Apply(text_value, where, o));
  }
  return absl::OkStatus();
}

}  // namespace

int RestThreads(const ServerOptions& options, unsigned cores) {
  constexpr int kMinDefaultThreads = 8;
  constexpr unsigned kMaxThreads = 256;  // as --rest-threads
  if (options.rest_threads > 0) return options.rest_threads;
  return std::max(kMinDefaultThreads, static_cast<int>(std::min(cores, kMaxThreads)));
}

namespace {

// --secrets-store and the AWS options that go with it.
absl::Status ValidateSecretsStoreOptions(const ServerOptions& o) {
  if (o.secrets_store != "aws") {
    for (const auto& [name, value] : {std::pair<const char*, const std::string*>{"aws_region", &o.aws_region},
                                      {"aws_endpoint", &o.aws_endpoint},
                                      {"smd_stack_name", &o.smd_stack_name}}) {
      if (!value->empty()) return core::FieldError(name, "needs secrets_store aws");
    }
    return absl::OkStatus();
  }
  if (!o.aws_endpoint.empty()) {
    absl::Status endpoint = aws::ParseEndpoint(o.aws_endpoint, "aws_endpoint").status();
    if (!endpoint.ok()) return endpoint;
  }
  if (o.aws_secret_id.empty() || o.aws_secret_id.size() > 512) {
    return core::FieldError("aws_secret_id", "must be 1 to 512 characters");
  }
  if (!o.smd_stack_name.empty() &&
      (o.smd_stack_name.size() > 128 || !absl::ascii_isalpha(o.smd_stack_name[0]) ||
       o.smd_stack_name.find_first_not_of(
           "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-") != std::string::npos)) {
    return core::FieldError("smd_stack_name",
                            "a CloudFormation stack name: a letter, then letters, digits and '-'");
  }
  return absl::OkStatus();
}

}  // namespace

namespace {

// --redis-sentinels, --redis-sentinel-master, --redis-wait-*.
absl::Status ValidateRedisSentinelOptions(const ServerOptions& o) {
  if (!o.redis_sentinels.empty()) {
    if (!o.redis_addr.empty()) {
      return core::FieldError("redis_sentinels",
                              "goes instead of redis_addr (the sentinels name the primary), not with it");
    }
    if (o.redis_sentinels.size() > 16) return core::FieldError("redis_sentinels", "at most 16 sentinels");
    for (const std::string& sentinel : o.redis_sentinels) {
      if (!text::ParseHostPort(sentinel, {.min_port = 1}).ok()) {
        return core::FieldError("redis_sentinels",
                                absl::StrCat("\"", sentinel.substr(0, 300),
                                             "\" is not HOST:PORT with a port 1-65535 (expected a comma "
                                             "list like s1:26379,s2:26379,s3:26379)"));
      }
    }
  }
  const std::string& name = o.redis_sentinel_master;
  if (name.empty() || name.size() > 128 ||
      std::any_of(name.begin(), name.end(), [](char c) { return static_cast<unsigned char>(c) <= ' ' || c == 0x7f; })) {
    return core::FieldError("redis_sentinel_master",
                            "must be 1 to 128 characters without spaces or control characters");
  }
  if (o.redis_wait_replicas > 0 && o.redis_addr.empty() && o.redis_sentinels.empty()) {
    return core::FieldError("redis_wait_replicas",
                            "needs redis_addr or redis_sentinels (there is no Redis to wait on)");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateServerOptions(const ServerOptions& o) {
  for (const ConfigOption& option : config_internal::ConfigTable()) {
    EDGEPASS_RETURN_IF_ERROR(option.CheckRange(o));  // each duration's range, from the table
  }
  absl::StatusOr<text::HostPort> grpc = text::ParseHostPort(o.grpc_addr);
  if (!grpc.ok()) return core::FieldError("grpc_addr", grpc.status().message());
  // EdgeSync (always served) streams HMAC key values and callers send API
  // keys; REST callers send API keys, ID tokens and CloudFront private keys:
  // off loopback that needs TLS or an explicit opt-out. A host name other
  // than "localhost" counts as non-loopback (it is not resolved).
  auto require_tls_off_loopback = [&](const char* flag, const std::string& addr,
                                      const std::string& h, const char* what) {
    if (core::IsLoopbackHost(h) || !o.tls_cert.empty() || o.insecure_plaintext) {
      return absl::OkStatus();
    }
    return core::FieldError(flag, absl::StrCat(addr, " is not a loopback address and TLS is off: ", what,
                                               " in cleartext; give --tls-cert and --tls-key, or "
                                               "--insecure-plaintext to allow it"));
  };
  EDGEPASS_RETURN_IF_ERROR(require_tls_off_loopback(
      "--grpc-addr", o.grpc_addr, grpc->host, "EdgeSync would send HMAC keys (and callers API keys)"));
  auto require_auth_off_loopback = [&](const char* field, const std::string& h) {
    if (core::IsLoopbackHost(h) || !o.access_file.empty() || o.insecure_allow_remote) return absl::OkStatus();
    return core::FieldError(field, absl::StrCat("\"", h,
                                                "\" is not loopback and there is no --access-file; "
                                                "pass --insecure-allow-remote to allow it"));
  };
  EDGEPASS_RETURN_IF_ERROR(require_auth_off_loopback("grpc_addr", grpc->host));
  if (!o.rest_addr.empty()) {
    absl::StatusOr<text::HostPort> rest = text::ParseHostPort(o.rest_addr);
    if (!rest.ok()) return core::FieldError("rest_addr", rest.status().message());
    EDGEPASS_RETURN_IF_ERROR(require_tls_off_loopback(
        "--rest-addr", o.rest_addr, rest->host,
        "callers would send API keys, ID tokens and CloudFront private keys"));
    EDGEPASS_RETURN_IF_ERROR(require_auth_off_loopback("rest_addr", rest->host));
  }
  if (!o.key_rotation_schedule.empty()) {
    if (o.key_rotation_interval != absl::ZeroDuration()) {
      return core::FieldError("key_rotation_schedule",
                              "give key_rotation_interval or key_rotation_schedule, not both");
    }
    absl::StatusOr<RotationSchedule> schedule = RotationSchedule::Parse(o.key_rotation_schedule);
    if (!schedule.ok()) return core::FieldError("key_rotation_schedule", schedule.status().message());
  }
  if (o.tls_cert.empty() != o.tls_key.empty()) {
    return core::FieldError(o.tls_cert.empty() ? "tls_cert" : "tls_key", "tls_cert and tls_key go together");
  }
  if (!o.tls_client_ca.empty() && o.tls_cert.empty()) {
    return core::FieldError("tls_client_ca", "needs tls_cert and tls_key (mTLS is TLS first)");
  }
  if (!o.oidc_issuer.empty() && (o.oidc_audiences.empty() || o.oidc_jwks.empty())) {
    return core::FieldError(o.oidc_audiences.empty() ? "oidc_audience" : "oidc_jwks",
                            "required with oidc_issuer");
  }
  if (o.oidc_issuer.empty() && (!o.oidc_audiences.empty() || !o.oidc_jwks.empty())) {
    return core::FieldError("oidc_issuer", "required with oidc_audience and oidc_jwks");
  }
  if (!o.metrics_addr.empty()) {
    absl::Status metrics = obs::ValidateMetricsAddress(o.metrics_addr);
    if (!metrics.ok()) return core::FieldError("metrics_addr", metrics.message());
  }
  if (o.data_dir.empty()) return core::FieldError("data_dir", "must not be empty");
  if (o.default_token_ttl > o.max_token_ttl) {
    return core::FieldError("default_token_ttl", absl::StrCat(absl::FormatDuration(o.default_token_ttl),
                                                              " is longer than max_token_ttl (",
                                                              absl::FormatDuration(o.max_token_ttl), ")"));
  }
  if (!o.redis_addr.empty()) {
    absl::StatusOr<text::HostPort> redis = text::ParseHostPort(o.redis_addr, {.min_port = 1});
    if (!redis.ok()) return core::FieldError("redis_addr", redis.status().message());
  }
  EDGEPASS_RETURN_IF_ERROR(ValidateRedisSentinelOptions(o));
  EDGEPASS_RETURN_IF_ERROR(ValidateSecretsStoreOptions(o));
  return absl::OkStatus();
}

namespace {

// The table's options as flags. Every option that takes a value may be given
// again; the last one counts.
absl::Span<const text::FlagSpec> ServerFlagSpecs() {
  struct Specs {
    std::vector<std::string> names;  // reserved: the specs' views stay valid
    std::vector<text::FlagSpec> specs;
  };
  static const Specs* const kSpecs = [] {
    const std::vector<ConfigOption>& table = config_internal::ConfigTable();
    auto* s = new Specs();
    s->names.reserve(table.size());
    for (const ConfigOption& option : table) {
      s->names.push_back(option.Flag().substr(2));
      s->specs.push_back(
          {s->names.back(), option.IsSwitch() ? text::FlagKind::kSwitch : text::FlagKind::kRepeated});
    }
    return s;
  }();
  return kSpecs->specs;
}

}  // namespace

absl::StatusOr<ServerOptions> ParseServerOptions(
    const std::vector<std::string>& args,
    const std::function<const char*(const char*)>& getenv) {
  ServerOptions o;
  text::FlagParse parse = text::TokenizeFlags(
      args, ServerFlagSpecs(), {.positional = false, .switch_value = true, .help_stops = true});
  if (parse.error.has_value()) {
    return core::FieldError(parse.error->arg, parse.error->kind == text::FlagError::Kind::kMissingValue
                                                  ? "missing value"
                                                  : "unknown flag (see --help)");
  }
  if (parse.flags.help()) {
    o.help = true;
    return o;
  }

  // The config file, then the environment, then the flags.
  std::string config_file;
  if (const char* env = getenv("EDGEPASS_CONFIG"); env != nullptr && *env != '\0') config_file = env;
  if (const std::string* flag = parse.flags.Get("config")) config_file = *flag;
  if (!config_file.empty()) {
    absl::Status s = ApplyConfigFile(config_file, &o);
    if (!s.ok()) return s;
  }
  for (const ConfigOption& option : config_internal::ConfigTable()) {
    if (!option.in_config_file) continue;  // EDGEPASS_CONFIG, read above
    const std::string name = option.Env();
    const char* env = getenv(name.c_str());
    if (env == nullptr || *env == '\0') continue;
    EDGEPASS_RETURN_IF_ERROR(option.Apply(env, name, &o));
  }
  for (const text::ParsedFlags::Flag& flag : parse.flags.flags()) {
    const ConfigOption* option = config_internal::FindByFlag(absl::StrCat("--", flag.name));
    if (option->in_config_file) EDGEPASS_RETURN_IF_ERROR(option->Apply(flag.value, option->Flag(), &o));
  }
  EDGEPASS_RETURN_IF_ERROR(ValidateServerOptions(o));
  return o;
}

}  // namespace edgepass::server
