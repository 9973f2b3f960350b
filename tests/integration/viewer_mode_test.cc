// The REST gateway's viewer-facing mode on a real edgepass-server: playback
// routes take an end-user OIDC ID token (RS256, keys from a JWKS file), and
// the token's groups pick the entitlement: premium viewers get the full
// ladder, standard viewers the SD variant, everyone else the fallback clip.
// Label: integration.
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "core/keyring.h"
#include "core/revocation.h"
#include "core/validator.h"
#include "edgepass/v1/playback.grpc.pb.h"
#include "gtest/gtest.h"
#include "http/http_test_client.h"
#include "nlohmann/json.hpp"
#include "tests/integration/server_process.h"
#include "tests/support/oidc_test_tokens.h"
#include "tests/support/test_process.h"

namespace edgepass {
namespace {

using ::edgepass::http::testing::Fetch;
using ::edgepass::http::testing::TestResponse;
using ::edgepass::testing::IdTokenClaims;
using ::edgepass::testing::JwksHost;
using ::edgepass::testing::JwksJson;
using ::edgepass::testing::OidcTestKey;
using ::edgepass::testing::ServerProcess;
using ::edgepass::testing::SignHs256;
using ::edgepass::testing::TempDir;
using ::edgepass::testing::UnsignedToken;
using ::edgepass::testing::WriteFileOrDie;
using ::edgepass::testing::WriteJwksFile;

constexpr char kIssuer[] = "https://idp.example.test/pool-1";
constexpr char kAudience[] = "playback-web";

// The movie: premium plays the full ladder, standard the SD ladder under
// narrower paths, anyone else the "unauthorized" clip.
constexpr char kCatalog[] = R"({
  "policies": {"full": {"paths": ["/movie/"], "exp": "+2h", "ssn": true},
               "sd": {"paths": ["/movie/sd/"], "exp": "+2h", "ssn": true},
               "clip": {"paths": ["/clips/unauthorized/"], "exp": "+10m"},
               "bound": {"paths": ["/bound/"], "exp": "+1h", "ip": true, "ssn": true}},
  "assets": [
    {"id": "movie", "hostname": "cdn.example.com", "url_path": "/movie/sd/index.m3u8", "token_policy": "sd",
     "variants": {"premium": {"url_path": "/movie/index.m3u8", "token_policy": "full"},
                  "standard": {"url_path": "/movie/sd/index.m3u8", "token_policy": "sd"}},
     "fallback_asset": "unauthorized"},
    {"id": "unauthorized", "hostname": "cdn.example.com", "url_path": "/clips/unauthorized/index.m3u8",
     "token_policy": "clip"},
    {"id": "bound", "hostname": "cdn.example.com", "url_path": "/bound/index.m3u8", "token_policy": "bound"}]})";

class ViewerModeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    work_ = new TempDir();
    key_ = new OidcTestKey("kid-1");
    WriteJwksFile(work_->path() + "/jwks.json", {key_});
    WriteFileOrDie(work_->path() + "/catalog.json", kCatalog);
    server_ = new ServerProcess(work_->path(), work_->path() + "/data",
                                {"--catalog-file", work_->path() + "/catalog.json", "--oidc-issuer", kIssuer,
                                 "--oidc-audience", kAudience, "--oidc-jwks", work_->path() + "/jwks.json"});
    ASSERT_TRUE(server_->WaitUntilServing());
    std::vector<std::string> parts = absl::StrSplit(server_->rest_address(), ':');
    int port = 0;
    ASSERT_TRUE(parts.size() == 2 && absl::SimpleAtoi(parts[1], &port)) << server_->rest_address();
    port_ = static_cast<uint16_t>(port);
  }
  static void TearDownTestSuite() {
    delete server_;
    delete key_;
    delete work_;
  }

  static std::optional<TestResponse> Generate(const std::string& id_token) {
    return Fetch(port_, "GET", "/tokengenerate?id=movie", {{"Authorization", "Bearer " + id_token}});
  }
  static std::string Mint(const std::vector<std::string>& groups) {
    return key_->Mint(IdTokenClaims(kIssuer, kAudience, absl::Now(), groups));
  }

  static TempDir* work_;
  static OidcTestKey* key_;
  static ServerProcess* server_;
  static uint16_t port_;
};

TempDir* ViewerModeTest::work_ = nullptr;
OidcTestKey* ViewerModeTest::key_ = nullptr;
ServerProcess* ViewerModeTest::server_ = nullptr;
uint16_t ViewerModeTest::port_ = 0;

TEST_F(ViewerModeTest, GroupsPickTheEntitlement) {
  struct Case {
    std::vector<std::string> groups;
    std::string path;
  } cases[] = {
      {{"premium"}, "/movie/index.m3u8"},
      {{"viewers", "standard"}, "/movie/sd/index.m3u8"},
      {{"standard", "premium"}, "/movie/index.m3u8"},  // the first entitlement in --entitlements wins
      {{}, "/clips/unauthorized/index.m3u8"},
      {{"lapsed"}, "/clips/unauthorized/index.m3u8"},
  };
  for (const Case& c : cases) {
    std::optional<TestResponse> r = Generate(Mint(c.groups));
    ASSERT_TRUE(r.has_value());
    ASSERT_EQ(r->status, 200) << r->body;
    const std::string url = nlohmann::json::parse(r->body)["playback_url"];
    EXPECT_TRUE(absl::EndsWith(url, c.path)) << url << " for groups " << absl::StrJoin(c.groups, ",");
  }
  // The v1 route too, and the body cannot claim an entitlement.
  std::optional<TestResponse> v1 = Fetch(port_, "POST", "/v1/assets/movie/playback",
                                         {{"Authorization", "Bearer " + Mint({"standard"})}});
  ASSERT_EQ(v1->status, 200) << v1->body;
  nlohmann::json reply = nlohmann::json::parse(v1->body);
  EXPECT_EQ(reply["variant"], "standard");
  EXPECT_TRUE(absl::EndsWith(reply["playbackUrl"].get<std::string>(), "/movie/sd/index.m3u8"));
}

TEST_F(ViewerModeTest, BadIdTokensAre401) {
  const absl::Time now = absl::Now();
  nlohmann::json expired = IdTokenClaims(kIssuer, kAudience, now - absl::Hours(3), {"premium"});
  nlohmann::json wrong_aud = IdTokenClaims(kIssuer, "someone-else", now, {"premium"});
  nlohmann::json wrong_iss = IdTokenClaims("https://evil.example", kAudience, now, {"premium"});
  const std::string claims = IdTokenClaims(kIssuer, kAudience, now, {"premium"}).dump();
  OidcTestKey stranger("kid-unknown");
  const std::map<std::string, std::string> bad = {
      {"expired", key_->Mint(expired)},
      {"wrong audience", key_->Mint(wrong_aud)},
      {"wrong issuer", key_->Mint(wrong_iss)},
      {"alg none", UnsignedToken(R"({"alg":"none","kid":"kid-1"})", claims)},
      {"HS256 with the public key", SignHs256(R"({"alg":"HS256","kid":"kid-1"})", claims, key_->PublicKeyPem())},
      {"unknown kid", stranger.Mint(nlohmann::json::parse(claims))},
      {"garbage", "not.a.token"},
  };
  for (const auto& [what, token] : bad) {
    std::optional<TestResponse> r = Generate(token);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->status, 401) << what << ": " << r->body;
    EXPECT_EQ(r->body.find(token), std::string::npos) << "the token is never echoed";
  }
  EXPECT_EQ(Fetch(port_, "GET", "/tokengenerate?id=movie")->status, 401);
  // An API key is no ID token: viewer mode wants the viewer.
  EXPECT_EQ(Generate("ep_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")->status, 401);
}

// The viewer picks nothing the token binds: a body naming any viewer
// attribute (or the entitlement) is 400 naming it; the token binds the
// connection's address and a session id the server made.
TEST_F(ViewerModeTest, BodyCannotChooseWhatTheTokenBinds) {
  const std::string bearer = "Bearer " + Mint({"premium"});
  auto post = [&](const std::string& body) {
    auto conn = http::testing::TestConnection::Connect(port_);
    conn->Send(absl::StrCat(
        "POST /v1/assets/bound/playback HTTP/1.1\r\nHost: t\r\nConnection: "
        "close\r\n"
        "Authorization: ",
        bearer, "\r\nContent-Type: application/json\r\nContent-Length: ",
        body.size(), "\r\n\r\n", body));
    return conn->ReadResponse();
  };
  const std::map<std::string, std::string> chosen = {
      {R"({"viewer":{"ip":"198.51.100.7","sessionId":"attackerPick1"}})",
       "viewer.ip"},
      {R"({"viewer":{"sessionId":"attackerPick1"}})", "viewer.session_id"},
      {R"({"viewer":{"session_id":"attackerPick1"}})", "viewer.session_id"},
      {R"({"viewer":{"country":"US"}})", "viewer.country"},
      {R"({"viewer":{"region":"CA"}})", "viewer.region"},
      {R"({"viewer":{"city":"Springfield"}})", "viewer.city"},
      {R"({"viewer":{"headers":{"user-agent":"forged"}}})", "viewer.headers"},
      {R"({"viewer":{"query":{"uid":"123"}}})", "viewer.query"},
      {R"({"entitlement":"premium"})", "entitlement"},
  };
  for (const auto& [body, field] : chosen) {
    std::optional<TestResponse> r = post(body);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->status, 400) << body << ": " << r->body;
    nlohmann::json error = nlohmann::json::parse(r->body, nullptr, false);
    ASSERT_TRUE(error.contains("error")) << r->body;
    EXPECT_EQ(error["error"]["code"], "INVALID_ARGUMENT");
    EXPECT_EQ(error["error"]["field"], field) << body;
  }

  // Without them: bound to the connection's address, a server-made session.
  absl::StatusOr<core::Keyring> keyring = core::ParseKeyringJson(
      testing::ReadFileOrEmpty(work_->path() + "/data/keyring.json"));
  ASSERT_TRUE(keyring.ok()) << keyring.status();
  for (const std::string body : {"", "{}", R"({"viewer":{}})"}) {
    std::optional<TestResponse> r = post(body);
    ASSERT_TRUE(r.has_value());
    ASSERT_EQ(r->status, 200) << body << ": " << r->body;
    nlohmann::json reply = nlohmann::json::parse(r->body);
    const std::string session = reply["sessionId"];
    EXPECT_FALSE(session.empty());
    EXPECT_NE(session, "attackerPick1");
    const std::string url = reply["playbackUrl"];
    const std::string prefix = "https://cdn.example.com";
    ASSERT_EQ(url.rfind(prefix, 0), 0u) << url;
    const std::string uri = url.substr(prefix.size());
    core::Decision from_viewer =
        core::Validate({.uri = uri, .client_ip = "127.0.0.1"}, *keyring,
                       core::RevocationSet{}, absl::Now());
    EXPECT_TRUE(from_viewer.allow) << core::ReasonName(from_viewer.reason);
    EXPECT_EQ(from_viewer.session_id, session);
    core::Decision elsewhere =
        core::Validate({.uri = uri, .client_ip = "198.51.100.7"}, *keyring,
                       core::RevocationSet{}, absl::Now());
    EXPECT_FALSE(elsewhere.allow);
  }
}

// Signature refusal through the real server, beyond the cases above: the
// header and claims of a valid token with a broken signature, and a token
// signed by another RSA key that claims the trusted key's kid.
TEST_F(ViewerModeTest, ForgedSignaturesAre401) {
  const std::string good = Mint({"premium"});
  ASSERT_EQ(Generate(good)->status, 200);
  const size_t dot = good.rfind('.');
  std::map<std::string, std::string> bad;
  // Flip one bit of a byte in the middle of the signature (base64url stays
  // valid: 'A' <-> 'B' and so on change the decoded bits, not the length).
  std::string flipped = good;
  char& c = flipped[dot + 1 + (good.size() - dot - 1) / 2];
  c = c == 'A' ? 'B' : 'A';
  bad["flipped signature byte"] = flipped;
  std::string last = good;  // the final character carries signature bits too
  last.back() = last.back() == 'A' ? 'Q' : 'A';
  bad["changed last signature character"] = last;
  OidcTestKey impostor("kid-1");  // same kid, different key
  bad["other key, same kid"] = impostor.Mint(
      IdTokenClaims(kIssuer, kAudience, absl::Now(), {"premium"}));
  const std::string other =
      Mint({"standard"});  // the trusted key, other claims
  bad["signature of another token"] =
      good.substr(0, dot) + other.substr(other.rfind('.'));
  bad["no signature"] = good.substr(0, dot + 1);
  for (const auto& [what, token] : bad) {
    ASSERT_NE(token, good) << what;
    for (const bool v1_route : {false, true}) {
      std::optional<TestResponse> r =
          v1_route ? Fetch(port_, "POST", "/v1/assets/movie/playback",
                           {{"Authorization", "Bearer " + token}})
                   : Generate(token);
      ASSERT_TRUE(r.has_value());
      EXPECT_EQ(r->status, 401)
          << what << (v1_route ? " (v1)" : " (tokengenerate)") << ": "
          << r->body;
      EXPECT_EQ(r->body.find(token.substr(dot)), std::string::npos)
          << "the token is never echoed";
      nlohmann::json error = nlohmann::json::parse(r->body, nullptr, false);
      EXPECT_TRUE(error.contains("error") &&
                  error["error"]["code"] == "UNAUTHENTICATED")
          << r->body;
    }
  }
  EXPECT_EQ(Generate(good)->status, 200);  // the real key still works
}

// Backends name the entitlement over gRPC; the edge refuses a standard
// viewer's token on a premium-only segment.
TEST_F(ViewerModeTest, GrpcEntitlementAndEdgeEnforcement) {
  absl::StatusOr<core::Keyring> keyring =
      core::ParseKeyringJson(testing::ReadFileOrEmpty(work_->path() + "/data/keyring.json"));
  ASSERT_TRUE(keyring.ok()) << keyring.status();
  auto issue = [&](const std::string& entitlement) {
    v1::IssuePlaybackRequest request;
    request.set_asset_id("movie");
    request.set_entitlement(entitlement);
    v1::IssuePlaybackResponse response;
    grpc::Status s = server_->stub().IssuePlayback(testing::Context().get(), request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return response;
  };
  // The path of a URL with its token as first segment, the token swapped to `segment`.
  auto edge = [&](const v1::IssuePlaybackResponse& r, const std::string& path) {
    const std::string uri = absl::StrCat("/", r.token(), path);
    return core::Validate({.uri = uri, .client_ip = "192.0.2.1"}, *keyring, core::RevocationSet{}, absl::Now());
  };
  v1::IssuePlaybackResponse premium = issue("premium");
  EXPECT_EQ(premium.variant(), "premium");
  EXPECT_TRUE(absl::EndsWith(premium.playback_url(), "/movie/index.m3u8"));
  EXPECT_TRUE(edge(premium, "/movie/1080p/seg1.ts").allow);

  v1::IssuePlaybackResponse standard = issue("standard");
  EXPECT_EQ(standard.variant(), "standard");
  EXPECT_TRUE(absl::EndsWith(standard.playback_url(), "/movie/sd/index.m3u8"));
  EXPECT_TRUE(edge(standard, "/movie/sd/seg1.ts").allow);
  core::Decision premium_only = edge(standard, "/movie/1080p/seg1.ts");
  EXPECT_FALSE(premium_only.allow);
  EXPECT_EQ(premium_only.reason, core::Reason::kPathNotAllowed);

  v1::IssuePlaybackResponse none = issue("");
  EXPECT_EQ(none.asset_id(), "unauthorized");
  EXPECT_TRUE(absl::EndsWith(none.playback_url(), "/clips/unauthorized/index.m3u8"));
  EXPECT_FALSE(edge(none, "/movie/sd/seg1.ts").allow);
}

// The keys are due for their re-read and the provider is slow: the viewer
// whose call found them due waits for the read off the REST event loop, and
// the other viewers on that one loop are answered meanwhile with the keys
// already read. (Before, the read ran on the loop and held up every
// connection on it.)
TEST(ViewerModeJwksUrl, ASlowJwksReReadHoldsUpNoOtherViewer) {
  TempDir work;
  OidcTestKey key("kid-1");
  JwksHost provider;
  provider.Serve(200, JwksJson({&key}));
  WriteFileOrDie(work.path() + "/catalog.json", kCatalog);
  ServerProcess server(work.path(), work.path() + "/data",
                       {"--catalog-file", work.path() + "/catalog.json", "--oidc-issuer", kIssuer,
                        "--oidc-audience", kAudience, "--oidc-jwks", provider.url(), "--oidc-jwks-refresh", "1s",
                        "--rest-threads", "1"});
  ASSERT_TRUE(server.WaitUntilServing());
  std::vector<std::string> parts = absl::StrSplit(server.rest_address(), ':');
  int port = 0;
  ASSERT_TRUE(parts.size() == 2 && absl::SimpleAtoi(parts[1], &port)) << server.rest_address();
  const std::vector<std::pair<std::string, std::string>> viewer = {
      {"Authorization", "Bearer " + key.Mint(IdTokenClaims(kIssuer, kAudience, absl::Now(), {"premium"}))}};
  const auto generate = [&] {
    return Fetch(static_cast<uint16_t>(port), "GET", "/tokengenerate?id=movie", viewer, absl::Seconds(20));
  };
  std::optional<TestResponse> first = generate();
  ASSERT_TRUE(first.has_value());
  ASSERT_EQ(first->status, 200) << first->body;

  constexpr absl::Duration kSlowRead = absl::Seconds(4);
  provider.SetDelay(kSlowRead);
  absl::SleepFor(absl::Milliseconds(1100));  // the keys are due now
  std::optional<TestResponse> finder;
  absl::Duration finder_took;
  std::thread finder_thread([&] {
    const absl::Time start = absl::Now();
    finder = generate();
    finder_took = absl::Now() - start;
  });
  ASSERT_TRUE(provider.AwaitRequests(2)) << "the server did not re-read its JWKS";
  const absl::Time start = absl::Now();
  std::optional<TestResponse> other = generate();
  const absl::Duration other_took = absl::Now() - start;
  finder_thread.join();
  ASSERT_TRUE(other.has_value());
  EXPECT_EQ(other->status, 200) << other->body;
  EXPECT_LT(other_took, absl::Seconds(2)) << "held up behind the JWKS read on the one REST loop";
  ASSERT_TRUE(finder.has_value());
  EXPECT_EQ(finder->status, 200) << finder->body;
  EXPECT_GE(finder_took, kSlowRead - absl::Milliseconds(500)) << "the call that found the keys due did not read";
}

}  // namespace
}  // namespace edgepass
