#include "tests/load/load_options.h"

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace edgepass::load {
namespace {

absl::StatusOr<LoadOptions> Parse(std::vector<std::string> args) {
  return ParseLoadOptions(args);
}

// Expects INVALID_ARGUMENT whose message contains `text`.
void ExpectInvalid(std::vector<std::string> args, const std::string& text) {
  absl::StatusOr<LoadOptions> options = Parse(args);
  ASSERT_FALSE(options.ok()) << text;
  EXPECT_EQ(options.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(options.status().message(), text))
      << options.status().message() << " lacks " << text;
}

TEST(LoadOptions, Defaults) {
  absl::StatusOr<LoadOptions> o = Parse({"--server", "127.0.0.1:5000"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->servers, std::vector<std::string>{"127.0.0.1:5000"});
  EXPECT_EQ(o->asset_id, "1");
  EXPECT_EQ(o->rate, 100);
  EXPECT_EQ(o->duration, absl::Seconds(10));
  EXPECT_EQ(o->concurrency, 256);
  EXPECT_EQ(o->connections, 1);
  EXPECT_EQ(o->viewer_ip, "");
  EXPECT_EQ(o->timeout, absl::Seconds(5));
  EXPECT_EQ(o->poll_threads, 1);
  EXPECT_FALSE(o->json);
  EXPECT_FALSE(o->help);
}

TEST(LoadOptions, ParsesEveryFlag) {
  absl::StatusOr<LoadOptions> o = Parse({"--server",
                                         "a:1",
                                         "--server=[::1]:2",
                                         "--asset",
                                         "2",
                                         "--rate",
                                         "0",
                                         "--duration",
                                         "1.5s",
                                         "--concurrency",
                                         "8",
                                         "--connections",
                                         "4",
                                         "--viewer-ip",
                                         "2001:db8::1",
                                         "--timeout",
                                         "250ms",
                                         "--poll-threads",
                                         "2",
                                         "--json"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->servers, (std::vector<std::string>{"a:1", "[::1]:2"}));
  EXPECT_EQ(o->asset_id, "2");
  EXPECT_EQ(o->rate, 0);
  EXPECT_EQ(o->duration, absl::Milliseconds(1500));
  EXPECT_EQ(o->concurrency, 8);
  EXPECT_EQ(o->connections, 4);
  EXPECT_EQ(o->viewer_ip, "2001:db8::1");
  EXPECT_EQ(o->timeout, absl::Milliseconds(250));
  EXPECT_EQ(o->poll_threads, 2);
  EXPECT_TRUE(o->json);
}

TEST(LoadOptions, CredentialsFromFlagsOrTheEnvironment) {
  absl::StatusOr<LoadOptions> o = Parse({"--server", "a:1"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->api_key_file, "");
  EXPECT_EQ(o->server_ca_file, "");

  auto env = [](const char* name) -> const char* {
    return std::string(name) == "EDGEPASS_API_KEY_FILE" ? "/env/key" : nullptr;
  };
  o = ParseLoadOptions({"--server", "a:1", "--server-ca", "ca.pem"}, env);
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->api_key_file, "/env/key");
  EXPECT_EQ(o->server_ca_file, "ca.pem");
  o = ParseLoadOptions(
      {"--server", "127.0.0.1:1", "--api-key-file", "/flag/key"}, env);
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->api_key_file, "/flag/key");
  ExpectInvalid({"--server", "a:1", "--server-ca", ""}, "--server-ca");
}

TEST(LoadOptions, AKeyGoesInCleartextOnlyToLoopback) {
  absl::StatusOr<LoadOptions> o =
      Parse({"--server", "127.0.0.1:1", "--server", "192.0.2.1:443",
             "--api-key-file", "/k"});
  ASSERT_FALSE(o.ok());
  EXPECT_EQ(o.status().message(),
            "--server: 192.0.2.1:443 is not a loopback address and there is "
            "no TLS: the API key would cross the network in cleartext; give "
            "--server-ca, or --insecure-plaintext to allow it");
  auto env = [](const char* name) -> const char* {
    return std::string(name) == "EDGEPASS_API_KEY_FILE" ? "/env/key" : nullptr;
  };
  EXPECT_FALSE(
      ParseLoadOptions({"--server", "edgepass.internal:50051"}, env).ok());
  // No key, TLS, loopback, or the explicit opt-out: allowed.
  EXPECT_TRUE(Parse({"--server", "192.0.2.1:443"}).ok());
  EXPECT_TRUE(Parse({"--server", "192.0.2.1:443", "--api-key-file", "/k",
                     "--server-ca", "ca.pem"})
                  .ok());
  EXPECT_TRUE(Parse({"--server", "[::1]:1", "--server", "localhost:2",
                     "--api-key-file", "/k"})
                  .ok());
  o = Parse({"--server", "192.0.2.1:443", "--api-key-file", "/k",
             "--insecure-plaintext"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_TRUE(o->insecure_plaintext);
}

TEST(LoadOptions, ConnectionsDefaultToOnePerServer) {
  absl::StatusOr<LoadOptions> o = Parse({"--server", "a:1", "--server", "b:2"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->connections, 2);
}

TEST(LoadOptions, HelpNeedsNothingElse) {
  absl::StatusOr<LoadOptions> o = Parse({"--help"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_TRUE(o->help);
  EXPECT_TRUE(absl::StrContains(LoadUsage(), "--rate"));
}

TEST(LoadOptions, RefusesBadInputNamingTheFlag) {
  ExpectInvalid({"--server", "a:1", "--bogus"}, "unknown flag '--bogus'");
  ExpectInvalid({}, "--server");
  ExpectInvalid({"--server", "nohostport"}, "--server 'nohostport'");
  ExpectInvalid({"--server", "a:0"}, "--server 'a:0'");
  ExpectInvalid({"--server", "a:65536"}, "--server 'a:65536'");
  ExpectInvalid({"--server", ":80"}, "--server ':80'");
  ExpectInvalid({"--server", "a:1", "--rate", "-1"}, "--rate '-1'");
  ExpectInvalid({"--server", "a:1", "--rate", "fast"}, "--rate 'fast'");
  ExpectInvalid({"--server", "a:1", "--rate", "nan"}, "--rate 'nan'");
  ExpectInvalid({"--server", "a:1", "--rate", "1e99"}, "--rate '1e99'");
  ExpectInvalid({"--server", "a:1", "--rate", "1e-9"}, "--rate '1e-9'");
  ExpectInvalid({"--server", "a:1", "--duration", "10"}, "--duration '10'");
  ExpectInvalid({"--server", "a:1", "--duration", "0s"}, "--duration '0s'");
  ExpectInvalid({"--server", "a:1", "--duration", "-1s"}, "--duration '-1s'");
  ExpectInvalid({"--server", "a:1", "--duration", "25h"}, "--duration '25h'");
  ExpectInvalid({"--server", "a:1", "--timeout", "inf"}, "--timeout 'inf'");
  ExpectInvalid({"--server", "a:1", "--concurrency", "0"}, "--concurrency '0'");
  ExpectInvalid({"--server", "a:1", "--concurrency", "99999999999"},
                "--concurrency");
  ExpectInvalid({"--server", "a:1", "--connections", "0"}, "--connections '0'");
  ExpectInvalid({"--server", "a:1", "--server", "b:2", "--connections", "1"},
                "--connections '1': need at least one per --server (2)");
  ExpectInvalid({"--server", "a:1", "--poll-threads", "9"},
                "--poll-threads '9'");
  ExpectInvalid({"--server", "a:1", "--asset", ""}, "--asset ''");
  ExpectInvalid({"--server", "a:1", "--asset", std::string(300, 'x')},
                "--asset");
  ExpectInvalid({"--server", "a:1", "--rate"}, "--rate needs a value");
  ExpectInvalid({"--server", "a:1", "--rate", "1", "--rate", "2"},
                "--rate given more than once");
  ExpectInvalid({"--server", "a:1", "--json=yes"}, "--json takes no value");
  ExpectInvalid({"--server", "a:1", "extra"}, "unexpected argument 'extra'");
}

}  // namespace
}  // namespace edgepass::load
