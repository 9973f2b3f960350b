// Real Secrets Manager requests, signed by our signer and by botocore's
// SigV4Auth (python3, clock frozen): the signed headers must be identical
// byte for byte. The AWS suite has no JSON-protocol POST with a body.
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "aws/json_request.h"
#include "aws/sigv4.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/support/test_process.h"

namespace edgepass::aws {
namespace {

struct Signed {
  std::string authorization, date, token, canonical_request, string_to_sign;
};

bool BotocoreAvailable(const std::string& scratch) {
  return testing::RunProcess({EDGEPASS_PYTHON3, "-c", "import botocore"}, scratch).exit_code == 0;
}

Signed SignWithBotocore(const std::string& scratch, const HttpRequest& request,
                        const Credentials& credentials, const SigV4Params& params) {
  nlohmann::json headers = nlohmann::json::object();
  for (const auto& [name, value] : request.headers) {
    if (name != "Host") headers[name] = value;  // botocore takes the host from the URL
  }
  nlohmann::json spec = {
      {"method", request.method},
      {"url", absl::StrCat("https://", *request.FindHeader("Host"), request.path)},
      {"headers", headers},
      {"body", request.body},
      {"region", params.region},
      {"service", params.service},
      {"time", AmzDate(params.time)},
      {"access_key_id", credentials.access_key_id},
      {"secret_access_key", credentials.secret_access_key},
      {"session_token", credentials.session_token}};
  testing::RunResult run =
      testing::RunProcess({EDGEPASS_PYTHON3, EDGEPASS_BOTOCORE_SCRIPT, spec.dump()}, scratch);
  EXPECT_EQ(run.exit_code, 0) << run.err;
  nlohmann::json out = nlohmann::json::parse(run.out, nullptr, /*allow_exceptions=*/false);
  Signed s;
  if (!out.is_object()) return s;
  s.authorization = out["headers"].value("Authorization", "");
  s.date = out["headers"].value("X-Amz-Date", "");
  s.token = out["headers"].value("X-Amz-Security-Token", "");
  s.canonical_request = out["canonical_request"];
  s.string_to_sign = out["string_to_sign"];
  return s;
}

class SigV4Botocore : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!BotocoreAvailable(dir_.path())) GTEST_SKIP() << "python3 botocore is not installed";
  }
  void ExpectSameAsBotocore(const std::string& host, const std::string& target,
                            const std::string& body, const Credentials& credentials,
                            const std::string& region) {
    SigV4Params params{.region = region,
                       .service = "secretsmanager",
                       .time = absl::FromUnixSeconds(1704153599)};  // 2024-01-01T23:59:59Z
    HttpRequest request = JsonProtocolRequest(host, target, body);
    request.headers.emplace_back("User-Agent", "edgepass/0.1");  // never signed
    Signed theirs = SignWithBotocore(dir_.path(), request, credentials, params);
    SigV4Result ours = SignRequest(credentials, params, &request);
    EXPECT_EQ(ours.canonical_request, theirs.canonical_request);
    EXPECT_EQ(ours.string_to_sign, theirs.string_to_sign);
    EXPECT_EQ(*request.FindHeader("Authorization"), theirs.authorization);
    EXPECT_EQ(*request.FindHeader("X-Amz-Date"), theirs.date);
    const std::string* token = request.FindHeader("X-Amz-Security-Token");
    EXPECT_EQ(token != nullptr ? *token : "", theirs.token);
    EXPECT_FALSE(theirs.authorization.empty());
  }
  testing::TempDir dir_;
};

const Credentials kLongTerm{.access_key_id = "AKIAIOSFODNN7EXAMPLE",
                            .secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"};
const Credentials kTemporary{.access_key_id = "ASIAIOSFODNN7EXAMPLE",
                             .secret_access_key = "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
                             .session_token = "FwoGZXIvYXdzEXAMPLE//////////wEaDK+tOKEN=="};

TEST_F(SigV4Botocore, GetSecretValue) {
  ExpectSameAsBotocore("secretsmanager.eu-west-1.amazonaws.com", "secretsmanager.GetSecretValue",
                       R"({"SecretId": "edgepass/keyring", "VersionStage": "AWSCURRENT"})",
                       kLongTerm, "eu-west-1");
}

TEST_F(SigV4Botocore, GetSecretValueWithSessionToken) {
  ExpectSameAsBotocore("secretsmanager.eu-west-1.amazonaws.com", "secretsmanager.GetSecretValue",
                       R"({"SecretId": "edgepass/keyring"})", kTemporary, "eu-west-1");
}

TEST_F(SigV4Botocore, PutSecretValue) {
  ExpectSameAsBotocore(
      "secretsmanager.us-east-1.amazonaws.com", "secretsmanager.PutSecretValue",
      R"({"SecretId":"edgepass/keyring","ClientRequestToken":"6f1c0e52-8a1b-4c7e-9d2f-000000000001",)"
      R"("SecretString":"{\"keys\":[{\"id\":\"20240101_0123456789abcdef0123\"}]}",)"
      R"("VersionStages":["AWSPENDING"]})",
      kLongTerm, "us-east-1");
}

TEST_F(SigV4Botocore, PutSecretValueWithSessionTokenOnLoopbackPort) {
  ExpectSameAsBotocore("127.0.0.1:4566", "secretsmanager.PutSecretValue",
                       R"({"SecretId":"x y/ü","SecretString":"a\nb"})", kTemporary,
                       "ap-southeast-2");
}

}  // namespace
}  // namespace edgepass::aws
