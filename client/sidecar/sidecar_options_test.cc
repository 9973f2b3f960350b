#include "client/sidecar/sidecar_options.h"

#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"

namespace edgepass::sidecar {
namespace {

absl::StatusOr<SidecarOptions> Parse(
    std::vector<std::string> args,
    std::map<std::string, std::string> env = {}) {
  return ParseSidecarOptions(args, [env](const char* name) -> const char* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  });
}

TEST(SidecarOptions, Defaults) {
  absl::StatusOr<SidecarOptions> o = Parse({"--keyring", "k.json"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->listen_host, "127.0.0.1");
  EXPECT_EQ(o->listen_port, 8081);
  ASSERT_EQ(o->modes.size(), 1u);
  EXPECT_EQ(o->modes[0].first, "/");
  EXPECT_EQ(o->modes[0].second, EnforcementMode::kEnforce);
  EXPECT_EQ(o->leeway, absl::ZeroDuration());
  EXPECT_EQ(o->threads, 2);
  EXPECT_EQ(o->metrics_addr, "127.0.0.1:9465");
}

TEST(SidecarOptions, MetricsAddress) {
  absl::StatusOr<SidecarOptions> o =
      Parse({"--keyring", "k.json"},
            {{"EDGEPASS_VALIDATOR_METRICS_ADDR", "0.0.0.0:9100"}});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->metrics_addr, "0.0.0.0:9100");
  o = Parse({"--keyring", "k.json", "--metrics-addr", "127.0.0.1:0"},
            {{"EDGEPASS_VALIDATOR_METRICS_ADDR", "0.0.0.0:9100"}});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->metrics_addr, "127.0.0.1:0");
  o = Parse({"--keyring", "k.json", "--metrics-addr="});  // empty disables
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->metrics_addr, "");
  EXPECT_EQ(Parse({"--keyring", "k.json", "--metrics-addr", "9465"})
                .status()
                .message(),
            "--metrics-addr: expected HOST:PORT");
  EXPECT_EQ(Parse({"--keyring", "k.json", "--metrics-addr", "[::1]:9465"})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(SidecarOptions, ReadsEveryFlag) {
  absl::StatusOr<SidecarOptions> o = Parse({"--listen=[::1]:0",
                                            "--keyring",
                                            "k.json",
                                            "--revoked",
                                            "r.json",
                                            "--snapshot",
                                            "s.json",
                                            "--mode",
                                            "/=log-only",
                                            "--mode",
                                            "/paid/=enforce",
                                            "--leeway",
                                            "30s",
                                            "--server",
                                            "10.0.0.1:50051",
                                            "--server",
                                            "edge-sync:50051",
                                            "--threads",
                                            "4",
                                            "--insecure-plaintext"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->listen_host, "::1");
  EXPECT_EQ(o->listen_port, 0);
  EXPECT_EQ(o->keyring_file, "k.json");
  EXPECT_EQ(o->revoked_file, "r.json");
  EXPECT_EQ(o->snapshot_file, "s.json");
  ASSERT_EQ(o->modes.size(), 2u);
  EXPECT_EQ(o->modes[1].first, "/paid/");
  EXPECT_EQ(o->leeway, absl::Seconds(30));
  EXPECT_EQ(o->servers,
            (std::vector<std::string>{"10.0.0.1:50051", "edge-sync:50051"}));
  EXPECT_EQ(o->threads, 4);
  EXPECT_TRUE(o->insecure_plaintext);
}

TEST(SidecarOptions, ServerCredentials) {
  absl::StatusOr<SidecarOptions> o =
      Parse({"--server", "a:1", "--api-key-file", "/run/key", "--server-ca",
             "ca.pem", "--client-cert", "edge.pem", "--client-key=edge.key"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->api_key_file, "/run/key");
  EXPECT_EQ(o->server_ca_file, "ca.pem");
  EXPECT_EQ(o->client_cert_file, "edge.pem");
  EXPECT_EQ(o->client_key_file, "edge.key");

  o = Parse({"--server-ca", "flag-ca.pem"},
            {{"EDGEPASS_VALIDATOR_SERVERS", "a:1"},
             {"EDGEPASS_VALIDATOR_API_KEY_FILE", "/env/key"},
             {"EDGEPASS_VALIDATOR_SERVER_CA", "env-ca.pem"},
             {"EDGEPASS_VALIDATOR_CLIENT_CERT", "env.pem"},
             {"EDGEPASS_VALIDATOR_CLIENT_KEY", "env.key"}});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->api_key_file, "/env/key");
  EXPECT_EQ(o->server_ca_file, "flag-ca.pem");
  EXPECT_EQ(o->client_cert_file, "env.pem");
  EXPECT_EQ(o->client_key_file, "env.key");

  // None by default: plaintext (to loopback), no key.
  o = Parse({"--server", "127.0.0.1:1"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->api_key_file, "");
  EXPECT_EQ(o->server_ca_file, "");
  EXPECT_EQ(o->client_cert_file, "");
}

TEST(SidecarOptions, FlagsWinOverEnvironment) {
  absl::StatusOr<SidecarOptions> o =
      Parse({"--mode", "/x/=off"},
            {{"EDGEPASS_VALIDATOR_SNAPSHOT", "/var/s.json"},
             {"EDGEPASS_VALIDATOR_MODES", "/=enforce,/live/=log-only"},
             {"EDGEPASS_VALIDATOR_LISTEN", "0.0.0.0:9000"},
             {"EDGEPASS_VALIDATOR_LEEWAY", "5"}});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->snapshot_file, "/var/s.json");
  EXPECT_EQ(o->listen_host, "0.0.0.0");
  EXPECT_EQ(o->listen_port, 9000);
  EXPECT_EQ(o->leeway, absl::Seconds(5));
  ASSERT_EQ(o->modes.size(), 1u);
  EXPECT_EQ(o->modes[0].first, "/x/");

  o = Parse({}, {{"EDGEPASS_VALIDATOR_SERVERS", "127.0.0.1:1, localhost:2"}});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->servers,
            (std::vector<std::string>{"127.0.0.1:1", "localhost:2"}));
}

TEST(SidecarOptions, BadConfigurationNamesTheFlag) {
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  for (const Case& c : std::vector<Case>{
           {{}, "no keyring source: give --keyring, --snapshot or --server"},
           {{"--keyring", "k", "--listen", "127.0.0.1"}, "--listen: expected HOST:PORT"},
           {{"--keyring", "k", "--listen", "h:70000"}, "--listen: port must be 0-65535"},
           {{"--keyring", "k", "--mode", "/x=strict"},
            "--mode: mode 'strict' must be enforce, log-only or off"},
           {{"--keyring", "k", "--mode", "x=off"},
            "--mode: route prefix 'x' must be a path starting with '/' (no dot "
            "segments, '//' or "
            "escapes)"},
           {{"--keyring", "k", "--leeway", "10m"}, "--leeway: must be between 0 and 5m"},
           {{"--keyring", "k", "--leeway", "soon"}, "--leeway: 'soon' is not a duration (e.g. 30s, 2m)"},
           {{"--keyring", "k", "--threads", "0"}, "--threads: '0' must be 1-64"},
           {{"--revoked", "r", "--snapshot", "s"},
            "--revoked: needs --keyring (static sources come together)"},
           {{"--keyring", "k", "--keyring", "j"}, "--keyring: given more than once"},
           {{"--keyring"}, "--keyring: needs a value"},
           {{"--keyring", "k", "--colour", "x"}, "unknown flag --colour"},
           {{"--keyring", "k", "extra"}, "unexpected argument 'extra'"},
           {{"--keyring", "k", "-x"}, "unexpected argument '-x'"},
           {{"--keyring", "k", "--"}, "unknown flag --"},
           {{"--keyring", "k", "--insecure-plaintext", "--insecure-plaintext=false"},
            "--insecure-plaintext: given more than once"},
           {{"--server", "host-without-port"}, "--server: expected HOST:PORT"},
           {{"--server", "dns:///edge-sync.internal"}, "--server: expected HOST:PORT"},
           {{"--server", "unix:/run/edgepass.sock"}, "--server: expected HOST:PORT"},
           {{"--server", "h:0"}, "--server: port must be 1-65535"},
           {{"--keyring", "k", "--api-key-file", "key"},
            "--api-key-file: needs --server (credentials for the edge-sync "
            "servers)"},
           {{"--snapshot", "s", "--server-ca", "ca.pem"},
            "--server-ca: needs --server (credentials for the edge-sync "
            "servers)"},
           {{"--server", "a:1", "--server-ca", "ca.pem", "--client-cert", "c.pem"},
            "--client-key: --client-cert and --client-key go together"},
           {{"--server", "a:1", "--server-ca", "ca.pem", "--client-key", "c.key"},
            "--client-cert: --client-cert and --client-key go together"},
           {{"--server", "a:1", "--client-cert", "c.pem", "--client-key", "c.key"},
            "--client-cert: needs --server-ca (mTLS is TLS first)"},
       }) {
    absl::StatusOr<SidecarOptions> o = Parse(c.args);
    ASSERT_FALSE(o.ok()) << c.message;
    EXPECT_EQ(o.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(o.status().message(), c.message);
  }
}

TEST(SidecarOptions, RemoteServerWithoutTlsIsRefusedUnlessOptedOut) {
  // Not loopback and no --server-ca: refused whether or not a key is sent
  // (the stream brings HMAC keys), naming the flag and the address.
  for (const char* server :
       {"192.0.2.1:443", "0.0.0.0:1", "[::]:1", "[2001:db8::1]:50051",
        "edge-sync.internal:50051", "dns:///edge-sync.internal:50051"}) {
    absl::StatusOr<SidecarOptions> o =
        Parse({"--server", "127.0.0.1:1", "--server", server});
    ASSERT_FALSE(o.ok()) << server;
    EXPECT_EQ(o.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(o.status().message(),
              absl::StrCat("--server: ", server,
                           " is not a loopback address and there is no TLS: "
                           "the HMAC keys it streams would cross the network "
                           "in cleartext; give --server-ca, or "
                           "--insecure-plaintext to allow it"));
  }
  absl::StatusOr<SidecarOptions> o =
      Parse({"--server", "192.0.2.1:443", "--api-key-file", "/run/key"});
  ASSERT_FALSE(o.ok());
  EXPECT_EQ(o.status().message(),
            "--server: 192.0.2.1:443 is not a loopback address and there is "
            "no TLS: the API key and the HMAC keys it streams would cross the "
            "network in cleartext; give --server-ca, or --insecure-plaintext "
            "to allow it");
  // From the environment too.
  EXPECT_FALSE(
      Parse({}, {{"EDGEPASS_VALIDATOR_SERVERS", "127.0.0.1:1,192.0.2.1:443"}})
          .ok());

  // Loopback stays allowed without TLS.
  for (const char* server :
       {"127.0.0.1:50051", "127.9.9.9:1", "[::1]:50051", "localhost:50051"}) {
    o = Parse({"--server", server, "--api-key-file", "/run/key"});
    EXPECT_TRUE(o.ok()) << server << " " << o.status();
    EXPECT_FALSE(o->insecure_plaintext);
  }
  // TLS, or the explicit opt-out (flag or environment).
  o = Parse({"--server", "192.0.2.1:443", "--server-ca", "ca.pem"});
  EXPECT_TRUE(o.ok()) << o.status();
  o = Parse({"--server", "192.0.2.1:443", "--api-key-file", "/run/key",
             "--insecure-plaintext"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_TRUE(o->insecure_plaintext);
  o = Parse({"--server", "192.0.2.1:443", "--insecure-plaintext=true"});
  EXPECT_TRUE(o.ok()) << o.status();
  o = Parse({"--server", "192.0.2.1:443"},
            {{"EDGEPASS_VALIDATOR_INSECURE_PLAINTEXT", "true"}});
  EXPECT_TRUE(o.ok()) << o.status();
  o = Parse({"--server", "192.0.2.1:443", "--insecure-plaintext=false"},
            {{"EDGEPASS_VALIDATOR_INSECURE_PLAINTEXT", "true"}});
  EXPECT_FALSE(o.ok());
  o = Parse({"--server", "192.0.2.1:443", "--insecure-plaintext=maybe"});
  ASSERT_FALSE(o.ok());
  EXPECT_EQ(o.status().message(),
            "--insecure-plaintext: 'maybe' is not true or false");
}

TEST(SidecarOptions, IdleTimeout) {
  absl::StatusOr<SidecarOptions> o = Parse({"--keyring", "k.json"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->idle_timeout, absl::Seconds(60));
  o = Parse({"--keyring", "k.json"},
            {{"EDGEPASS_VALIDATOR_IDLE_TIMEOUT", "5s"}});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->idle_timeout, absl::Seconds(5));
  o = Parse({"--keyring", "k.json", "--idle-timeout=250ms"},
            {{"EDGEPASS_VALIDATOR_IDLE_TIMEOUT", "5s"}});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->idle_timeout, absl::Milliseconds(250));
  for (const char* bad : {"0s", "-1s", "2h", "soon", "60"}) {
    o = Parse({"--keyring", "k.json", "--idle-timeout", bad});
    ASSERT_FALSE(o.ok()) << bad;
    EXPECT_EQ(o.status().message(),
              absl::StrCat("--idle-timeout: '", bad,
                           "' is not a duration from 1ms to 1h (e.g. 60s)"));
  }
}

TEST(SidecarOptions, HelpNeedsNothingElse) {
  absl::StatusOr<SidecarOptions> o = Parse({"--help"});
  ASSERT_TRUE(o.ok());
  EXPECT_TRUE(o->help);
  EXPECT_NE(SidecarUsage().find("--mode PREFIX=MODE"), std::string::npos);
}

// Every flag is declared once: the docs table, --help and the parser all
// come from that declaration.
TEST(SidecarOptions, DocsTableHelpAndParserAgree) {
  const std::string table = SidecarOptionsMarkdown();
  const std::string usage = SidecarUsage();
  int rows = 0;
  for (absl::string_view line : absl::StrSplit(table, '\n')) {
    if (!absl::StartsWith(line, "| `--")) continue;
    ++rows;
    const std::vector<std::string> cells = absl::StrSplit(line, " | ");
    ASSERT_GE(cells.size(), 4u) << line;
    const std::string flag_and_value(absl::StripPrefix(cells[0], "| "));
    const std::string flag = std::vector<std::string>(absl::StrSplit(
        absl::StripPrefix(flag_and_value, "`"), absl::ByAnyChar(" `")))[0];
    const std::string env =
        std::vector<std::string>(absl::StrSplit(cells[1], '`'))[1];
    EXPECT_TRUE(absl::StrContains(usage, "  " + flag)) << flag;
    EXPECT_TRUE(absl::StrContains(usage, "[" + env)) << env;
    absl::StatusOr<SidecarOptions> o = Parse({flag + "=x"});
    EXPECT_FALSE(absl::StrContains(o.status().message(), "unknown flag"))
        << flag;
  }
  EXPECT_EQ(rows, 19);
  EXPECT_TRUE(absl::StrContains(
      table, "| `--threads N` | `EDGEPASS_VALIDATOR_THREADS` | `2` |"));
  EXPECT_TRUE(
      absl::StrContains(table,
                        "| `--mode PREFIX=MODE` | `EDGEPASS_VALIDATOR_MODES` "
                        "(comma list) | `/=enforce` |"));
  EXPECT_TRUE(absl::StrContains(usage, "[EDGEPASS_VALIDATOR_SERVERS,"));
  for (absl::string_view line : absl::StrSplit(usage, '\n')) {
    EXPECT_LE(line.size(), 80u) << line;
  }
}

}  // namespace
}  // namespace edgepass::sidecar
