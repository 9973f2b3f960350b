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
#include "tests/integration/test_process.h"

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

}  // namespace
}  // namespace edgepass
