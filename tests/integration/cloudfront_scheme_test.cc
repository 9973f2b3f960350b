// CloudFront signed URLs and cookies as asset schemes on a real
// edgepass-server: keys put into the secrets store (KeyService), assets of
// both CloudFront schemes, issued over gRPC and REST and checked with core's
// CloudFrontVerifier using the returned public key. Label: integration.
#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "core/cloudfront_signer.h"
#include "core/cloudfront_test_keys_internal.h"
#include "core/cloudfront_verifier.h"
#include "edgepass/v1/catalog.grpc.pb.h"
#include "edgepass/v1/keys.grpc.pb.h"
#include "edgepass/v1/playback.grpc.pb.h"
#include "gtest/gtest.h"
#include "http/http_test_client.h"
#include "nlohmann/json.hpp"
#include "tests/integration/server_process.h"
#include "tests/support/test_process.h"

namespace edgepass {
namespace {

using ::edgepass::core::testing::GenerateEcPrivateKeyPem;
using ::edgepass::core::testing::RsaPrivateKeyPem;
using ::edgepass::http::testing::TestConnection;
using ::edgepass::http::testing::TestResponse;
using ::edgepass::testing::ServerProcess;
using ::edgepass::testing::TempDir;

class CloudFrontSchemeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    work_ = new TempDir();
    server_ = new ServerProcess(work_->path(), work_->path() + "/data");
    ASSERT_TRUE(server_->WaitUntilServing());
    std::vector<std::string> parts = absl::StrSplit(server_->rest_address(), ':');
    int port = 0;
    ASSERT_TRUE(parts.size() == 2 && absl::SimpleAtoi(parts[1], &port)) << server_->rest_address();
    rest_port_ = static_cast<uint16_t>(port);
  }
  static void TearDownTestSuite() {
    delete server_;
    delete work_;
  }

  static std::string KeysFile() { return work_->path() + "/data/cloudfront_keys.json"; }

  static grpc::Status PutKey(const std::string& id, const std::string& pem, v1::CloudFrontKey* out) {
    auto stub = v1::KeyService::NewStub(server_->channel());
    v1::PutCloudFrontKeyRequest q;
    q.set_key_pair_id(id);
    q.set_private_key_pem(pem);
    return stub->PutCloudFrontKey(testing::Context().get(), q, out);
  }

  static std::optional<TestResponse> Rest(const std::string& method, const std::string& target,
                                          const std::string& body) {
    auto conn = TestConnection::Connect(rest_port_);
    if (conn == nullptr) return std::nullopt;
    conn->Send(absl::StrCat(method, " ", target,
                            " HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Type: application/json\r\n",
                            "Content-Length: ", body.size(), "\r\n\r\n", body));
    return conn->ReadResponse();
  }

  static TempDir* work_;
  static ServerProcess* server_;
  static uint16_t rest_port_;
};

TempDir* CloudFrontSchemeTest::work_ = nullptr;
ServerProcess* CloudFrontSchemeTest::server_ = nullptr;
uint16_t CloudFrontSchemeTest::rest_port_ = 0;

TEST_F(CloudFrontSchemeTest, PutKeyReturnsThePublicKeyOnly) {
  v1::CloudFrontKey key;
  grpc::Status s = PutKey("KPUT1", RsaPrivateKeyPem(), &key);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(key.key_pair_id(), "KPUT1");
  EXPECT_EQ(key.public_key_pem(), core::CloudFrontSigner::Create("KPUT1", RsaPrivateKeyPem())->PublicKeyPem());
  EXPECT_TRUE(absl::StartsWith(key.public_key_pem(), "-----BEGIN PUBLIC KEY-----"));
  // Stored in the secrets file of the data dir, never in the catalog.
  EXPECT_NE(testing::ReadFileOrEmpty(KeysFile()).find("KPUT1"), std::string::npos);
  EXPECT_EQ(testing::ReadFileOrEmpty(work_->path() + "/data/catalog.json").find("PRIVATE KEY"), std::string::npos);

  // The REST route: PUT /v1/cloudfront-keys/{key_pair_id}.
  std::optional<TestResponse> r = Rest("PUT", "/v1/cloudfront-keys/KPUT2",
                                       nlohmann::json({{"privateKeyPem", RsaPrivateKeyPem()}}).dump());
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(r->status, 200) << r->body;
  nlohmann::json reply = nlohmann::json::parse(r->body);
  EXPECT_EQ(reply["keyPairId"], "KPUT2");
  EXPECT_EQ(reply["publicKeyPem"], key.public_key_pem());
  EXPECT_EQ(r->body.find("PRIVATE"), std::string::npos);
}

TEST_F(CloudFrontSchemeTest, BadKeysAreRefusedNamingTheFieldAndNothingIsStored) {
  v1::CloudFrontKey key;
  ASSERT_TRUE(PutKey("KBASE", RsaPrivateKeyPem(), &key).ok());
  const std::string before = testing::ReadFileOrEmpty(KeysFile());
  ASSERT_FALSE(before.empty());
  struct Case {
    std::string id, pem, field;
  } cases[] = {
      {"KBAD1", "-----BEGIN PRIVATE KEY-----\nnot base64\n-----END PRIVATE KEY-----\n", "private_key_pem: "},
      {"KBAD2", "hello", "private_key_pem: "},
      {"KBAD3", GenerateEcPrivateKeyPem(), "private_key_pem: "},
      {"bad-id", RsaPrivateKeyPem(), "key_pair_id: "},
      {"", RsaPrivateKeyPem(), "key_pair_id: "},
      {"KBAD4", "", "private_key_pem: "},
  };
  for (const Case& c : cases) {
    grpc::Status s = PutKey(c.id, c.pem, &key);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << c.id;
    EXPECT_TRUE(absl::StartsWith(s.error_message(), c.field)) << c.id << ": " << s.error_message();
    EXPECT_EQ(s.error_message().find("MII"), std::string::npos) << "key material in: " << s.error_message();
  }
  std::optional<TestResponse> r = Rest("PUT", "/v1/cloudfront-keys/KBAD5",
                                       nlohmann::json({{"privateKeyPem", GenerateEcPrivateKeyPem()}}).dump());
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(nlohmann::json::parse(r->body)["error"]["field"], "private_key_pem") << r->body;
  EXPECT_EQ(testing::ReadFileOrEmpty(KeysFile()), before);
}

v1::Asset CloudFrontAsset(const std::string& id, const std::string& scheme, const std::string& key_pair_id,
                          bool bind_ip) {
  v1::Asset a;
  a.set_id(id);
  a.set_hostname("d1.cloudfront.net");
  a.set_url_path("/movie/index.m3u8");
  a.set_scheme(scheme);
  a.set_cloudfront_key_pair_id(key_pair_id);
  a.mutable_inline_policy()->add_paths("/movie/");
  a.mutable_inline_policy()->set_exp("+1h");
  a.mutable_inline_policy()->set_ip(bind_ip);
  return a;
}

grpc::Status PutAsset(const std::shared_ptr<grpc::Channel>& channel, const v1::Asset& asset) {
  auto stub = v1::CatalogService::NewStub(channel);
  v1::PutAssetRequest q;
  *q.mutable_asset() = asset;
  v1::Asset r;
  return stub->PutAsset(testing::Context().get(), q, &r);
}

grpc::Status Issue(const std::shared_ptr<grpc::Channel>& channel, const std::string& id, const std::string& ip,
                   v1::IssuePlaybackResponse* out) {
  auto stub = v1::PlaybackService::NewStub(channel);
  v1::IssuePlaybackRequest q;
  q.set_asset_id(id);
  q.mutable_viewer()->set_ip(ip);
  // A put asset reaches the replica's in-memory catalog asynchronously.
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  for (;;) {
    out->Clear();
    grpc::Status s = stub->IssuePlayback(testing::Context().get(), q, out);
    if (s.error_code() != grpc::StatusCode::NOT_FOUND || absl::Now() > deadline) return s;
    absl::SleepFor(absl::Milliseconds(20));
  }
}

// "name=value; name=value" as a browser sends the cookies back.
std::string CookieHeader(const google::protobuf::RepeatedPtrField<v1::Cookie>& cookies) {
  std::string header;
  for (const v1::Cookie& c : cookies) absl::StrAppend(&header, header.empty() ? "" : "; ", c.name(), "=", c.value());
  return header;
}

TEST_F(CloudFrontSchemeTest, SignedUrlOverGrpcAndRestVerifiesWithThePublicKey) {
  v1::CloudFrontKey key;
  ASSERT_TRUE(PutKey("KURL", RsaPrivateKeyPem(), &key).ok());
  core::CloudFrontPublicKeys trusted;
  ASSERT_TRUE(trusted.Add("KURL", key.public_key_pem()).ok());
  grpc::Status s = PutAsset(server_->channel(), CloudFrontAsset("cf_url", "cloudfront-url", "KURL", true));
  ASSERT_TRUE(s.ok()) << s.error_message();

  v1::IssuePlaybackResponse reply;
  s = Issue(server_->channel(), "cf_url", "192.0.2.7", &reply);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(reply.scheme(), "cloudfront-url");
  EXPECT_TRUE(reply.token().empty());
  EXPECT_EQ(reply.cookies_size(), 0);
  EXPECT_TRUE(absl::StartsWith(reply.playback_url(), "https://d1.cloudfront.net/movie/index.m3u8?Policy="))
      << reply.playback_url();
  EXPECT_NE(reply.playback_url().find("&Key-Pair-Id=KURL&Signature="), std::string::npos);
  const absl::Time now = absl::Now();
  EXPECT_LE(absl::FromUnixSeconds(reply.expires_at().seconds()) - now, absl::Hours(1) + absl::Seconds(2));
  core::CloudFrontDecision d =
      core::VerifyCloudFrontSignedUrl({.url = reply.playback_url(), .client_ip = "192.0.2.7"}, trusted, now);
  EXPECT_TRUE(d.allow) << core::CloudFrontReasonName(d.reason);
  // The IP binding holds: another viewer's address is refused.
  d = core::VerifyCloudFrontSignedUrl({.url = reply.playback_url(), .client_ip = "192.0.2.8"}, trusted, now);
  EXPECT_EQ(d.reason, core::CloudFrontReason::kIpOutsideRange);

  // REST, and SMD's route (the viewer is the connection's address).
  std::optional<TestResponse> r = Rest("POST", "/v1/assets/cf_url/playback", R"({"viewer":{"ip":"192.0.2.9"}})");
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(r->status, 200) << r->body;
  nlohmann::json body = nlohmann::json::parse(r->body);
  EXPECT_EQ(body["scheme"], "cloudfront-url");
  EXPECT_EQ(r->Header("set-cookie"), nullptr);
  EXPECT_TRUE(core::VerifyCloudFrontSignedUrl({.url = body["playbackUrl"].get<std::string>(), .client_ip = "192.0.2.9"},
                                              trusted, absl::Now())
                  .allow);
  r = Rest("GET", "/tokengenerate?id=cf_url", "");
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_TRUE(core::VerifyCloudFrontSignedUrl(
                  {.url = nlohmann::json::parse(r->body)["playback_url"].get<std::string>(), .client_ip = "127.0.0.1"},
                  trusted, absl::Now())
                  .allow)
      << r->body;
}

TEST_F(CloudFrontSchemeTest, SignedCookiesOverGrpcAndRestVerifyWithThePublicKey) {
  v1::CloudFrontKey key;
  ASSERT_TRUE(PutKey("KCOOKIE", RsaPrivateKeyPem(), &key).ok());
  core::CloudFrontPublicKeys trusted;
  ASSERT_TRUE(trusted.Add("KCOOKIE", key.public_key_pem()).ok());
  v1::Asset asset = CloudFrontAsset("cf_cookie", "cloudfront-cookie", "KCOOKIE", false);
  asset.set_cookie_domain("d1.cloudfront.net");
  grpc::Status s = PutAsset(server_->channel(), asset);
  ASSERT_TRUE(s.ok()) << s.error_message();

  v1::IssuePlaybackResponse reply;
  s = Issue(server_->channel(), "cf_cookie", "192.0.2.7", &reply);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(reply.scheme(), "cloudfront-cookie");
  EXPECT_EQ(reply.playback_url(), "https://d1.cloudfront.net/movie/index.m3u8");  // unsigned
  EXPECT_TRUE(reply.token().empty());
  ASSERT_EQ(reply.cookies_size(), 3);
  for (const v1::Cookie& c : reply.cookies()) {
    EXPECT_TRUE(absl::StartsWith(c.set_cookie(), absl::StrCat(c.name(), "=", c.value(), "; ")));
    for (const char* attribute : {"; Domain=d1.cloudfront.net", "; Path=/movie/", "; Expires=", "; Secure",
                                  "; HttpOnly", "; SameSite=Lax"}) {
      EXPECT_NE(c.set_cookie().find(attribute), std::string::npos) << c.set_cookie();
    }
  }
  const std::string cookies = CookieHeader(reply.cookies());
  const absl::Time now = absl::Now();
  // The cookies open the manifest and every segment under the policy's path.
  for (const char* url : {"https://d1.cloudfront.net/movie/index.m3u8", "https://d1.cloudfront.net/movie/hd/seg-1.ts"}) {
    core::CloudFrontDecision d = core::VerifyCloudFrontSignedCookies({.url = url, .cookie_header = cookies}, trusted, now);
    EXPECT_TRUE(d.allow) << url << ": " << core::CloudFrontReasonName(d.reason);
  }
  EXPECT_EQ(core::VerifyCloudFrontSignedCookies(
                {.url = "https://d1.cloudfront.net/other/index.m3u8", .cookie_header = cookies}, trusted, now)
                .reason,
            core::CloudFrontReason::kResourceMismatch);

  // REST: one Set-Cookie header per cookie, as the gRPC reply's set_cookie.
  for (const std::string& target : {std::string("/v1/assets/cf_cookie/playback"), std::string("/tokengenerate?id=cf_cookie")}) {
    std::optional<TestResponse> r = target[1] == 'v' ? Rest("POST", target, "{}") : Rest("GET", target, "");
    ASSERT_TRUE(r.has_value());
    ASSERT_EQ(r->status, 200) << r->body;
    std::vector<std::string> set_cookies;
    for (const auto& [name, value] : r->headers) {
      if (absl::EqualsIgnoreCase(name, "set-cookie")) set_cookies.push_back(value);
    }
    ASSERT_EQ(set_cookies.size(), 3u) << target;
    std::string header;
    for (const std::string& sc : set_cookies) {
      EXPECT_NE(sc.find("; Path=/movie/; "), std::string::npos) << sc;
      absl::StrAppend(&header, header.empty() ? "" : "; ", sc.substr(0, sc.find(';')));
    }
    EXPECT_TRUE(core::VerifyCloudFrontSignedCookies(
                    {.url = "https://d1.cloudfront.net/movie/seg-2.ts", .cookie_header = header}, trusted, absl::Now())
                    .allow)
        << target;
  }
}

TEST_F(CloudFrontSchemeTest, AMissingKeyIsCheckedAtIssueTimeNotAtWriteTime) {
  // Keys and the catalog are written separately: the asset is accepted...
  grpc::Status s = PutAsset(server_->channel(), CloudFrontAsset("cf_nokey", "cloudfront-url", "KNOTPUT", false));
  ASSERT_TRUE(s.ok()) << s.error_message();
  // ...and issuing says what is missing.
  v1::IssuePlaybackResponse reply;
  s = Issue(server_->channel(), "cf_nokey", "192.0.2.7", &reply);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(s.error_message(), "cloudfront_key_pair_id: no such key in the secrets store");
  std::optional<TestResponse> r = Rest("POST", "/v1/assets/cf_nokey/playback", "{}");
  EXPECT_EQ(r->status, 412);
  EXPECT_EQ(nlohmann::json::parse(r->body)["error"]["field"], "cloudfront_key_pair_id");
  // Once the key is put, the same asset issues (this replica re-reads at once).
  v1::CloudFrontKey key;
  ASSERT_TRUE(PutKey("KNOTPUT", RsaPrivateKeyPem(), &key).ok());
  s = Issue(server_->channel(), "cf_nokey", "192.0.2.7", &reply);
  EXPECT_TRUE(s.ok()) << s.error_message();
}

TEST_F(CloudFrontSchemeTest, BadCatalogInputAndViewersAreRefusedNamingTheField) {
  v1::CloudFrontKey key;
  ASSERT_TRUE(PutKey("KBADIN", RsaPrivateKeyPem(), &key).ok());
  v1::Asset two_paths = CloudFrontAsset("cf_bad", "cloudfront-cookie", "KBADIN", false);
  two_paths.mutable_inline_policy()->add_paths("/other/");
  grpc::Status s = PutAsset(server_->channel(), two_paths);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StartsWith(s.error_message(), "asset.token_policy.paths: ")) << s.error_message();
  v1::Asset no_key = CloudFrontAsset("cf_bad", "cloudfront-url", "", false);
  s = PutAsset(server_->channel(), no_key);
  EXPECT_TRUE(absl::StartsWith(s.error_message(), "asset.cloudfront_key_pair_id: required")) << s.error_message();
  v1::Asset session = CloudFrontAsset("cf_bad", "cloudfront-url", "KBADIN", false);
  session.mutable_inline_policy()->set_ssn(true);
  s = PutAsset(server_->channel(), session);
  EXPECT_TRUE(absl::StartsWith(s.error_message(), "asset.token_policy.ssn: ")) << s.error_message();
  v1::Asset same_site = CloudFrontAsset("cf_bad", "cloudfront-cookie", "KBADIN", false);
  same_site.set_cookie_same_site("sometimes");
  s = PutAsset(server_->channel(), same_site);
  EXPECT_TRUE(absl::StartsWith(s.error_message(), "asset.cookie_same_site: ")) << s.error_message();
  auto catalog = v1::CatalogService::NewStub(server_->channel());
  v1::GetAssetRequest get;
  get.set_id("cf_bad");
  v1::Asset got;
  EXPECT_EQ(catalog->GetAsset(testing::Context().get(), get, &got).error_code(), grpc::StatusCode::NOT_FOUND);

  // An absolute expiry already past: refused when issuing, naming the field.
  v1::Asset past = CloudFrontAsset("cf_past", "cloudfront-url", "KBADIN", false);
  past.mutable_inline_policy()->set_exp("1000000000");
  ASSERT_TRUE(PutAsset(server_->channel(), past).ok());
  v1::IssuePlaybackResponse reply;
  s = Issue(server_->channel(), "cf_past", "192.0.2.7", &reply);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_TRUE(absl::StartsWith(s.error_message(), "token_policy.exp: ")) << s.error_message();
  // An IP binding needs an IPv4 viewer (CloudFront policies take IPv4 only).
  ASSERT_TRUE(PutAsset(server_->channel(), CloudFrontAsset("cf_ip", "cloudfront-url", "KBADIN", true)).ok());
  s = Issue(server_->channel(), "cf_ip", "2001:db8::1", &reply);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StartsWith(s.error_message(), "viewer.ip: ")) << s.error_message();
}

}  // namespace
}  // namespace edgepass
