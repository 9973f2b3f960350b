// The REST gateway and access control of a real edgepass-server: every RPC
// over gRPC and every REST route, called with no credentials and with an API
// key of each scope; SMD's playback API routes; hostile HTTP input.
// Label: integration.
#include <grpcpp/grpcpp.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "client/channel/grpc_channel_tls.h"
#include "core/random.h"
#include "edgepass/v1/catalog.grpc.pb.h"
#include "edgepass/v1/edge_sync.grpc.pb.h"
#include "edgepass/v1/keys.grpc.pb.h"
#include "edgepass/v1/playback.grpc.pb.h"
#include "edgepass/v1/session.grpc.pb.h"
#include "gtest/gtest.h"
#include "http/http_test_client.h"
#include "nlohmann/json.hpp"
#include "server/auth/access.h"
#include "tests/integration/server_process.h"
#include "tests/support/test_pki.h"
#include "tests/support/test_process.h"

namespace edgepass {
namespace {

using ::edgepass::http::testing::Fetch;
using ::edgepass::http::testing::TestConnection;
using ::edgepass::http::testing::TestResponse;
using ::edgepass::server::Scope;
using ::edgepass::testing::ServerProcess;
using ::edgepass::testing::TempDir;
using ::edgepass::testing::WriteFileOrDie;

// SMD's asset table item, as SMD's own sample stores it (DynamoDB JSON).
constexpr char kSmdAssets[] = R"([{"id":{"S":"smd1"},"url_path":{"S":"/out/v1/abc/index.m3u8"},
  "endpoint_hostname":{"S":"d1.cloudfront.net"},"token_policy":{"M":{"headers":{"L":[{"S":"user-agent"}]},
  "ssn":{"BOOL":true},"session_auto_generate":{"N":"12"},"paths":{"L":[{"S":"/out/v1/abc/"}]},
  "ip":{"BOOL":true},"co":{"BOOL":false},"exp":{"S":"+2h"}}}}])";

// In the order of server::Scope.
const std::vector<std::string> kScopeNames = {
    "issue", "revoke", "catalog", "keys", "edge-sync", "mint", "admin"};

class RestGatewayTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    work_ = new TempDir();
    core::SecureRandom random;
    std::string entries;
    for (int s = 0; s < server::kScopeCount; ++s) {
      absl::StatusOr<server::NewApiKey> key =
          server::MakeApiKey(absl::StrCat("key-", kScopeNames[s]), {static_cast<Scope>(s)}, random);
      keys_[kScopeNames[s]] = key->key;
      absl::StrAppend(&entries, s == 0 ? "" : ",", key->entry_json);
    }
    WriteFileOrDie(work_->path() + "/access.json", absl::StrCat(R"({"api_keys":[)", entries, "]}"));
    WriteFileOrDie(work_->path() + "/smd.json", kSmdAssets);
    server_ = new ServerProcess(
        work_->path(), work_->path() + "/data",
        {"--access-file", work_->path() + "/access.json", "--import-smd-assets", work_->path() + "/smd.json",
         "--rest-read-timeout", "1s", "--trusted-proxies", "10.0.0.0/8"});
    ASSERT_TRUE(server_->WaitUntilServing());
    std::vector<std::string> parts = absl::StrSplit(server_->rest_address(), ':');
    ASSERT_EQ(parts.size(), 2u) << server_->rest_address();
    int port = 0;
    ASSERT_TRUE(absl::SimpleAtoi(parts[1], &port));
    rest_port_ = static_cast<uint16_t>(port);
  }
  static void TearDownTestSuite() {
    delete server_;
    delete work_;
  }

  static std::optional<TestResponse> Call(const std::string& method, const std::string& target,
                                          const std::string& key = "", const std::string& body = "",
                                          std::vector<std::pair<std::string, std::string>> headers = {}) {
    if (!key.empty()) headers.emplace_back("Authorization", "Bearer " + key);
    if (body.empty()) return Fetch(rest_port_, method, target, headers);
    auto conn = TestConnection::Connect(rest_port_);
    std::string request = absl::StrCat(method, " ", target, " HTTP/1.1\r\nHost: t\r\nConnection: close\r\n");
    bool has_type = false;
    for (const auto& [n, v] : headers) {
      absl::StrAppend(&request, n, ": ", v, "\r\n");
      has_type = has_type || absl::EqualsIgnoreCase(n, "content-type");
    }
    if (!has_type) request += "Content-Type: application/json\r\n";
    absl::StrAppend(&request, "Content-Length: ", body.size(), "\r\n\r\n", body);
    conn->Send(request);
    return conn->ReadResponse();
  }

  static std::unique_ptr<grpc::ClientContext> Ctx(const std::string& key) {
    auto c = testing::Context();
    if (!key.empty()) c->AddMetadata("authorization", "Bearer " + key);
    return c;
  }

  static TempDir* work_;
  static ServerProcess* server_;
  static uint16_t rest_port_;
  static std::map<std::string, std::string> keys_;
};

TempDir* RestGatewayTest::work_ = nullptr;
ServerProcess* RestGatewayTest::server_ = nullptr;
uint16_t RestGatewayTest::rest_port_ = 0;
std::map<std::string, std::string> RestGatewayTest::keys_;

// One RPC, its scope, and its outcome when the caller may call it.
struct RpcCase {
  std::string name;
  std::string scope;
  grpc::StatusCode allowed;
  std::function<grpc::Status(grpc::ClientContext*)> call;
};

std::vector<RpcCase> AllRpcs(const std::shared_ptr<grpc::Channel>& ch) {
  auto playback = std::shared_ptr<v1::PlaybackService::Stub>(v1::PlaybackService::NewStub(ch));
  auto catalog = std::shared_ptr<v1::CatalogService::Stub>(v1::CatalogService::NewStub(ch));
  auto sessions = std::shared_ptr<v1::SessionService::Stub>(v1::SessionService::NewStub(ch));
  auto edge = std::shared_ptr<v1::EdgeSyncService::Stub>(v1::EdgeSyncService::NewStub(ch));
  auto keys = std::shared_ptr<v1::KeyService::Stub>(v1::KeyService::NewStub(ch));
  using grpc::StatusCode;
  return {
      {"IssuePlayback", "issue", StatusCode::OK,
       [=](grpc::ClientContext* c) {
         v1::IssuePlaybackRequest q;
         q.set_asset_id("1");
         v1::IssuePlaybackResponse r;
         return playback->IssuePlayback(c, q, &r);
       }},
      {"IssueToken", "mint",
       StatusCode::INVALID_ARGUMENT,  // no paths in the policy
       [=](grpc::ClientContext* c) {
         v1::IssueTokenRequest q;
         v1::IssueTokenResponse r;
         return playback->IssueToken(c, q, &r);
       }},
      {"PutAsset", "catalog", StatusCode::INVALID_ARGUMENT,
       [=](grpc::ClientContext* c) {
         v1::PutAssetRequest q;
         v1::Asset r;
         return catalog->PutAsset(c, q, &r);
       }},
      {"GetAsset", "catalog", StatusCode::OK,
       [=](grpc::ClientContext* c) {
         v1::GetAssetRequest q;
         q.set_id("1");
         v1::Asset r;
         return catalog->GetAsset(c, q, &r);
       }},
      {"ListAssets", "catalog", StatusCode::OK,
       [=](grpc::ClientContext* c) {
         v1::ListAssetsRequest q;
         v1::ListAssetsResponse r;
         return catalog->ListAssets(c, q, &r);
       }},
      {"DeleteAsset", "catalog", StatusCode::NOT_FOUND,
       [=](grpc::ClientContext* c) {
         v1::DeleteAssetRequest q;
         q.set_id("nope");
         google::protobuf::Empty r;
         return catalog->DeleteAsset(c, q, &r);
       }},
      {"PutPolicy", "catalog", StatusCode::INVALID_ARGUMENT,
       [=](grpc::ClientContext* c) {
         v1::PutPolicyRequest q;
         v1::NamedPolicy r;
         return catalog->PutPolicy(c, q, &r);
       }},
      {"GetPolicy", "catalog", StatusCode::OK,
       [=](grpc::ClientContext* c) {
         v1::GetPolicyRequest q;
         q.set_name("session-2h");
         v1::NamedPolicy r;
         return catalog->GetPolicy(c, q, &r);
       }},
      {"ListPolicies", "catalog", StatusCode::OK,
       [=](grpc::ClientContext* c) {
         v1::ListPoliciesRequest q;
         v1::ListPoliciesResponse r;
         return catalog->ListPolicies(c, q, &r);
       }},
      {"DeletePolicy", "catalog", StatusCode::NOT_FOUND,
       [=](grpc::ClientContext* c) {
         v1::DeletePolicyRequest q;
         q.set_name("nope");
         google::protobuf::Empty r;
         return catalog->DeletePolicy(c, q, &r);
       }},
      {"RevokeSession", "revoke", StatusCode::INVALID_ARGUMENT,
       [=](grpc::ClientContext* c) {
         v1::RevokeSessionRequest q;
         v1::RevokedSession r;
         return sessions->RevokeSession(c, q, &r);
       }},
      {"ReportSession", "revoke", StatusCode::INVALID_ARGUMENT,
       [=](grpc::ClientContext* c) {
         v1::ReportSessionRequest q;
         v1::RevokedSession r;
         return sessions->ReportSession(c, q, &r);
       }},
      {"ReportSessions", "revoke", StatusCode::INVALID_ARGUMENT,
       [=](grpc::ClientContext* c) {
         v1::ReportSessionsRequest q;
         v1::ReportSessionsResponse r;
         return sessions->ReportSessions(c, q, &r);
       }},
      {"ListRevokedSessions", "revoke", StatusCode::OK,
       [=](grpc::ClientContext* c) {
         v1::ListRevokedSessionsRequest q;
         v1::ListRevokedSessionsResponse r;
         return sessions->ListRevokedSessions(c, q, &r);
       }},
      {"RestoreSession", "revoke", StatusCode::INVALID_ARGUMENT,
       [=](grpc::ClientContext* c) {
         v1::RestoreSessionRequest q;
         google::protobuf::Empty r;
         return sessions->RestoreSession(c, q, &r);
       }},
      {"Subscribe", "edge-sync", StatusCode::OK,
       [=](grpc::ClientContext* c) {
         v1::SubscribeRequest q;
         q.set_validator_id("matrix-test");
         auto reader = edge->Subscribe(c, q);
         v1::EdgeUpdate update;
         if (reader->Read(&update)) {
           c->TryCancel();
           reader->Finish().IgnoreError();
           return grpc::Status::OK;
         }
         return reader->Finish();
       }},
      {"Acknowledge", "edge-sync", StatusCode::INVALID_ARGUMENT,
       [=](grpc::ClientContext* c) {
         v1::AcknowledgeRequest q;
         v1::AcknowledgeResponse r;
         return edge->Acknowledge(c, q, &r);
       }},
      {"ListValidators", "edge-sync", StatusCode::OK,
       [=](grpc::ClientContext* c) {
         v1::ListValidatorsRequest q;
         v1::ListValidatorsResponse r;
         return edge->ListValidators(c, q, &r);
       }},
      {"PutCloudFrontKey", "keys",
       StatusCode::INVALID_ARGUMENT,  // no key given
       [=](grpc::ClientContext* c) {
         v1::PutCloudFrontKeyRequest q;
         q.set_key_pair_id("KMATRIX");
         v1::CloudFrontKey r;
         return keys->PutCloudFrontKey(c, q, &r);
       }},
      {"RotateKeys", "keys", StatusCode::OK,  // no validator to wait for
       [=](grpc::ClientContext* c) {
         v1::RotateKeysRequest q;
         v1::RotateKeysResponse r;
         return keys->RotateKeys(c, q, &r);
       }},
      {"GetKeyStatus", "keys", StatusCode::OK,
       [=](grpc::ClientContext* c) {
         v1::GetKeyStatusRequest q;
         v1::KeyStatus r;
         return keys->GetKeyStatus(c, q, &r);
       }},
      {"RevokeKey", "keys", StatusCode::INVALID_ARGUMENT,  // no key id
       [=](grpc::ClientContext* c) {
         v1::RevokeKeyRequest q;
         v1::KeyStatus r;
         return keys->RevokeKey(c, q, &r);
       }},
  };
}

TEST_F(RestGatewayTest, GrpcAuthorizationMatrix) {
  for (const RpcCase& rpc : AllRpcs(server_->channel())) {
    EXPECT_EQ(rpc.call(Ctx("").get()).error_code(), grpc::StatusCode::UNAUTHENTICATED) << rpc.name;
    EXPECT_EQ(rpc.call(Ctx("ep_not-a-key-but-long-enough-to-look-like-one").get()).error_code(),
              grpc::StatusCode::UNAUTHENTICATED)
        << rpc.name;
    for (const std::string& scope : kScopeNames) {
      const bool may = scope == rpc.scope || scope == "admin";
      grpc::Status s = rpc.call(Ctx(keys_[scope]).get());
      EXPECT_EQ(s.error_code(), may ? rpc.allowed : grpc::StatusCode::PERMISSION_DENIED)
          << rpc.name << " with a key of scope " << scope << ": " << s.error_message();
      if (!may) EXPECT_EQ(s.error_message(), absl::StrCat("caller key-", scope, " lacks scope ", rpc.scope));
    }
  }
}

// One REST route, its scope, and its status when the caller may call it.
struct RouteCase {
  std::string method, target, body, scope;
  int allowed;
};

std::vector<RouteCase> AllRoutes() {
  return {
      {"POST", "/v1/assets/1/playback", "{}", "issue", 200},
      {"POST", "/v1/tokens", "{}", "mint", 400},
      {"PUT", "/v1/assets/x", "{}", "catalog", 400},
      {"GET", "/v1/assets/1", "", "catalog", 200},
      {"GET", "/v1/assets", "", "catalog", 200},
      {"DELETE", "/v1/assets/nope", "", "catalog", 404},
      {"PUT", "/v1/policies/p", "{}", "catalog", 400},
      {"GET", "/v1/policies/session-2h", "", "catalog", 200},
      {"GET", "/v1/policies", "", "catalog", 200},
      {"DELETE", "/v1/policies/nope", "", "catalog", 404},
      {"POST", "/v1/sessions/s1/revoke",
       "{\"expiresAt\":\"2000-01-01T00:00:00Z\"}", "revoke", 400},
      {"POST", "/v1/sessions/s1/report", "{\"score\":-1}", "revoke", 400},
      {"POST", "/v1/sessions:report", "{\"sessions\":[{\"sessionId\":\"s1\",\"score\":-1}]}", "revoke", 400},
      {"POST", "/v1/sessions/never-revoked/restore", "{}", "revoke", 404},
      {"GET", "/v1/revoked-sessions", "", "revoke", 200},
      {"POST", "/v1/validators/v1/ack", "{}", "edge-sync",
       404},  // not subscribed
      {"GET", "/v1/validators", "", "edge-sync", 200},
      {"PUT", "/v1/cloudfront-keys/KMATRIX",
       "{\"privateKeyPem\":\"not a key\"}", "keys", 400},
      {"GET", "/tokengenerate?id=smd1", "", "issue", 200},
      {"POST", "/sessionrevoke?sessionid=matrix_session", "", "revoke", 200},
  };
}

TEST_F(RestGatewayTest, RestAuthorizationMatrix) {
  const std::vector<RouteCase> routes = AllRoutes();
  for (const RouteCase& r : routes) {
    std::optional<TestResponse> none = Call(r.method, r.target, "", r.body);
    ASSERT_TRUE(none.has_value()) << r.target;
    EXPECT_EQ(none->status, 401) << r.method << " " << r.target << ": " << none->body;
    EXPECT_NE(none->Header("www-authenticate"), nullptr);
    for (const std::string& scope : kScopeNames) {
      const bool may = scope == r.scope || scope == "admin";
      std::optional<TestResponse> got = Call(r.method, r.target, keys_[scope], r.body);
      ASSERT_TRUE(got.has_value());
      EXPECT_EQ(got->status, may ? r.allowed : 403)
          << r.method << " " << r.target << " with a key of scope " << scope << ": " << got->body;
      if (got->status >= 400) {
        nlohmann::json body = nlohmann::json::parse(got->body, nullptr, false);
        EXPECT_TRUE(body.contains("error")) << got->body;
      }
    }
  }
}

TEST_F(RestGatewayTest, CatalogRoundTripInCanonicalJson) {
  const std::string key = keys_["catalog"];
  std::optional<TestResponse> put = Call(
      "PUT", "/v1/policies/rest-policy", key,
      R"({"name":"ignored-by-path","policy":{"paths":["/rest/"],"exp":"+10m","ssn":true}})");
  ASSERT_TRUE(put.has_value());
  EXPECT_EQ(put->status, 200) << put->body;
  put = Call("PUT", "/v1/assets/rest-asset", key,
             R"({"hostname":"cdn.example.com","urlPath":"/rest/index.m3u8","policyName":"rest-policy"})");
  ASSERT_EQ(put->status, 200) << put->body;
  nlohmann::json asset = nlohmann::json::parse(Call("GET", "/v1/assets/rest-asset", key)->body);
  EXPECT_EQ(asset["id"], "rest-asset");
  EXPECT_EQ(asset["urlPath"], "/rest/index.m3u8");
  EXPECT_EQ(asset["policyName"], "rest-policy");

  // A bad write names the field and leaves the stored asset as it was.
  std::optional<TestResponse> bad =
      Call("PUT", "/v1/assets/rest-asset", key,
           R"({"hostname":"cdn.example.com","urlPath":"no-slash","policyName":"rest-policy"})");
  EXPECT_EQ(bad->status, 400);
  nlohmann::json error = nlohmann::json::parse(bad->body)["error"];
  EXPECT_EQ(error["code"], "INVALID_ARGUMENT");
  EXPECT_EQ(error["field"], "asset.url_path") << bad->body;
  EXPECT_EQ(nlohmann::json::parse(Call("GET", "/v1/assets/rest-asset", key)->body), asset);

  nlohmann::json list = nlohmann::json::parse(Call("GET", "/v1/assets?page_size=1", key)->body);
  EXPECT_EQ(list["assets"].size(), 1u);
  EXPECT_FALSE(list["nextPageToken"].get<std::string>().empty());
  EXPECT_EQ(Call("GET", "/v1/assets?bogus=1", key)->status, 400);
  EXPECT_EQ(Call("DELETE", "/v1/assets/rest-asset", key)->status, 200);
  EXPECT_EQ(Call("GET", "/v1/assets/rest-asset", key)->status, 404);
}

TEST_F(RestGatewayTest, IssueRevokeRestoreOverRest) {
  std::optional<TestResponse> issued =
      Call("POST", "/v1/assets/1/playback", keys_["issue"], R"({"viewer":{"ip":"192.0.2.7"}})");
  ASSERT_EQ(issued->status, 200) << issued->body;
  nlohmann::json reply = nlohmann::json::parse(issued->body);
  const std::string session = reply["sessionId"];
  EXPECT_FALSE(session.empty());
  EXPECT_NE(reply["playbackUrl"].get<std::string>().find("https://cdn.example.com/"), std::string::npos);
  ASSERT_NE(issued->Header("x-request-id"), nullptr);

  std::optional<TestResponse> revoked = Call("POST", absl::StrCat("/v1/sessions/", session, "/revoke"),
                                             keys_["revoke"], R"({"reason":"shared link"})");
  ASSERT_EQ(revoked->status, 200) << revoked->body;
  EXPECT_EQ(nlohmann::json::parse(revoked->body)["type"], "MANUAL");
  nlohmann::json list = nlohmann::json::parse(Call("GET", "/v1/revoked-sessions", keys_["revoke"])->body);
  bool found = false;
  for (const auto& s : list["sessions"]) found = found || s["sessionId"] == session;
  EXPECT_TRUE(found) << list.dump();
  EXPECT_EQ(Call("POST", absl::StrCat("/v1/sessions/", session, "/restore"), keys_["revoke"], "{}")->status, 200);
}

// More revoked sessions than a page holds: both transports page through them
// (default and chosen sizes, both orders) while revokes and restores happen,
// and a bad token is refused naming page_token. Runs after the tests above
// that list the whole list in one page.
TEST_F(RestGatewayTest, RevokedSessionsComeInPagesOverGrpcAndRest) {
  auto sessions = v1::SessionService::NewStub(server_->channel());
  const std::string key = keys_["revoke"];
  v1::ReportSessionsRequest report;
  for (int i = 0; i < 1000; ++i) {
    v1::ReportSessionRequest* s = report.add_sessions();
    s->set_session_id(absl::StrFormat("page%04d", i));
    s->set_score(2.5 + i % 13);
  }
  v1::ReportSessionsResponse reported;
  ASSERT_TRUE(sessions->ReportSessions(Ctx(key).get(), report, &reported).ok());
  report.Clear();
  for (int i = 1000; i < 1200; ++i) {
    v1::ReportSessionRequest* s = report.add_sessions();
    s->set_session_id(absl::StrFormat("page%04d", i));
    s->set_score(3);
  }
  ASSERT_TRUE(sessions->ReportSessions(Ctx(key).get(), report, &reported).ok());

  // gRPC, default page size, both orders; a revoke and a restore of a listed
  // entry after each page.
  std::set<std::string> restored;
  for (bool compiled : {false, true}) {
    const std::set<std::string> gone = restored;  // before this listing
    std::map<std::string, int> seen;
    std::vector<int> sizes;
    v1::ListRevokedSessionsRequest q;
    q.set_compiled(compiled);
    do {
      v1::ListRevokedSessionsResponse page;
      grpc::Status s = sessions->ListRevokedSessions(Ctx(key).get(), q, &page);
      ASSERT_TRUE(s.ok()) << s.error_message();
      sizes.push_back(page.sessions_size());
      for (const v1::RevokedSession& e : page.sessions()) ++seen[e.session_id()];
      q.set_page_token(page.next_page_token());
      v1::RevokeSessionRequest revoke;
      revoke.set_session_id(absl::StrCat("late", compiled ? "c" : "s", sizes.size()));
      v1::RevokedSession revoked;
      ASSERT_TRUE(sessions->RevokeSession(Ctx(key).get(), revoke, &revoked).ok());
      if (!page.sessions().empty()) {
        v1::RestoreSessionRequest restore;
        restore.set_session_id(page.sessions(0).session_id());
        google::protobuf::Empty empty;
        ASSERT_TRUE(sessions->RestoreSession(Ctx(key).get(), restore, &empty).ok());
        restored.insert(restore.session_id());
      }
    } while (!q.page_token().empty());
    ASSERT_GE(sizes.size(), 3u) << compiled;
    EXPECT_EQ(sizes[0], 500);
    EXPECT_EQ(sizes[1], 500);
    for (int i = 0; i < 1200; ++i) {  // on the list for the whole listing: listed once
      const std::string id = absl::StrFormat("page%04d", i);
      if (gone.count(id) == 0) EXPECT_EQ(seen[id], 1) << id << " compiled=" << compiled;
    }
    for (const auto& [id, n] : seen) EXPECT_EQ(n, 1) << id << " listed twice, compiled=" << compiled;
  }

  // A size above the maximum is the maximum.
  v1::ListRevokedSessionsRequest big;
  big.set_page_size(5000);
  v1::ListRevokedSessionsResponse page;
  ASSERT_TRUE(sessions->ListRevokedSessions(Ctx(key).get(), big, &page).ok());
  EXPECT_EQ(page.sessions_size(), 1000);
  EXPECT_FALSE(page.next_page_token().empty());

  // Bad tokens: INVALID_ARGUMENT naming page_token; one of the other order too.
  for (const std::string bad : {std::string("not-a-token"), std::string(400, 'A'), page.next_page_token()}) {
    v1::ListRevokedSessionsRequest q;
    q.set_page_token(bad);
    q.set_compiled(bad == page.next_page_token());
    v1::ListRevokedSessionsResponse r;
    grpc::Status s = sessions->ListRevokedSessions(Ctx(key).get(), q, &r);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << bad;
    EXPECT_TRUE(absl::StartsWith(s.error_message(), "page_token: ")) << s.error_message();
  }

  // REST: the same pages by query parameters.
  std::map<std::string, int> seen;
  std::string token;
  int pages = 0;
  do {
    std::optional<TestResponse> got =
        Call("GET", absl::StrCat("/v1/revoked-sessions?page_size=400&page_token=", token), key);
    ASSERT_TRUE(got.has_value());
    ASSERT_EQ(got->status, 200) << got->body;
    nlohmann::json body = nlohmann::json::parse(got->body);
    EXPECT_LE(body["sessions"].size(), 400u);
    for (const auto& s : body["sessions"]) ++seen[s["sessionId"].get<std::string>()];
    token = body.value("nextPageToken", "");
    ++pages;
  } while (!token.empty());
  EXPECT_GE(pages, 3);
  for (int i = 0; i < 1200; ++i) {
    const std::string id = absl::StrFormat("page%04d", i);
    if (restored.count(id) == 0) EXPECT_EQ(seen[id], 1) << id << " over REST";
  }
  for (const auto& [id, n] : seen) EXPECT_EQ(n, 1) << id;

  std::optional<TestResponse> bad = Call("GET", "/v1/revoked-sessions?page_token=bogus", key);
  ASSERT_TRUE(bad.has_value());
  EXPECT_EQ(bad->status, 400) << bad->body;
  nlohmann::json error = nlohmann::json::parse(bad->body)["error"];
  EXPECT_EQ(error["code"], "INVALID_ARGUMENT");
  EXPECT_EQ(error["field"], "page_token") << bad->body;
  bad = Call("GET", "/v1/revoked-sessions?page_size=-1", key);
  EXPECT_EQ(bad->status, 400) << bad->body;
  EXPECT_EQ(nlohmann::json::parse(bad->body)["error"]["field"], "page_size") << bad->body;
}

TEST_F(RestGatewayTest, SmdTokenGenerateAnswersLikeSmd) {
  std::optional<TestResponse> r =
      Call("GET", "/tokengenerate?id=smd1", keys_["issue"], "", {{"User-Agent", "smd-player/1.0"}});
  ASSERT_EQ(r->status, 200) << r->body;
  nlohmann::json body = nlohmann::json::parse(r->body);
  const std::string url = body["playback_url"];
  EXPECT_EQ(url.find("https://d1.cloudfront.net/"), 0u) << url;
  EXPECT_NE(url.find("/out/v1/abc/index.m3u8"), std::string::npos);
  // SMD's token_policy summary: which viewer attributes the token binds.
  EXPECT_EQ(body["token_policy"], nlohmann::json::parse(R"({"ip":1,"ip_value":"127.0.0.1","ua":1,
      "ua_value":"smd-player/1.0","referer":0})"));
  EXPECT_EQ(body.size(), 2u);

  // Errors as SMD: 400 for a missing or malformed id, 404 for an unknown asset.
  // Malformed is the catalog's asset id rule, so an id the catalog may hold
  // ("a-b") is looked up, and one it may not is refused by name.
  EXPECT_EQ(Call("GET", "/tokengenerate", keys_["issue"])->status, 400);
  std::optional<TestResponse> bad = Call("GET", "/tokengenerate?id=a/b", keys_["issue"]);
  EXPECT_EQ(bad->status, 400);
  EXPECT_EQ(nlohmann::json::parse(bad->body)["error"]["message"],
            "id: must be 1-128 characters of [A-Za-z0-9._:-]")
      << bad->body;
  EXPECT_EQ(Call("GET", "/tokengenerate?id=" + std::string(129, 'a'), keys_["issue"])->status, 400);
  EXPECT_EQ(Call("GET", "/tokengenerate?id=a-b", keys_["issue"])->status, 404);
  EXPECT_EQ(Call("GET", "/tokengenerate?id=unknown", keys_["issue"])->status, 404);
  EXPECT_EQ(Call("POST", "/tokengenerate?id=smd1", keys_["issue"])->status, 405);
}

TEST_F(RestGatewayTest, ViewerAddressFromTrustedProxiesOnly) {
  // 127.0.0.1 is not a trusted proxy here: its forwarding headers are ignored.
  std::optional<TestResponse> r = Call("GET", "/tokengenerate?id=smd1", keys_["issue"], "",
                                       {{"X-Forwarded-For", "198.51.100.9"},
                                        {"CloudFront-Viewer-Address", "198.51.100.10:443"}});
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(nlohmann::json::parse(r->body)["token_policy"]["ip_value"], "127.0.0.1");
}

TEST_F(RestGatewayTest, SmdSessionRevoke) {
  std::optional<TestResponse> r = Call("POST", "/sessionrevoke?sessionid=abc_123", keys_["revoke"]);
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "Session submitted to the revocation list");
  EXPECT_EQ(Call("POST", "/sessionrevoke", keys_["revoke"])->status, 400);
  EXPECT_EQ(Call("POST", "/sessionrevoke?sessionid=a/b", keys_["revoke"])->status, 400);
  EXPECT_EQ(Call("POST", "/sessionrevoke?sessionid=" + std::string(65, 'a'), keys_["revoke"])->status, 400);
  // Any session id the issuer takes from a viewer can be revoked here, the
  // same as through RevokeSession.
  r = Call("POST", "/sessionrevoke?sessionid=viewer-chosen_1", keys_["revoke"]);
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(Call("GET", "/sessionrevoke?sessionid=abc", keys_["revoke"])->status, 405);
}

TEST_F(RestGatewayTest, HostileInputGets4xxAndServerKeepsServing) {
  const std::string key = keys_["catalog"];
  // Invalid JSON, unknown field, wrong type: 400 naming the problem.
  for (const std::string& body : {std::string("{"), std::string(R"({"nope":1})"), std::string(R"({"urlPath":7})")}) {
    std::optional<TestResponse> r = Call("PUT", "/v1/assets/x", key, body);
    EXPECT_EQ(r->status, 400) << body;
    EXPECT_NE(r->body.find("INVALID_ARGUMENT"), std::string::npos) << r->body;
  }
  // Wrong content type.
  EXPECT_EQ(Call("PUT", "/v1/assets/x", key, "{}", {{"Content-Type", "text/plain"}})->status, 415);
  // Path traversal never reaches a handler.
  for (const std::string& target : {"/v1/assets/..", "/v1/assets/%2e%2e", "/v1/assets/a%2Fb",
                                    "/v1/../v1/assets", "/v1/assets/1/../../policies"}) {
    std::optional<TestResponse> r = Call("GET", target, key);
    EXPECT_EQ(r->status, 404) << target;
  }
  // Oversized body and headers.
  std::optional<TestResponse> big = Call("PUT", "/v1/assets/x", key, std::string(2 * 1024 * 1024, ' '));
  if (big.has_value()) EXPECT_EQ(big->status, 413);
  std::optional<TestResponse> huge_header =
      Call("GET", "/v1/assets", key, "", {{"X-Filler", std::string(64 * 1024, 'a')}});
  ASSERT_TRUE(huge_header.has_value());
  EXPECT_EQ(huge_header->status, 431);
  // A slow client (slowloris) is dropped after the read timeout (1 s here)
  // while another client is served meanwhile.
  auto slow = TestConnection::Connect(rest_port_);
  ASSERT_TRUE(slow->Send("GET /v1/assets HTTP/1.1\r\nHost: t\r\nX-Slow: "));
  EXPECT_EQ(Call("GET", "/v1/assets", key)->status, 200);
  EXPECT_TRUE(slow->WaitForClose(absl::Seconds(5)));
  EXPECT_EQ(Call("GET", "/v1/assets/1", key)->status, 200);
  EXPECT_EQ(Call("GET", "/v1/nothing-here", key)->status, 404);
  EXPECT_EQ(Call("PATCH", "/v1/assets/1", key)->status, 405);
}

TEST_F(RestGatewayTest, MintingNeedsItsOwnScope) {
  // An inline policy is whatever the caller writes: `issue` (catalog
  // policies only) does not include it, `mint` and `admin` do.
  const std::string body = R"({"policy":{"paths":["/mint/"],"exp":"+10m"}})";
  std::optional<TestResponse> issue =
      Call("POST", "/v1/tokens", keys_["issue"], body);
  ASSERT_TRUE(issue.has_value());
  EXPECT_EQ(issue->status, 403) << issue->body;
  EXPECT_EQ(nlohmann::json::parse(issue->body)["error"]["message"],
            "caller key-issue lacks scope mint");
  for (const std::string scope : {"mint", "admin"}) {
    std::optional<TestResponse> minted =
        Call("POST", "/v1/tokens", keys_[scope], body);
    ASSERT_TRUE(minted.has_value());
    EXPECT_EQ(minted->status, 200) << scope << ": " << minted->body;
  }
  // And `mint` is no playback scope.
  EXPECT_EQ(Call("GET", "/tokengenerate?id=smd1", keys_["mint"])->status, 403);
  EXPECT_EQ(Call("POST", "/v1/assets/1/playback", keys_["mint"], "{}")->status,
            403);
}

// A server whose loopback peers are trusted proxies (as nginx in front of it
// would be), with 10.0.0.0/8 as the fleet's own proxies.
class ForwardedForTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    work_ = new TempDir();
    WriteFileOrDie(work_->path() + "/smd.json", kSmdAssets);
    server_ =
        new ServerProcess(work_->path(), work_->path() + "/data",
                          {"--import-smd-assets", work_->path() + "/smd.json",
                           "--trusted-proxies", "127.0.0.0/8,10.0.0.0/8"});
    ASSERT_TRUE(server_->WaitUntilServing());
    std::vector<std::string> parts =
        absl::StrSplit(server_->rest_address(), ':');
    int port = 0;
    ASSERT_TRUE(parts.size() == 2 && absl::SimpleAtoi(parts[1], &port))
        << server_->rest_address();
    rest_port_ = static_cast<uint16_t>(port);
  }
  static void TearDownTestSuite() {
    delete server_;
    delete work_;
  }
  // /tokengenerate for the SMD asset (binds the IP) with these headers.
  static std::optional<TestResponse> Generate(
      std::vector<std::pair<std::string, std::string>> headers) {
    return Fetch(rest_port_, "GET", "/tokengenerate?id=smd1", headers);
  }

  static TempDir* work_;
  static ServerProcess* server_;
  static uint16_t rest_port_;
};

TempDir* ForwardedForTest::work_ = nullptr;
ServerProcess* ForwardedForTest::server_ = nullptr;
uint16_t ForwardedForTest::rest_port_ = 0;

TEST_F(ForwardedForTest, ViewerIsTheRightMostEntryThatIsNoTrustedProxy) {
  struct Case {
    std::vector<std::string> xff;  // one X-Forwarded-For field each
    std::string viewer;
  } cases[] = {
      {{}, "127.0.0.1"},
      // The viewer wrote the left-most entry; our proxy appended its address.
      {{"203.0.113.66, 198.51.100.9"}, "198.51.100.9"},
      {{"203.0.113.66, 198.51.100.9, 10.1.2.3"}, "198.51.100.9"},
      {{"203.0.113.66,198.51.100.9 , 10.1.2.3,127.0.0.9"}, "198.51.100.9"},
      {{"203.0.113.66", "198.51.100.9, 10.1.2.3"},
       "198.51.100.9"},                                // fields join in order
      {{"198.51.100.9, , 10.0.0.1"}, "198.51.100.9"},  // empty list elements
      {{"2001:db8::9, 10.0.0.1"}, "2001:db8::9"},
      // Left of the viewer is the viewer's own text: never read, even garbage.
      {{"not-an-address, 198.51.100.9, 10.0.0.1"}, "198.51.100.9"},
      // Every entry a trusted hop: the furthest one.
      {{"10.0.0.1, 10.0.0.2"}, "10.0.0.1"},
  };
  for (const Case& c : cases) {
    std::vector<std::pair<std::string, std::string>> headers;
    for (const std::string& field : c.xff)
      headers.emplace_back("X-Forwarded-For", field);
    std::optional<TestResponse> r = Generate(headers);
    ASSERT_TRUE(r.has_value());
    ASSERT_EQ(r->status, 200) << absl::StrJoin(c.xff, " | ") << ": " << r->body;
    nlohmann::json policy = nlohmann::json::parse(r->body)["token_policy"];
    EXPECT_EQ(policy["ip"], 1);
    EXPECT_EQ(policy["ip_value"], c.viewer) << absl::StrJoin(c.xff, " | ");
  }
}

TEST_F(ForwardedForTest, UnparsableEntryInTheTrustedChainIsRefused) {
  // A trusted hop appends the address it was connected from; anything else
  // where the walk reaches means the chain cannot be followed: 400, never a
  // guess (not the left-most entry, not the proxy's own address).
  for (const std::string xff :
       {"198.51.100.9, unknown", "198.51.100.9, 10.0.0.1:443",
        "198.51.100.9, [2001:db8::1]",
        "198.51.100.9, 10.0.0.1, garbage, 10.0.0.2"}) {
    std::optional<TestResponse> r = Generate({{"X-Forwarded-For", xff}});
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->status, 400) << xff << ": " << r->body;
    nlohmann::json error = nlohmann::json::parse(r->body, nullptr, false);
    ASSERT_TRUE(error.contains("error")) << r->body;
    EXPECT_EQ(error["error"]["field"], "x-forwarded-for") << r->body;
  }
}

// A trusted proxy that is not CloudFront passes the viewer's own
// CloudFront-Viewer-Address along: believing it would let the viewer pick the
// address its token binds, whatever X-Forwarded-For says.
TEST_F(ForwardedForTest, CloudFrontViewerAddressIgnoredWithoutTheSwitch) {
  std::optional<TestResponse> r =
      Generate({{"CloudFront-Viewer-Address", "198.51.100.7:1"},
                {"X-Forwarded-For", "198.51.100.9"}});
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(nlohmann::json::parse(r->body)["token_policy"]["ip_value"], "198.51.100.9");
  r = Generate({{"CloudFront-Viewer-Address", "198.51.100.7:1"}});
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(nlohmann::json::parse(r->body)["token_policy"]["ip_value"], "127.0.0.1");
}

// With --trust-cloudfront-headers the trusted proxies are CloudFront: its
// CloudFront-Viewer-Address wins, and must be IP:PORT.
TEST(ForwardedForCloudFront, ViewerAddressBelievedWithTheSwitch) {
  TempDir work;
  WriteFileOrDie(work.path() + "/smd.json", kSmdAssets);
  ServerProcess server(work.path(), work.path() + "/data",
                       {"--import-smd-assets", work.path() + "/smd.json", "--trusted-proxies",
                        "127.0.0.0/8", "--trust-cloudfront-headers"});
  ASSERT_TRUE(server.WaitUntilServing());
  const auto generate = [&](std::vector<std::pair<std::string, std::string>> headers) {
    return Fetch(server.rest_port(), "GET", "/tokengenerate?id=smd1", headers);
  };
  std::optional<TestResponse> r = generate({{"CloudFront-Viewer-Address", "198.51.100.7:1"},
                                            {"X-Forwarded-For", "198.51.100.9"}});
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(nlohmann::json::parse(r->body)["token_policy"]["ip_value"], "198.51.100.7");
  r = generate({{"CloudFront-Viewer-Address", "2001:db8::7:443"}});
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(nlohmann::json::parse(r->body)["token_policy"]["ip_value"], "2001:db8::7");
  for (const char* bad : {"198.51.100.7", "unknown:1", "[2001:db8::7]:443"}) {
    r = generate({{"CloudFront-Viewer-Address", bad}});
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->status, 400) << bad << ": " << r->body;
    EXPECT_EQ(nlohmann::json::parse(r->body)["error"]["field"], "cloudfront-viewer-address");
  }
}

// --max-token-ttl 2h, and a catalog file (read at start, not through
// CatalogService) with policies within and beyond it.
class MaxTokenTtlTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    work_ = new TempDir();
    const int64_t in_30_days =
        absl::ToUnixSeconds(absl::Now() + absl::Hours(24 * 30));
    WriteFileOrDie(work_->path() + "/catalog.json",
                   absl::StrCat(R"({
      "policies": {"within": {"paths": ["/ok/"], "exp": "+2h"},
                   "beyond": {"paths": ["/long/"], "exp": "+3h"},
                   "far": {"paths": ["/far/"], "exp": ")",
                                in_30_days, R"("}},
      "assets": [{"id": "within", "hostname": "cdn.example.com", "url_path": "/ok/a.m3u8", "token_policy": "within"},
                 {"id": "beyond", "hostname": "cdn.example.com", "url_path": "/long/a.m3u8", "token_policy": "beyond"},
                 {"id": "far", "hostname": "cdn.example.com", "url_path": "/far/a.m3u8", "token_policy": "far"}]})"));
    server_ =
        new ServerProcess(work_->path(), work_->path() + "/data",
                          {"--catalog-file", work_->path() + "/catalog.json",
                           "--max-token-ttl", "2h"});
    ASSERT_TRUE(server_->WaitUntilServing());
    std::vector<std::string> parts =
        absl::StrSplit(server_->rest_address(), ':');
    int port = 0;
    ASSERT_TRUE(parts.size() == 2 && absl::SimpleAtoi(parts[1], &port))
        << server_->rest_address();
    rest_port_ = static_cast<uint16_t>(port);
  }
  static void TearDownTestSuite() {
    delete server_;
    delete work_;
  }
  static std::optional<TestResponse> Post(const std::string& target,
                                          const std::string& body) {
    auto conn = TestConnection::Connect(rest_port_);
    conn->Send(absl::StrCat("POST ", target,
                            " HTTP/1.1\r\nHost: t\r\nConnection: "
                            "close\r\nContent-Type: application/json\r\n"
                            "Content-Length: ",
                            body.size(), "\r\n\r\n", body));
    return conn->ReadResponse();
  }
  static void ExpectRefused(const std::optional<TestResponse>& r,
                            const std::string& field) {
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->status, 400) << r->body;
    nlohmann::json error = nlohmann::json::parse(r->body, nullptr, false);
    ASSERT_TRUE(error.contains("error")) << r->body;
    EXPECT_EQ(error["error"]["code"], "INVALID_ARGUMENT");
    EXPECT_EQ(error["error"]["field"], field) << r->body;
  }

  static TempDir* work_;
  static ServerProcess* server_;
  static uint16_t rest_port_;
};

TempDir* MaxTokenTtlTest::work_ = nullptr;
ServerProcess* MaxTokenTtlTest::server_ = nullptr;
uint16_t MaxTokenTtlTest::rest_port_ = 0;

TEST_F(MaxTokenTtlTest, CatalogPoliciesAreCappedOnEveryIssueRoute) {
  auto issue = [&](const std::string& asset) {
    v1::IssuePlaybackRequest q;
    q.set_asset_id(asset);
    v1::IssuePlaybackResponse r;
    return server_->stub().IssuePlayback(testing::Context().get(), q, &r);
  };
  EXPECT_TRUE(issue("within").ok());
  for (const std::string asset : {"beyond", "far"}) {
    grpc::Status s = issue(asset);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << asset;
    EXPECT_TRUE(absl::StartsWith(s.error_message(), "token_policy.exp: "))
        << s.error_message();
    ExpectRefused(Post(absl::StrCat("/v1/assets/", asset, "/playback"), "{}"),
                  "token_policy.exp");
    ExpectRefused(
        Fetch(rest_port_, "GET", absl::StrCat("/tokengenerate?id=", asset)),
        "token_policy.exp");
  }
  EXPECT_EQ(Fetch(rest_port_, "GET", "/tokengenerate?id=within")->status, 200);
}

TEST_F(MaxTokenTtlTest, InlinePoliciesAreCapped) {
  auto mint = [&](const std::string& exp) {
    v1::IssueTokenRequest q;
    q.mutable_policy()->add_paths("/x/");
    q.mutable_policy()->set_exp(exp);
    v1::IssueTokenResponse r;
    grpc::Status s =
        server_->stub().IssueToken(testing::Context().get(), q, &r);
    return std::make_pair(s, r);
  };
  const absl::Time before = absl::Now();
  auto [ok, token] = mint("+2h");
  ASSERT_TRUE(ok.ok()) << ok.error_message();
  EXPECT_LE(absl::FromUnixSeconds(token.expires_at().seconds()),
            before + absl::Hours(2) + absl::Seconds(5));
  EXPECT_TRUE(mint("").first.ok());  // --default-token-ttl 1h
  const std::string far =
      absl::StrCat(absl::ToUnixSeconds(absl::Now() + absl::Hours(3)));
  for (const std::string& exp :
       {std::string("+3h"), std::string("+121m"), far}) {
    grpc::Status s = mint(exp).first;
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << exp;
    EXPECT_TRUE(absl::StartsWith(s.error_message(), "policy.exp: "))
        << s.error_message();
  }
  ExpectRefused(
      Post("/v1/tokens", R"({"policy":{"paths":["/x/"],"exp":"+3h"}})"),
      "policy.exp");
}

TEST_F(MaxTokenTtlTest, CatalogWritesBeyondTheCapAreRefused) {
  auto catalog = v1::CatalogService::NewStub(server_->channel());
  v1::PutPolicyRequest put;
  put.mutable_policy()->set_name("too-long");
  put.mutable_policy()->mutable_policy()->add_paths("/x/");
  put.mutable_policy()->mutable_policy()->set_exp("+3h");
  v1::NamedPolicy stored;
  grpc::Status s = catalog->PutPolicy(testing::Context().get(), put, &stored);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StartsWith(s.error_message(), "policy.policy.exp: "))
      << s.error_message();
  put.mutable_policy()->mutable_policy()->set_exp("+2h");
  EXPECT_TRUE(catalog->PutPolicy(testing::Context().get(), put, &stored).ok());

  v1::PutAssetRequest asset;
  asset.mutable_asset()->set_id("inline-long");
  asset.mutable_asset()->set_hostname("cdn.example.com");
  asset.mutable_asset()->set_url_path("/x/a.m3u8");
  asset.mutable_asset()->mutable_inline_policy()->add_paths("/x/");
  asset.mutable_asset()->mutable_inline_policy()->set_exp("+24h");
  v1::Asset out;
  s = catalog->PutAsset(testing::Context().get(), asset, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StartsWith(s.error_message(), "asset.inline_policy.exp: "))
      << s.error_message();
}

TEST_F(MaxTokenTtlTest, DefaultTtlBeyondTheCapIsAConfigurationError) {
  ServerProcess bad(work_->path(), work_->path() + "/unused",
                    {"--default-token-ttl", "3h", "--max-token-ttl", "2h"});
  EXPECT_EQ(bad.process().WaitForExit(absl::Seconds(10)), 2);
  EXPECT_NE(
      bad.log().find("default_token_ttl: 3h is longer than max_token_ttl (2h)"),
      std::string::npos)
      << bad.log();
}

// The same matrix with mTLS identities: the server runs TLS with optional
// client certificates; each certificate's CN is admitted with one scope.
class MtlsAuthorizationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    work_ = new TempDir();
    std::vector<std::string> names = {"stranger"};
    std::string entries;
    for (const std::string& scope : kScopeNames) {
      names.push_back("id-" + scope);
      absl::StrAppend(&entries, entries.empty() ? "" : ",", R"({"identity":"id-)", scope, R"(","scopes":[")",
                      scope, R"("]})");
    }
    absl::StatusOr<testing::TestPki> pki = testing::MakeTestPki(work_->path() + "/pki", names);
    ASSERT_TRUE(pki.ok()) << pki.status();
    pki_ = new testing::TestPki(*std::move(pki));
    WriteFileOrDie(work_->path() + "/access.json", absl::StrCat(R"({"mtls":[)", entries, "]}"));
    server_ = new ServerProcess(work_->path(), work_->path() + "/data",
                                {"--access-file", work_->path() + "/access.json", "--tls-cert",
                                 pki_->server.cert_file, "--tls-key", pki_->server.key_file, "--tls-client-ca",
                                 pki_->ca_file});
    server_->SetChannelCredentials(*client::MakeGrpcChannelCredentials({.ca_file = pki_->ca_file}));
    ASSERT_TRUE(server_->WaitUntilServing());
    std::vector<std::string> parts = absl::StrSplit(server_->rest_address(), ':');
    int port = 0;
    ASSERT_TRUE(parts.size() == 2 && absl::SimpleAtoi(parts[1], &port));
    rest_port_ = static_cast<uint16_t>(port);
  }
  static void TearDownTestSuite() {
    delete server_;
    delete pki_;
    delete work_;
  }

  static std::shared_ptr<grpc::Channel> Channel(const testing::TestCert* cert) {
    client::GrpcClientTlsOptions tls{.ca_file = pki_->ca_file};
    if (cert != nullptr) {
      tls.cert_file = cert->cert_file;
      tls.key_file = cert->key_file;
    }
    return grpc::CreateChannel(server_->address(), *client::MakeGrpcChannelCredentials(tls));
  }
  static http::testing::TlsClientOptions Https(const testing::TestCert* cert) {
    http::testing::TlsClientOptions tls{.ca_file = pki_->ca_file, .server_name = "127.0.0.1"};
    if (cert != nullptr) {
      tls.cert_file = cert->cert_file;
      tls.key_file = cert->key_file;
    }
    return tls;
  }

  static TempDir* work_;
  static testing::TestPki* pki_;
  static ServerProcess* server_;
  static uint16_t rest_port_;
};

TempDir* MtlsAuthorizationTest::work_ = nullptr;
testing::TestPki* MtlsAuthorizationTest::pki_ = nullptr;
ServerProcess* MtlsAuthorizationTest::server_ = nullptr;
uint16_t MtlsAuthorizationTest::rest_port_ = 0;

TEST_F(MtlsAuthorizationTest, GrpcByCertificateIdentity) {
  const std::vector<RpcCase> anonymous = AllRpcs(Channel(nullptr));
  const std::vector<RpcCase> stranger = AllRpcs(Channel(&pki_->clients.at("stranger")));
  std::map<std::string, std::vector<RpcCase>> by_scope;
  for (const std::string& scope : kScopeNames) {
    by_scope[scope] = AllRpcs(Channel(&pki_->clients.at("id-" + scope)));
  }
  for (size_t i = 0; i < anonymous.size(); ++i) {
    const std::string& name = anonymous[i].name;
    EXPECT_EQ(anonymous[i].call(testing::Context().get()).error_code(), grpc::StatusCode::UNAUTHENTICATED) << name;
    grpc::Status s = stranger[i].call(testing::Context().get());
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << name;
    EXPECT_EQ(s.error_message(), "client certificate \"stranger\" is not admitted");
    for (const std::string& scope : kScopeNames) {
      const bool may = scope == anonymous[i].scope || scope == "admin";
      grpc::Status got = by_scope[scope][i].call(testing::Context().get());
      EXPECT_EQ(got.error_code(), may ? anonymous[i].allowed : grpc::StatusCode::PERMISSION_DENIED)
          << name << " as id-" << scope << ": " << got.error_message();
    }
  }
  // A certificate from another CA never gets past the handshake.
  grpc::Status rogue = AllRpcs(Channel(&pki_->rogue_client))[0].call(testing::Context().get());
  EXPECT_EQ(rogue.error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(MtlsAuthorizationTest, RestByCertificateIdentity) {
  for (const RouteCase& r : AllRoutes()) {
    std::string error;
    std::optional<TestResponse> none = http::testing::FetchTls(rest_port_, Https(nullptr), r.method, r.target,
                                                               {{"Content-Type", "application/json"}},
                                                               absl::Seconds(10), &error);
    ASSERT_TRUE(none.has_value()) << error;
    if (!r.body.empty() && r.method != "GET") {
      // FetchTls sends no body; the status is decided before the body matters.
    }
    EXPECT_EQ(none->status, 401) << r.method << " " << r.target;
    std::optional<TestResponse> stranger = http::testing::FetchTls(
        rest_port_, Https(&pki_->clients.at("stranger")), r.method, r.target, {}, absl::Seconds(10), &error);
    ASSERT_TRUE(stranger.has_value()) << error;
    EXPECT_EQ(stranger->status, 401) << r.target;
    for (const std::string& scope : kScopeNames) {
      const bool may = scope == r.scope || scope == "admin";
      std::optional<TestResponse> got = http::testing::FetchTls(
          rest_port_, Https(&pki_->clients.at("id-" + scope)), r.method, r.target, {}, absl::Seconds(10), &error);
      ASSERT_TRUE(got.has_value()) << error;
      if (may) {
        EXPECT_NE(got->status, 401) << r.target << " as id-" << scope << ": " << got->body;
        EXPECT_NE(got->status, 403) << r.target << " as id-" << scope << ": " << got->body;
      } else {
        EXPECT_EQ(got->status, 403) << r.target << " as id-" << scope << ": " << got->body;
      }
    }
  }
  std::string error;
  EXPECT_FALSE(http::testing::FetchTls(rest_port_, Https(&pki_->rogue_client), "GET", "/v1/assets", {},
                                       absl::Seconds(10), &error)
                   .has_value());
}

}  // namespace
}  // namespace edgepass
