#include "server/config.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <variant>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "server/config_table.h"

namespace edgepass::server {
namespace {

struct FakeEnv {
  std::map<std::string, std::string> vars;
  const char* operator()(const char* name) const {
    auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  }
};

TEST(ParseServerOptions, Defaults) {
  absl::StatusOr<ServerOptions> o = ParseServerOptions({}, FakeEnv{});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->grpc_addr, "127.0.0.1:50051");
  EXPECT_EQ(o->data_dir, "./.data");
  EXPECT_EQ(o->default_token_ttl, absl::Hours(1));
  EXPECT_EQ(o->metrics_addr, "127.0.0.1:9464");
}

TEST(ParseServerOptions, MetricsAddress) {
  FakeEnv env{{{"EDGEPASS_METRICS_ADDR", "0.0.0.0:9100"}}};
  absl::StatusOr<ServerOptions> o = ParseServerOptions({}, env);
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->metrics_addr, "0.0.0.0:9100");  // metrics carry no secrets: any interface
  o = ParseServerOptions({"--metrics-addr", "127.0.0.1:0"}, env);
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->metrics_addr, "127.0.0.1:0");
  o = ParseServerOptions({"--metrics-addr="}, env);  // empty disables
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->metrics_addr, "");
  EXPECT_EQ(std::string(ParseServerOptions({"--metrics-addr", "127.0.0.1"}, FakeEnv{}).status().message()),
            "metrics_addr: expected HOST:PORT");
  EXPECT_EQ(std::string(ParseServerOptions({"--metrics-addr", "[::1]:9464"}, FakeEnv{}).status().message()),
            "metrics_addr: IPv6 addresses are not supported for metrics; use an IPv4 address or a host "
            "name");
}

TEST(ParseServerOptions, RestThreads) {
  absl::StatusOr<ServerOptions> o = ParseServerOptions({}, FakeEnv{});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->rest_threads, 0);
  EXPECT_EQ(RestThreads(*o, 2), 8);  // at least 8: handlers may block
  EXPECT_EQ(RestThreads(*o, 0), 8);  // core count unknown
  EXPECT_EQ(RestThreads(*o, 32), 32);
  EXPECT_EQ(RestThreads(*o, 100000), 256);
  o = ParseServerOptions({"--rest-threads", "2"}, FakeEnv{{{"EDGEPASS_REST_THREADS", "4"}}});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(RestThreads(*o, 32), 2);
  EXPECT_EQ(std::string(ParseServerOptions({"--rest-threads", "257"}, FakeEnv{}).status().message()),
            "--rest-threads: \"257\" is not an integer from 0 to 256");
}

TEST(ParseServerOptions, CloudFrontHeadersAreTrustedOnlyWhenSaidSo) {
  EXPECT_FALSE(ParseServerOptions({}, FakeEnv{}).value().trust_cloudfront_headers);
  EXPECT_TRUE(ParseServerOptions({"--trust-cloudfront-headers"}, FakeEnv{})
                  .value()
                  .trust_cloudfront_headers);
  FakeEnv env{{{"EDGEPASS_TRUST_CLOUDFRONT_HEADERS", "true"}}};
  EXPECT_TRUE(ParseServerOptions({}, env).value().trust_cloudfront_headers);
}

TEST(ParseServerOptions, FlagsOverrideEnvironment) {
  FakeEnv env{{{"EDGEPASS_DATA_DIR", "/env"}, {"EDGEPASS_GRPC_ADDR", "127.0.0.1:1"}}};
  absl::StatusOr<ServerOptions> o =
      ParseServerOptions({"--data-dir", "/flag", "--default-token-ttl=30m"}, env);
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->data_dir, "/flag");
  EXPECT_EQ(o->grpc_addr, "127.0.0.1:1");
  EXPECT_EQ(o->default_token_ttl, absl::Minutes(30));
}

TEST(ParseServerOptions, RefusesBadValuesNamingTheOption) {
  EXPECT_EQ(std::string(ParseServerOptions({"--grpc-addr", "127.0.0.1:99999"}, FakeEnv{}).status().message()),
            "grpc_addr: port must be 0-65535");
  EXPECT_EQ(std::string(ParseServerOptions({"--bogus"}, FakeEnv{}).status().message()),
            "--bogus: unknown flag (see --help)");
  EXPECT_EQ(std::string(ParseServerOptions({"--data-dir"}, FakeEnv{}).status().message()), "--data-dir: missing value");
  EXPECT_FALSE(ParseServerOptions({}, FakeEnv{{{"EDGEPASS_DEFAULT_TOKEN_TTL", "soon"}}}).ok());
  EXPECT_FALSE(ParseServerOptions({"--config", "/nonexistent/edgepass.json"}, FakeEnv{}).ok());
}

TEST(ParseServerOptions, RefusesRemoteAddressWithoutOptIn) {
  EXPECT_FALSE(
      ParseServerOptions({"--grpc-addr", "0.0.0.0:50051", "--insecure-plaintext"}, FakeEnv{}).ok());
  EXPECT_TRUE(ParseServerOptions({"--grpc-addr", "0.0.0.0:50051", "--insecure-allow-remote",
                                  "--insecure-plaintext"},
                                 FakeEnv{})
                  .ok());
  EXPECT_TRUE(ParseServerOptions({"--grpc-addr", "[::1]:0"}, FakeEnv{}).ok());
}

TEST(ParseServerOptions, RefusesRemotePlaintextRestNamingTheOption) {
  for (const char* addr : {"0.0.0.0:8080", "[::]:8080", "192.0.2.1:8080", "edgepass.internal:1"}) {
    absl::Status s = ParseServerOptions({"--rest-addr", addr, "--insecure-allow-remote"}, FakeEnv{})
                         .status();
    EXPECT_EQ(std::string(s.message()),
              std::string("--rest-addr: ") + addr +
                  " is not a loopback address and TLS is off: callers would send API keys, ID "
                  "tokens and CloudFront private keys in cleartext; give --tls-cert and "
                  "--tls-key, or --insecure-plaintext to allow it")
        << addr;
  }
  EXPECT_TRUE(ParseServerOptions({"--rest-addr", "localhost:0"}, FakeEnv{}).ok());
  EXPECT_TRUE(ParseServerOptions({"--rest-addr", "0.0.0.0:0", "--insecure-allow-remote",
                                  "--tls-cert", "c.pem", "--tls-key", "k.pem"},
                                 FakeEnv{})
                  .ok());
  EXPECT_TRUE(ParseServerOptions(
                  {"--rest-addr", "0.0.0.0:0", "--insecure-allow-remote", "--insecure-plaintext"},
                  FakeEnv{})
                  .ok());
}

TEST(ParseServerOptions, RefusesRemotePlaintextGrpcNamingTheOption) {
  // Any non-loopback address (wildcards and host names included) without TLS.
  for (const char* addr : {"0.0.0.0:0", "[::]:50051", "192.0.2.1:50051", "edgepass.internal:50051",
                           "127.evil.example:1"}) {
    absl::Status s =
        ParseServerOptions({"--grpc-addr", addr, "--insecure-allow-remote"}, FakeEnv{}).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << addr;
    EXPECT_EQ(std::string(s.message()),
              std::string("--grpc-addr: ") + addr +
                  " is not a loopback address and TLS is off: EdgeSync would send HMAC keys (and "
                  "callers API keys) in cleartext; give --tls-cert and --tls-key, or "
                  "--insecure-plaintext to allow it");
  }
  // Loopback stays plaintext-friendly.
  for (const char* addr : {"127.0.0.1:0", "127.1.2.3:0", "[::1]:0", "localhost:0"}) {
    EXPECT_TRUE(ParseServerOptions({"--grpc-addr", addr}, FakeEnv{}).ok()) << addr;
  }
  // TLS, or the explicit opt-out from any source.
  EXPECT_TRUE(ParseServerOptions({"--grpc-addr", "0.0.0.0:0", "--insecure-allow-remote",
                                  "--tls-cert", "c.pem", "--tls-key", "k.pem"},
                                 FakeEnv{})
                  .ok());
  absl::StatusOr<ServerOptions> o = ParseServerOptions(
      {"--grpc-addr", "0.0.0.0:0", "--insecure-allow-remote"},
      FakeEnv{{{"EDGEPASS_INSECURE_PLAINTEXT", "true"}}});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_TRUE(o->insecure_plaintext);
  EXPECT_FALSE(ParseServerOptions({"--grpc-addr", "0.0.0.0:0", "--insecure-allow-remote"},
                                  FakeEnv{{{"EDGEPASS_INSECURE_PLAINTEXT", "false"}}})
                   .ok());
  // --insecure-allow-remote is about authentication, not transport: it does
  // not imply --insecure-plaintext, nor the reverse.
  EXPECT_FALSE(ParseServerOptions({}, FakeEnv{}).value().insecure_plaintext);
}

TEST(ParseServerOptions, TransportOptionsFromTheConfigFile) {
  std::string path = (std::filesystem::temp_directory_path() /
                      ("edgepass-transport-config-test-" + std::to_string(::getpid()) + ".json"))
                         .string();
  {
    std::ofstream out(path);
    out << R"({"grpc_addr":"0.0.0.0:0","insecure_allow_remote":true,"insecure_plaintext":true,
               "rest_idle_timeout":"90s"})";
  }
  absl::StatusOr<ServerOptions> o = ParseServerOptions({}, FakeEnv{{{"EDGEPASS_CONFIG", path}}});
  std::filesystem::remove(path);
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_TRUE(o->insecure_plaintext);
  EXPECT_EQ(o->rest_idle_timeout, absl::Seconds(90));
}

TEST(ParseServerOptions, RestIdleTimeout) {
  absl::StatusOr<ServerOptions> o = ParseServerOptions({}, FakeEnv{});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->rest_idle_timeout, absl::Seconds(60));
  o = ParseServerOptions({}, FakeEnv{{{"EDGEPASS_REST_IDLE_TIMEOUT", "5s"}}});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->rest_idle_timeout, absl::Seconds(5));
  o = ParseServerOptions({"--rest-idle-timeout", "250ms"}, FakeEnv{{{"EDGEPASS_REST_IDLE_TIMEOUT", "5s"}}});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->rest_idle_timeout, absl::Milliseconds(250));
  EXPECT_EQ(std::string(ParseServerOptions({"--rest-idle-timeout", "0s"}, FakeEnv{}).status().message()),
            "--rest-idle-timeout: \"0s\" is not a positive duration like 30s, 10m, 2h");
  EXPECT_EQ(std::string(ParseServerOptions({"--rest-idle-timeout", "2h"}, FakeEnv{}).status().message()),
            "rest_idle_timeout: must be at most 1h");
}

TEST(ParseServerOptions, OidcJwksRefresh) {
  absl::StatusOr<ServerOptions> o = ParseServerOptions({}, FakeEnv{});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->oidc_jwks_refresh, absl::Minutes(10));
  o = ParseServerOptions({"--oidc-jwks-refresh", "1s"}, FakeEnv{});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->oidc_jwks_refresh, absl::Seconds(1));
  EXPECT_EQ(std::string(ParseServerOptions({"--oidc-jwks-refresh", "500ms"}, FakeEnv{}).status().message()),
            "oidc_jwks_refresh: must be 1s to 24h");
  EXPECT_EQ(std::string(ParseServerOptions({"--oidc-jwks-refresh", "25h"}, FakeEnv{}).status().message()),
            "oidc_jwks_refresh: must be 1s to 24h");
}

TEST(ParseServerOptions, KeyRotationIntervalZeroIsOff) {
  absl::StatusOr<ServerOptions> o = ParseServerOptions({"--key-rotation-interval", "0"}, FakeEnv{});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->key_rotation_interval, absl::ZeroDuration());
  o = ParseServerOptions({"--key-rotation-interval", "720h"}, FakeEnv{});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->key_rotation_interval, absl::Hours(720));
}

TEST(ParseServerOptions, RevocationPrune) {
  absl::StatusOr<ServerOptions> o = ParseServerOptions({}, FakeEnv{});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->revocation_prune_interval, absl::Hours(1));
  EXPECT_EQ(o->revocation_prune_grace, absl::Hours(1));
  o = ParseServerOptions({"--revocation-prune-interval", "0", "--revocation-prune-grace", "5m"}, FakeEnv{});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->revocation_prune_interval, absl::ZeroDuration());  // off
  EXPECT_EQ(o->revocation_prune_grace, absl::Minutes(5));
  o = ParseServerOptions({}, FakeEnv{{{"EDGEPASS_REVOCATION_PRUNE_INTERVAL", "1s"}}});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->revocation_prune_interval, absl::Seconds(1));
  EXPECT_EQ(std::string(ParseServerOptions({"--revocation-prune-interval", "-1s"}, FakeEnv{}).status().message()),
            "--revocation-prune-interval: \"-1s\" is not 0 (off) or a duration like 30s, 10m, 2h");
  EXPECT_EQ(std::string(ParseServerOptions({"--revocation-prune-interval", "soon"}, FakeEnv{}).status().message()),
            "--revocation-prune-interval: \"soon\" is not 0 (off) or a duration like 30s, 10m, 2h");
  EXPECT_EQ(std::string(ParseServerOptions({"--revocation-prune-interval", "500ms"}, FakeEnv{}).status().message()),
            "revocation_prune_interval: must be 0 (off) or 1s to 24h");
  EXPECT_EQ(std::string(ParseServerOptions({"--revocation-prune-interval", "25h"}, FakeEnv{}).status().message()),
            "revocation_prune_interval: must be 0 (off) or 1s to 24h");
  EXPECT_EQ(std::string(ParseServerOptions({"--revocation-prune-grace", "0"}, FakeEnv{}).status().message()),
            "--revocation-prune-grace: \"0\" is not a positive duration like 30s, 10m, 2h");
  EXPECT_EQ(std::string(ParseServerOptions({"--revocation-prune-grace", "4m59s"}, FakeEnv{}).status().message()),
            "revocation_prune_grace: must be 5m to 720h");
  EXPECT_EQ(std::string(ParseServerOptions({"--revocation-prune-grace", "721h"}, FakeEnv{}).status().message()),
            "revocation_prune_grace: must be 5m to 720h");
}

TEST(ParseServerOptions, RedisSentinelAndWait) {
  absl::StatusOr<ServerOptions> o = ParseServerOptions({}, FakeEnv{});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_TRUE(o->redis_sentinels.empty());
  EXPECT_EQ(o->redis_sentinel_master, "mymaster");
  EXPECT_EQ(o->redis_wait_replicas, 0);
  o = ParseServerOptions({"--redis-sentinels", "s1:26379, s2:26379,[::1]:26380", "--redis-sentinel-master",
                          "edge", "--redis-wait-replicas", "1", "--redis-wait-timeout", "2s"},
                         FakeEnv{});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->redis_sentinels, (std::vector<std::string>{"s1:26379", "s2:26379", "[::1]:26380"}));
  EXPECT_EQ(o->redis_sentinel_master, "edge");
  EXPECT_EQ(o->redis_wait_replicas, 1);
  EXPECT_EQ(o->redis_wait_timeout, absl::Seconds(2));
  o = ParseServerOptions({}, FakeEnv{{{"EDGEPASS_REDIS_SENTINELS", "s1:26379"}}});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->redis_sentinels, std::vector<std::string>{"s1:26379"});
}

TEST(ParseServerOptions, RefusesBadRedisSentinelOptionsNamingTheOption) {
  auto error = [](std::vector<std::string> args) {
    return std::string(ParseServerOptions(args, FakeEnv{}).status().message());
  };
  EXPECT_EQ(error({"--redis-sentinels", "s1:26379;s2:26379"}),
            "redis_sentinels: \"s1:26379;s2:26379\" is not HOST:PORT with a port 1-65535 (expected a comma "
            "list like s1:26379,s2:26379,s3:26379)");
  EXPECT_EQ(error({"--redis-sentinels", "s1:26379,s2"}),
            "redis_sentinels: \"s2\" is not HOST:PORT with a port 1-65535 (expected a comma list like "
            "s1:26379,s2:26379,s3:26379)");
  EXPECT_TRUE(absl::StartsWith(error({"--redis-sentinels", "s1:0"}), "redis_sentinels: \"s1:0\" is not HOST:PORT"));
  EXPECT_EQ(error({"--redis-sentinels", "s1:26379", "--redis-addr", "r:6379"}),
            "redis_sentinels: goes instead of redis_addr (the sentinels name the primary), not with it");
  EXPECT_EQ(error({"--redis-sentinels", "s1:26379", "--redis-sentinel-master", "my master"}),
            "redis_sentinel_master: must be 1 to 128 characters without spaces or control characters");
  EXPECT_EQ(error({"--redis-wait-replicas", "1"}),
            "redis_wait_replicas: needs redis_addr or redis_sentinels (there is no Redis to wait on)");
  EXPECT_EQ(error({"--redis-wait-replicas", "-1"}),
            "--redis-wait-replicas: \"-1\" is not an integer from 0 to 16");
  EXPECT_EQ(error({"--redis-addr", "r:6379", "--redis-wait-timeout", "1m"}),
            "redis_wait_timeout: must be at most 10s");
}

TEST(ParseServerOptions, MaxTokenTtlCapsTheDefault) {
  absl::StatusOr<ServerOptions> o = ParseServerOptions({}, FakeEnv{});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->max_token_ttl, absl::Hours(24));
  o = ParseServerOptions({}, FakeEnv{{{"EDGEPASS_MAX_TOKEN_TTL", "90m"}}});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->max_token_ttl, absl::Minutes(90));
  o = ParseServerOptions({"--max-token-ttl", "2h", "--default-token-ttl", "2h"}, FakeEnv{});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->max_token_ttl, absl::Hours(2));
  EXPECT_EQ(std::string(ParseServerOptions({"--max-token-ttl", "2h", "--default-token-ttl", "3h"}, FakeEnv{})
                            .status()
                            .message()),
            "default_token_ttl: 3h is longer than max_token_ttl (2h)");
  // The default TTL (1h) against a smaller cap is a configuration error too.
  EXPECT_FALSE(ParseServerOptions({"--max-token-ttl", "30m"}, FakeEnv{}).ok());
  EXPECT_FALSE(ParseServerOptions({"--max-token-ttl", "0s"}, FakeEnv{}).ok());
  EXPECT_EQ(std::string(ParseServerOptions({"--max-token-ttl", "10000h"}, FakeEnv{}).status().message()),
            "max_token_ttl: must be at most 8784h");
}

TEST(ParseServerOptions, ConfigFileThenEnvironmentThenFlags) {
  std::string path = (std::filesystem::temp_directory_path() /
                      ("edgepass-config-test-" + std::to_string(::getpid()) + ".json"))
                         .string();
  {
    std::ofstream out(path);
    out << R"({"data_dir":"/file","grpc_addr":"127.0.0.1:7","default_token_ttl":"2h",
               "catalog_file":"/c.json","max_token_ttl":"12h"})";
  }
  FakeEnv env{{{"EDGEPASS_CONFIG", path}, {"EDGEPASS_GRPC_ADDR", "127.0.0.1:8"}}};
  absl::StatusOr<ServerOptions> o = ParseServerOptions({"--data-dir", "/flag"}, env);
  std::filesystem::remove(path);
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->data_dir, "/flag");
  EXPECT_EQ(o->grpc_addr, "127.0.0.1:8");
  EXPECT_EQ(o->default_token_ttl, absl::Hours(2));
  EXPECT_EQ(o->catalog_file, "/c.json");
  EXPECT_EQ(o->max_token_ttl, absl::Hours(12));
}

TEST(ParseServerOptions, ConfigFileErrorsNameFileAndKey) {
  std::string path = (std::filesystem::temp_directory_path() /
                      ("edgepass-config-bad-" + std::to_string(::getpid()) + ".json"))
                         .string();
  {
    std::ofstream out(path);
    out << R"({"data_dirr":"/x"})";
  }
  absl::StatusOr<ServerOptions> o = ParseServerOptions({"--config", path}, FakeEnv{});
  std::filesystem::remove(path);
  ASSERT_FALSE(o.ok());
  EXPECT_EQ(std::string(o.status().message()), path + ": unknown option \"data_dirr\"");
}

TEST(ParseServerOptions, Help) {
  absl::StatusOr<ServerOptions> o = ParseServerOptions({"--help"}, FakeEnv{});
  ASSERT_TRUE(o.ok());
  EXPECT_TRUE(o->help);
}

TEST(ParseServerOptions, HelpStopsReadingAndALaterFlagWins) {
  absl::StatusOr<ServerOptions> o = ParseServerOptions({"--help", "--bogus"}, FakeEnv{});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_TRUE(o->help);
  EXPECT_EQ(std::string(ParseServerOptions({"--bogus", "--help"}, FakeEnv{}).status().message()),
            "--bogus: unknown flag (see --help)");
  EXPECT_EQ(std::string(ParseServerOptions({"--data-dir", "/a", "extra"}, FakeEnv{}).status().message()),
            "extra: unknown flag (see --help)");
  EXPECT_EQ(std::string(ParseServerOptions({"--", "--data-dir", "/a"}, FakeEnv{}).status().message()),
            "--: unknown flag (see --help)");
  o = ParseServerOptions({"--data-dir", "/a", "--data-dir=/b"}, FakeEnv{});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->data_dir, "/b");
}

TEST(ParseServerOptions, ChoiceAndBooleanValues) {
  EXPECT_EQ(
      std::string(ParseServerOptions({"--tls-client-cert", "maybe"}, FakeEnv{})
                      .status()
                      .message()),
      "--tls-client-cert: \"maybe\" is not optional or require");
  EXPECT_EQ(
      std::string(ParseServerOptions({"--insecure-plaintext=yes"}, FakeEnv{})
                      .status()
                      .message()),
      "--insecure-plaintext: \"yes\" is not true/false");
  FakeEnv env{{{"EDGEPASS_INSECURE_ALLOW_REMOTE", "1"}}};
  absl::StatusOr<ServerOptions> o =
      ParseServerOptions({"--insecure-allow-remote=false"}, env);
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_FALSE(o->insecure_allow_remote);  // the flag wins over the environment
  o = ParseServerOptions(
      {"--entitlements", " gold , silver,,", "--oidc-audience=a,b",
       "--oidc-issuer", "https://id.example", "--oidc-jwks", "jwks.json"},
      FakeEnv{});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->entitlements, (std::vector<std::string>{"gold", "silver"}));
  EXPECT_EQ(o->oidc_audiences, (std::vector<std::string>{"a", "b"}));
  // --config names the file; it is not a key inside one.
  EXPECT_EQ(std::string(
                ParseServerOptions({"--config"}, FakeEnv{}).status().message()),
            "--config: missing value");
}

// Every option is declared once; its flag and environment variable follow
// from its config key, and --help and the docs table list them all.
TEST(ConfigTable, NamesFollowTheConfigKey) {
  const config_internal::ConfigOption* option =
      config_internal::FindByKey("rest_idle_timeout");
  ASSERT_NE(option, nullptr);
  EXPECT_EQ(option->Flag(), "--rest-idle-timeout");
  EXPECT_EQ(option->Env(), "EDGEPASS_REST_IDLE_TIMEOUT");
  EXPECT_EQ(option->DefaultShown(), "1m");
  EXPECT_EQ(config_internal::FindByKey("config"),
            nullptr);  // not a config-file key
  EXPECT_NE(config_internal::FindByFlag("--config"), nullptr);
}

TEST(ConfigTable, HelpListsEveryOptionWithinEightyColumns) {
  const std::string help = HelpText();
  for (const config_internal::ConfigOption& option :
       config_internal::ConfigTable()) {
    EXPECT_TRUE(absl::StrContains(help, "  " + option.Flag())) << option.key;
    EXPECT_TRUE(absl::StrContains(help, "[env " + option.Env() + "]"))
        << option.key;
  }
  EXPECT_TRUE(absl::StrContains(help, "--grpc-addr HOST:PORT"));
  EXPECT_TRUE(absl::StrContains(help, "(default 127.0.0.1:50051)"));
  EXPECT_TRUE(absl::StrContains(help, "--help"));
  EXPECT_TRUE(absl::StrContains(help, "Exit codes: 0 clean shutdown"));
  for (absl::string_view line : absl::StrSplit(help, '\n')) {
    EXPECT_LE(line.size(), 80u) << line;
  }
}

// A duration's range is declared once, in the table: --help and the docs show
// it, and the parser checks it.
TEST(ConfigTable, EachBoundedDurationShowsAndChecksItsOneRange) {
  for (const config_internal::ConfigOption& option : config_internal::ConfigTable()) {
    const auto* duration = std::get_if<config_internal::DurationField>(&option.field);
    if (duration == nullptr) continue;
    EXPECT_FALSE(absl::StrContains(option.HelpShown(), "{range}")) << option.key;
    if (duration->max == absl::InfiniteDuration()) continue;
    EXPECT_TRUE(absl::StrContains(option.help, "{range}")) << option.key << ": its range is not shown";
    // One past the top is refused by name, the top itself taken.
    ServerOptions options;
    options.*(duration->field) = duration->max + absl::Seconds(1);
    EXPECT_TRUE(absl::StartsWith(option.CheckRange(options).message(), option.key + ": must be "))
        << option.key;
    options.*(duration->field) = duration->max;
    EXPECT_TRUE(option.CheckRange(options).ok()) << option.key;
  }
  const config_internal::ConfigOption* grace = config_internal::FindByKey("shutdown_grace");
  ASSERT_NE(grace, nullptr);
  EXPECT_TRUE(absl::StrContains(grace->HelpShown(), "(up to 5m)")) << grace->HelpShown();
  const config_internal::ConfigOption* rotation = config_internal::FindByKey("key_rotation_interval");
  ASSERT_NE(rotation, nullptr);
  EXPECT_TRUE(absl::StrContains(rotation->HelpShown(), "(0: off; 1s to 8784h)")) << rotation->HelpShown();
  EXPECT_EQ(std::string(ParseServerOptions({"--key-rotation-interval=9000h"}, FakeEnv{}).status().message()),
            "key_rotation_interval: must be 0 (off) or 1s to 8784h");
  EXPECT_EQ(std::string(ParseServerOptions({"--revocation-prune-grace=1m"}, FakeEnv{}).status().message()),
            "revocation_prune_grace: must be 5m to 720h");
  EXPECT_TRUE(absl::StrContains(HelpText(), "(1s to 24h)"));
}

TEST(ConfigTable, MarkdownHasOneRowPerOption) {
  const std::string table = ConfigurationMarkdown();
  for (const config_internal::ConfigOption& option :
       config_internal::ConfigTable()) {
    EXPECT_TRUE(absl::StrContains(table, "| `" + option.Flag())) << option.key;
  }
  EXPECT_TRUE(
      absl::StrContains(table,
                        "| `--redis-timeout DUR` | `EDGEPASS_REDIS_TIMEOUT` | "
                        "`redis_timeout` | `500ms` |"));
  EXPECT_TRUE(
      absl::StrContains(table, "| `--oidc-jwks FILE\\|URL` |"));  // '|' escaped
  EXPECT_TRUE(
      absl::StrContains(table,
                        "| `--catalog-file FILE` | `EDGEPASS_CATALOG_FILE` | "
                        "`catalog_file` | — |"));
}

TEST(ParseServerOptions, SecretsStoreOptions) {
  absl::StatusOr<ServerOptions> o = ParseServerOptions({}, FakeEnv{});
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->secrets_store, "file");
  EXPECT_EQ(o->aws_secret_id, "edgepass/keyring");
  o = ParseServerOptions({"--secrets-store", "aws", "--aws-endpoint", "http://127.0.0.1:4566",
                          "--smd-stack-name", "smd-prod-1"},
                         FakeEnv{});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->smd_stack_name, "smd-prod-1");
  auto message = [](std::vector<std::string> args) {
    return std::string(ParseServerOptions(args, FakeEnv{}).status().message());
  };
  EXPECT_TRUE(absl::StartsWith(message({"--secrets-store", "vault"}), "--secrets-store"))
      << message({"--secrets-store", "vault"});
  EXPECT_TRUE(absl::StartsWith(message({"--aws-region", "eu-west-1"}), "aws_region: needs secrets_store aws"));
  EXPECT_TRUE(absl::StartsWith(
      message({"--secrets-store", "aws", "--aws-endpoint", "http://sm.example.com"}), "aws_endpoint:"));
  EXPECT_TRUE(absl::StartsWith(
      message({"--secrets-store", "aws", "--smd-stack-name", "9bad_name"}), "smd_stack_name:"));
}

}  // namespace
}  // namespace edgepass::server
