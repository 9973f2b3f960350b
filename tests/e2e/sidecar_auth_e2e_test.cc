// The validator sidecar against a real edgepass-server that authenticates
// every RPC (--access-file): with an API key holding scope edge-sync it
// subscribes, acknowledges and validates the server's tokens; with a key
// lacking the scope, an unknown key or none it never gets a state and says
// why in its log (never quoting the key); over TLS with a client certificate
// (the test PKI, the CN admitted by the access file) it syncs too. Keys are
// made the operator's way, with `edgepass-server --new-api-key`. No nginx:
// the sidecar's /auth is asked directly. Also: a non-loopback --server
// without TLS is refused at start, and idle connections to the sidecar are
// closed (read timeout, --idle-timeout), and with --module-state a version
// is acknowledged only once that file holds it. Label: integration.
#include <grpcpp/grpcpp.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "client/channel/api_key.h"
#include "client/channel/grpc_channel_tls.h"
#include "core/keyring.h"
#include "core/random.h"
#include "edgepass/v1/edge_sync.grpc.pb.h"
#include "edgepass/v1/playback.grpc.pb.h"
#include "edgepass/v1/session.grpc.pb.h"
#include "gtest/gtest.h"
#include "http/http_test_client.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/edge_stack.h"
#include "tests/integration/server_process.h"
#include "tests/support/test_pki.h"
#include "tests/support/test_process.h"

namespace edgepass {
namespace {

using ::edgepass::http::testing::Fetch;
using ::edgepass::http::testing::TestConnection;
using ::edgepass::http::testing::TestResponse;
using ::edgepass::testing::Context;
using ::edgepass::testing::HeaderOr;
using ::edgepass::testing::MakeApiKey;
using ::edgepass::testing::MakeTestPki;
using ::edgepass::testing::NewApiKey;
using ::edgepass::testing::ServerProcess;
using ::edgepass::testing::Sidecar;
using ::edgepass::testing::TempDir;
using ::edgepass::testing::TestPki;
using ::edgepass::testing::WriteFileOrDie;

constexpr char kAsset[] = "/vod/demo/master.m3u8";

class SidecarAuthE2eTest : public ::testing::Test {
 protected:
  void SetUp() override { root_ = dir_.path(); }

  // Writes `key` to a fresh file readable by its owner only.
  std::string KeyFile(const std::string& name, const std::string& key) {
    const std::string path = absl::StrCat(root_, "/", name, ".key");
    WriteFileOrDie(path, key + "\n");
    EXPECT_EQ(::chmod(path.c_str(), 0600), 0);
    return path;
  }

  // Starts the server with an access file of these entries; `extra` adds
  // flags (TLS).
  void StartServer(const std::vector<NewApiKey>& keys,
                   const std::string& mtls_json,
                   std::vector<std::string> extra = {}) {
    std::string entries;
    for (const NewApiKey& k : keys)
      absl::StrAppend(&entries, entries.empty() ? "" : ",", k.entry_json);
    const std::string access = root_ + "/access.json";
    WriteFileOrDie(access, absl::StrCat(R"({"api_keys":[)", entries,
                                        R"(],"mtls":[)", mtls_json, "]}"));
    extra.insert(extra.begin(), {"--access-file", access});
    server_ = std::make_unique<ServerProcess>(root_, root_ + "/data",
                                              std::move(extra));
  }

  // A sidecar subscribed to the server, listening on a port of its own.
  std::unique_ptr<Sidecar> StartSidecar(std::vector<std::string> args,
                                        uint16_t* port) {
    args.insert(args.end(),
                {"--server", server_->address(), "--listen", "127.0.0.1:0"});
    auto sidecar = std::make_unique<Sidecar>(root_, std::move(args));
    *port = sidecar->WaitListening();
    EXPECT_NE(*port, 0) << sidecar->log();
    return sidecar;
  }

  // A token for /vod/demo/ from the server, sent with `api_key` (none: the
  // channel's client certificate is the credential).
  std::string IssueToken(const std::string& api_key) {
    v1::IssueTokenRequest request;
    request.mutable_policy()->add_paths("/vod/demo/");
    request.mutable_policy()->set_exp("+10m");
    v1::IssueTokenResponse response;
    std::unique_ptr<grpc::ClientContext> context = Context();
    client::AddApiKey(api_key, context.get());
    grpc::Status s =
        server_->stub().IssueToken(context.get(), request, &response);
    EXPECT_TRUE(s.ok()) << s.error_code() << " " << s.error_message();
    return response.token();
  }

  static int Healthz(uint16_t port) {
    std::optional<TestResponse> r = Fetch(port, "GET", "/healthz");
    return r.has_value() ? r->status : 0;
  }

  static ::testing::AssertionResult WaitReady(uint16_t port,
                                              const Sidecar& sidecar) {
    const absl::Time deadline = absl::Now() + absl::Seconds(15);
    while (absl::Now() < deadline) {
      if (Healthz(port) == 200) return ::testing::AssertionSuccess();
      absl::SleepFor(absl::Milliseconds(20));
    }
    return ::testing::AssertionFailure()
           << "sidecar never ready: " << sidecar.log();
  }

  void OnlyAVersionWrittenInTheModuleStateIsAcknowledged(bool snapshot_too);

  // The sidecar's log lines (JSON) with this event, once at least `count`
  // are there (or what there is after 15 s; count 0: what there is now).
  static std::vector<nlohmann::json> WaitForEvents(const Sidecar& sidecar,
                                                   const std::string& event,
                                                   size_t count = 1) {
    const absl::Time deadline = absl::Now() + absl::Seconds(15);
    std::vector<nlohmann::json> found;
    do {
      found.clear();
      for (absl::string_view line :
           absl::StrSplit(sidecar.log(), '\n', absl::SkipEmpty())) {
        nlohmann::json j =
            nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
        EXPECT_TRUE(j.is_object()) << "not a JSON line: " << line;
        if (j.is_object() && j.value("event", "") == event)
          found.push_back(std::move(j));
      }
      if (found.size() >= count) break;
      absl::SleepFor(absl::Milliseconds(50));
    } while (absl::Now() < deadline);
    return found;
  }

  // Asks the server (with `admin_key`) until a validator has acknowledged
  // its current version: true, or false after `timeout`.
  bool Acknowledged(const std::string& admin_key, absl::Duration timeout) {
    auto edge_sync = v1::EdgeSyncService::NewStub(server_->channel());
    const absl::Time deadline = absl::Now() + timeout;
    do {
      v1::ListValidatorsResponse list;
      std::unique_ptr<grpc::ClientContext> context = Context();
      client::AddApiKey(admin_key, context.get());
      grpc::Status s = edge_sync->ListValidators(context.get(), {}, &list);
      EXPECT_TRUE(s.ok()) << s.error_message();
      for (const v1::ValidatorInfo& v : list.validators()) {
        // A fresh data dir is at version 0: the fingerprint shows the ack.
        if (!v.acked_keyring_fingerprint().empty() && v.acked_version() == list.current_version()) return true;
      }
      absl::SleepFor(absl::Milliseconds(50));
    } while (absl::Now() < deadline);
    return false;
  }

  // True when the server lists a validator, still subscribed, whose
  // acknowledged version is behind its current one.
  bool ListedBehind(const std::string& admin_key) {
    v1::ListValidatorsResponse list;
    std::unique_ptr<grpc::ClientContext> context = Context();
    client::AddApiKey(admin_key, context.get());
    grpc::Status s = v1::EdgeSyncService::NewStub(server_->channel())->ListValidators(context.get(), {}, &list);
    EXPECT_TRUE(s.ok()) << s.error_message();
    for (const v1::ValidatorInfo& v : list.validators()) {
      if (v.acked_version() < list.current_version()) return true;
    }
    return false;
  }

  // The sidecar's answer for the asset with `token`.
  static TestResponse Auth(uint16_t port, const std::string& token) {
    std::optional<TestResponse> r =
        Fetch(port, "GET", "/auth", {{"X-Original-URI", "/" + token + kAsset}});
    EXPECT_TRUE(r.has_value());
    return r.value_or(TestResponse{});
  }

  // Checks the sidecar validates a fresh token and refuses a forged one.
  void ExpectValidates(uint16_t port, const std::string& token) {
    ASSERT_FALSE(token.empty());
    TestResponse r = Auth(port, token);
    EXPECT_EQ(r.status, 200) << HeaderOr(r, "X-Edgepass-Reason");
    EXPECT_EQ(HeaderOr(r, "X-Edgepass-Path"), kAsset);
    std::string forged = token;
    forged.back() = forged.back() == 'A' ? 'B' : 'A';
    EXPECT_EQ(Auth(port, forged).status, 403);
  }

  TempDir dir_;
  std::string root_;
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(SidecarAuthE2eTest, KeyWithEdgeSyncScopeSyncsAcknowledgesAndValidates) {
  const NewApiKey edge = MakeApiKey("edge-validator:edge-sync", root_);
  const NewApiKey admin = MakeApiKey("operator:admin", root_);
  StartServer({edge, admin}, "");
  ASSERT_TRUE(server_->WaitUntilServing()) << server_->log();
  {  // The server does require a key: the test is not vacuous.
    v1::IssueTokenRequest request;
    request.mutable_policy()->add_paths("/vod/demo/");
    v1::IssueTokenResponse response;
    EXPECT_EQ(server_->stub()
                  .IssueToken(Context().get(), request, &response)
                  .error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
  }

  uint16_t port = 0;
  std::unique_ptr<Sidecar> sidecar =
      StartSidecar({"--api-key-file", KeyFile("edge", edge.key)}, &port);
  ASSERT_NE(port, 0);
  ASSERT_TRUE(WaitReady(port, *sidecar));
  ExpectValidates(port, IssueToken(admin.key));

  // Acknowledge carried the key too: the server lists the version as acked.
  EXPECT_TRUE(Acknowledged(admin.key, absl::Seconds(10))) << sidecar->log();

  const std::vector<nlohmann::json> listening =
      WaitForEvents(*sidecar, "listening");
  ASSERT_EQ(listening.size(), 1u) << sidecar->log();
  EXPECT_EQ(listening[0]["component"], "edgepass-validator");
  EXPECT_EQ(listening[0]["edge_sync_auth"], "api key");
  EXPECT_EQ(listening[0]["edge_sync_tls"], "off");
  EXPECT_EQ(WaitForEvents(*sidecar, "edge_sync_connected").size(), 1u)
      << sidecar->log();
  EXPECT_FALSE(absl::StrContains(sidecar->log(), "edge_sync_denied"))
      << sidecar->log();
  EXPECT_FALSE(absl::StrContains(sidecar->log(), edge.key))
      << "the API key was logged";
  EXPECT_EQ(sidecar->Stop(), 0);
}

// With --module-state a version is acknowledged only once the file nginx
// reads holds it: while the file cannot be written the server sees the
// validator behind (a rotation waits for it rather than promote a key nginx
// lacks); once it can be, the validator writes it and acknowledges. With
// `snapshot_too`, the snapshot file is in the same directory and fails with
// it: each failure is logged as its own event, so an alert on either sees it.
void SidecarAuthE2eTest::OnlyAVersionWrittenInTheModuleStateIsAcknowledged(bool snapshot_too) {
  const NewApiKey edge = MakeApiKey("edge-validator:edge-sync", root_);
  const NewApiKey admin = MakeApiKey("operator:admin", root_);
  StartServer({edge, admin}, "");
  ASSERT_TRUE(server_->WaitUntilServing()) << server_->log();
  const std::string module_dir = root_ + "/module";
  ASSERT_TRUE(std::filesystem::create_directory(module_dir));
  uint16_t port = 0;
  std::vector<std::string> args = {"--api-key-file", KeyFile("edge", edge.key), "--module-state",
                                   module_dir + "/module.state"};
  if (snapshot_too) args.insert(args.end(), {"--snapshot", module_dir + "/validator.snapshot"});
  std::unique_ptr<Sidecar> sidecar = StartSidecar(args, &port);
  ASSERT_NE(port, 0);
  ASSERT_TRUE(WaitReady(port, *sidecar));
  ASSERT_TRUE(Acknowledged(admin.key, absl::Seconds(10))) << sidecar->log();

  // The directory goes away; a revocation makes a new version.
  ASSERT_EQ(std::rename(module_dir.c_str(), (module_dir + ".away").c_str()), 0);
  v1::RevokeSessionRequest revoke;
  revoke.set_session_id("moduleStateSess1");
  v1::RevokedSession revoked;
  std::unique_ptr<grpc::ClientContext> context = Context();
  client::AddApiKey(admin.key, context.get());
  grpc::Status s = v1::SessionService::NewStub(server_->channel())->RevokeSession(context.get(), revoke, &revoked);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_FALSE(WaitForEvents(*sidecar, "module_state_failed").empty()) << sidecar->log();
  EXPECT_FALSE(Acknowledged(admin.key, absl::Seconds(1))) << sidecar->log();
  // Still subscribed, so a rotation counts it and waits for it.
  EXPECT_TRUE(ListedBehind(admin.key)) << sidecar->log();
  EXPECT_EQ(Healthz(port), 200);  // nginx keeps the file it has

  ASSERT_EQ(std::rename((module_dir + ".away").c_str(), module_dir.c_str()), 0);
  EXPECT_TRUE(Acknowledged(admin.key, absl::Seconds(15))) << sidecar->log();
  EXPECT_EQ(WaitForEvents(*sidecar, "module_state_written").size(), 1u) << sidecar->log();
  // The module state's failure is logged once, and the snapshot's only when
  // it failed too, each with its own error.
  const std::vector<nlohmann::json> module_failed = WaitForEvents(*sidecar, "module_state_failed");
  ASSERT_EQ(module_failed.size(), 1u) << sidecar->log();
  EXPECT_FALSE(absl::StrContains(module_failed[0]["error"].get<std::string>(), "validator.snapshot"))
      << sidecar->log();
  EXPECT_EQ(WaitForEvents(*sidecar, "snapshot_save_failed", /*count=*/0).size(), snapshot_too ? 1u : 0u)
      << sidecar->log();
  EXPECT_EQ(WaitForEvents(*sidecar, "edge_sync_connected").size(), 1u) << "it never left: " << sidecar->log();
  EXPECT_EQ(sidecar->Stop(), 0);
}

TEST_F(SidecarAuthE2eTest, WithAModuleStateOnlyAVersionWrittenThereIsAcknowledged) {
  OnlyAVersionWrittenInTheModuleStateIsAcknowledged(/*snapshot_too=*/false);
}

TEST_F(SidecarAuthE2eTest, WhenTheModuleStateAndTheSnapshotBothFailEachIsLogged) {
  OnlyAVersionWrittenInTheModuleStateIsAcknowledged(/*snapshot_too=*/true);
}

TEST_F(SidecarAuthE2eTest, KeyWithoutTheScopeOrNoKeyNeverGetsStateAndSaysWhy) {
  const NewApiKey edge = MakeApiKey("edge-validator:edge-sync", root_);
  const NewApiKey backend = MakeApiKey("playback-backend:issue", root_);
  StartServer({edge, backend}, "");
  ASSERT_TRUE(server_->WaitUntilServing()) << server_->log();

  struct Case {
    std::string name;
    std::vector<std::string> args;
    std::string code;
    std::string error;  // part of the server's reason
    std::string secret;
    uint16_t port = 0;
    std::unique_ptr<Sidecar> sidecar;
  };
  const std::string unknown =
      "ep_thisKeyIsWellFormedButNoAccessFileListsIt00000";
  Case cases[] = {
      {"issue-only key",
       {"--api-key-file", KeyFile("backend", backend.key)},
       "PERMISSION_DENIED",
       "lacks scope edge-sync",
       backend.key},
      {"unknown key",
       {"--api-key-file", KeyFile("unknown", unknown)},
       "UNAUTHENTICATED",
       "",
       unknown},
      {"no key", {}, "UNAUTHENTICATED", "no credentials", ""},
  };
  for (Case& c : cases) {  // all at once: they wait in parallel
    c.sidecar = StartSidecar(c.args, &c.port);
    ASSERT_NE(c.port, 0) << c.name;
  }
  for (Case& c : cases) {
    SCOPED_TRACE(c.name);
    // Refused, logged, and retried with backoff.
    std::vector<nlohmann::json> denied =
        WaitForEvents(*c.sidecar, "edge_sync_denied", 2);
    ASSERT_GE(denied.size(), 2u) << c.sidecar->log();
    EXPECT_EQ(denied[0]["level"], "error");
    EXPECT_EQ(denied[0]["component"], "edgepass-validator");
    EXPECT_EQ(denied[0]["server"], server_->address());
    EXPECT_EQ(denied[0]["code"], c.code);
    EXPECT_TRUE(absl::StrContains(denied[0].value("error", ""), c.error))
        << denied[0];
    EXPECT_TRUE(absl::StrContains(denied[0].value("hint", ""), "access file"))
        << denied[0];
    EXPECT_EQ(Healthz(c.port), 503);
    if (!c.secret.empty()) {
      EXPECT_FALSE(absl::StrContains(c.sidecar->log(), c.secret))
          << "the API key was logged";
    }
    EXPECT_EQ(c.sidecar->Stop(), 0);
  }
}

TEST_F(SidecarAuthE2eTest, ClientCertificateOverTlsSyncsAndValidates) {
  TempDir pki_dir;
  absl::StatusOr<TestPki> pki =
      MakeTestPki(pki_dir.path(), {"edge-1", "backend"});
  ASSERT_TRUE(pki.ok()) << pki.status();
  StartServer({}, R"({"identity":"edge-1","scopes":["edge-sync"]},
                     {"identity":"backend","scopes":["issue","mint"]})",
              {"--tls-cert", pki->server.cert_file, "--tls-key",
               pki->server.key_file, "--tls-client-ca", pki->ca_file});
  const testing::TestCert& backend = pki->clients.at("backend");
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> backend_tls =
      client::MakeGrpcChannelCredentials({.ca_file = pki->ca_file,
                                          .cert_file = backend.cert_file,
                                          .key_file = backend.key_file});
  ASSERT_TRUE(backend_tls.ok()) << backend_tls.status();
  server_->SetChannelCredentials(*backend_tls);
  ASSERT_TRUE(server_->WaitUntilServing()) << server_->log();

  const testing::TestCert& edge = pki->clients.at("edge-1");
  uint16_t port = 0;
  std::unique_ptr<Sidecar> sidecar =
      StartSidecar({"--server-ca", pki->ca_file, "--client-cert",
                    edge.cert_file, "--client-key", edge.key_file},
                   &port);
  // A certificate the server admits without edge-sync: refused, not synced.
  uint16_t wrong_port = 0;
  std::unique_ptr<Sidecar> wrong =
      StartSidecar({"--server-ca", pki->ca_file, "--client-cert",
                    backend.cert_file, "--client-key", backend.key_file},
                   &wrong_port);
  ASSERT_NE(port, 0);
  ASSERT_NE(wrong_port, 0);
  ASSERT_TRUE(WaitReady(port, *sidecar));
  ExpectValidates(port, IssueToken(""));
  const std::vector<nlohmann::json> listening =
      WaitForEvents(*sidecar, "listening");
  ASSERT_EQ(listening.size(), 1u);
  EXPECT_EQ(listening[0]["edge_sync_tls"], "mtls");
  EXPECT_EQ(listening[0]["edge_sync_auth"], "client certificate");

  std::vector<nlohmann::json> denied =
      WaitForEvents(*wrong, "edge_sync_denied");
  ASSERT_FALSE(denied.empty()) << wrong->log();
  EXPECT_EQ(denied[0]["code"], "PERMISSION_DENIED");
  EXPECT_TRUE(absl::StrContains(denied[0].value("error", ""), "backend"))
      << denied[0];
  EXPECT_EQ(Healthz(wrong_port), 503);

  // Plaintext to a TLS server never connects.
  uint16_t plain_port = 0;
  std::unique_ptr<Sidecar> plain = StartSidecar({}, &plain_port);
  ASSERT_NE(plain_port, 0);
  EXPECT_FALSE(WaitForEvents(*plain, "edge_sync_unreachable").empty())
      << plain->log();
  EXPECT_EQ(Healthz(plain_port), 503);
  EXPECT_EQ(sidecar->Stop(), 0);
}

// A non-loopback --server without TLS: the real sidecar refuses to start
// (exit 2, one bad_configuration line naming --server and the address) and
// never connects; with --insecure-plaintext it starts and warns.
TEST(SidecarPlaintext, RemoteServerWithoutTlsIsAConfigurationError) {
  TempDir dir;
  const std::string key = dir.path() + "/edge.key";
  WriteFileOrDie(key, "ep_k3yThatMustNotTravelInCleartext0123456789\n");
  ASSERT_EQ(::chmod(key.c_str(), 0600), 0);
  // 192.0.2.1 (TEST-NET-1) never answers: a connection attempt would show
  // as edge_sync events, or as a process still running.
  Sidecar refused(dir.path(), {"--server", "192.0.2.1:443", "--api-key-file",
                               key, "--listen", "127.0.0.1:0"});
  EXPECT_EQ(refused.WaitListening(absl::Seconds(10)), 0);
  EXPECT_EQ(refused.Stop(), 2);
  const std::string log = refused.log();
  EXPECT_TRUE(absl::StrContains(log, R"("event":"bad_configuration")")) << log;
  EXPECT_TRUE(absl::StrContains(
      log,
      "--server: 192.0.2.1:443 is not a loopback address and there is no "
      "TLS: the API key and the HMAC keys it streams would cross the network "
      "in cleartext; give --server-ca, or --insecure-plaintext to allow it"))
      << log;
  EXPECT_FALSE(absl::StrContains(log, "edge_sync")) << log;
  EXPECT_EQ(std::count(log.begin(), log.end(), '\n'), 1) << log;

  // The explicit opt-out: starts (not ready: nothing answers) and says so.
  Sidecar allowed(dir.path(),
                  {"--server", "192.0.2.1:443", "--api-key-file", key,
                   "--listen", "127.0.0.1:0", "--insecure-plaintext"});
  ASSERT_NE(allowed.WaitListening(), 0) << allowed.log();
  const std::string allowed_log = allowed.log();
  EXPECT_TRUE(absl::StrContains(
      allowed_log,
      R"("level":"warning","component":"edgepass-validator","event":"insecure_plaintext","servers":"192.0.2.1:443")"))
      << allowed_log;
  EXPECT_FALSE(absl::StrContains(allowed_log, "ep_k3yThatMustNot"));
  EXPECT_EQ(allowed.Stop(), 0);
}

// Idle connections to the real sidecar: one that connects and never sends a
// byte is closed after the HTTP read timeout (10 s), not held for the
// keep-alive idle timeout (60 s by default); a kept-alive connection is closed
// after --idle-timeout.
TEST(SidecarIdleConnections, SilentAndKeptAliveConnectionsAreClosed) {
  TempDir dir;
  core::SecureRandom random;
  const std::string keyring = dir.path() + "/keyring.json";
  WriteFileOrDie(
      keyring,
      core::KeyringToJson(*core::Keyring::Create({core::GenerateSigningKey(
          absl::Now(), core::KeyState::kPrimary, random)})));
  ASSERT_EQ(::chmod(keyring.c_str(), 0600), 0);
  // Default idle timeout: a silent connection must not wait for it.
  Sidecar defaults(dir.path(),
                   {"--keyring", keyring, "--listen", "127.0.0.1:0"});
  const uint16_t default_port = defaults.WaitListening();
  ASSERT_NE(default_port, 0) << defaults.log();
  auto silent = TestConnection::Connect(default_port);
  ASSERT_NE(silent, nullptr);
  const absl::Time silent_since = absl::Now();

  Sidecar short_idle(dir.path(), {"--keyring", keyring, "--listen",
                                  "127.0.0.1:0", "--idle-timeout", "1s"});
  const uint16_t port = short_idle.WaitListening();
  ASSERT_NE(port, 0) << short_idle.log();
  auto kept = TestConnection::Connect(port);
  ASSERT_NE(kept, nullptr);
  kept->Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  std::optional<TestResponse> r = kept->ReadResponse();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  const absl::Time idle_since = absl::Now();
  EXPECT_TRUE(kept->WaitForClose(absl::Seconds(10)));
  EXPECT_GE(absl::Now() - idle_since, absl::Milliseconds(500));

  EXPECT_TRUE(
      silent->WaitForClose(absl::Seconds(25) - (absl::Now() - silent_since)));
  EXPECT_GE(absl::Now() - silent_since, absl::Seconds(5));
  EXPECT_EQ(short_idle.Stop(), 0);
  EXPECT_EQ(defaults.Stop(), 0);
}

}  // namespace
}  // namespace edgepass
