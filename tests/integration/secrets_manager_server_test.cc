// A real edgepass-server whose keyring lives in AWS Secrets Manager (moto's
// server on loopback, authentication on): `--secrets-store aws
// --aws-endpoint http://127.0.0.1:PORT`, credentials from the environment.
#include <stdlib.h>

#include <map>
#include <memory>
#include <utility>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "aws/http_client.h"
#include "aws/secrets_manager_client.h"
#include "core/keyring.h"
#include "core/revocation.h"
#include "core/validator.h"
#include "edgepass/v1/edge_sync.grpc.pb.h"
#include "edgepass/v1/keys.grpc.pb.h"
#include "gtest/gtest.h"
#include "tests/integration/server_process.h"
#include "tests/support/moto_server.h"
#include "tests/support/test_process.h"

namespace edgepass::testing {
namespace {

constexpr char kRegion[] = "eu-west-1";

// Sets AWS_* for the server child process (it inherits the environment) and
// restores the previous values.
class ScopedEnv {
 public:
  void Set(const char* name, const std::string& value) {
    const char* old = getenv(name);
    saved_.emplace_back(name, old == nullptr ? std::nullopt : std::optional<std::string>(old));
    setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) {
      if (it->second) {
        setenv(it->first.c_str(), it->second->c_str(), 1);
      } else {
        unsetenv(it->first.c_str());
      }
    }
  }

 private:
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

std::string UriOf(const std::string& url) {
  size_t slash = url.find('/', url.find("://") + 3);
  return url.substr(slash);
}

constexpr char kPlaceholder[] = R"({"INITIALIZED_KEY":"INITIALIZED_VALUE"})";

std::string PairText(const std::string& id, const std::string& value) {
  return absl::StrCat("{\"", id, "\":\"", value, "\"}");
}

// SMD's three secrets of stack "smd" as its deployment leaves them: one key
// each in Primary and Secondary, the placeholder in Temporary.
bool CreateSmdSecrets(aws::SecretsManagerClient& sm, const std::string& primary_id,
                      const std::string& primary_value, const std::string& secondary_id,
                      const std::string& secondary_value) {
  return sm.CreateSecret("smd_PrimarySecret", PairText(primary_id, primary_value), "").ok() &&
         sm.CreateSecret("smd_SecondarySecret", PairText(secondary_id, secondary_value), "").ok() &&
         sm.CreateSecret("smd_TemporarySecret", kPlaceholder, "").ok();
}

class SecretsManagerServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (MotoPython().empty()) GTEST_SKIP() << "moto[server] is not installed";
    ASSERT_TRUE(moto_.Start());
    absl::StatusOr<MotoServer::AccessKey> key = moto_.CreateUser("edgepass");
    ASSERT_TRUE(key.ok()) << key.status();
    key_ = *key;
    env_.Set("AWS_ACCESS_KEY_ID", key_.access_key_id);
    env_.Set("AWS_SECRET_ACCESS_KEY", key_.secret_access_key);
    env_.Set("AWS_SHARED_CREDENTIALS_FILE", work_.path() + "/no-credentials");
    env_.Set("AWS_CONFIG_FILE", work_.path() + "/no-config");
  }

  std::vector<std::string> AwsArgs() {
    return {"--secrets-store", "aws", "--aws-endpoint", moto_.endpoint(), "--aws-region", kRegion};
  }

  std::shared_ptr<aws::SecretsManagerClient> Client() {
    return std::make_shared<aws::SecretsManagerClient>(
        aws::SecretsManagerOptions{.region = kRegion, .endpoint = *aws::ParseEndpoint(moto_.endpoint())},
        std::make_shared<aws::StaticCredentialsProvider>(aws::Credentials{
            .access_key_id = key_.access_key_id, .secret_access_key = key_.secret_access_key}),
        &http_);
  }

  // Issues a playback URL for asset "1" and checks it against `keys`.
  void ExpectIssuedTokenValidates(ServerProcess& server, const core::Keyring& keys,
                                  const std::string& expected_kid) {
    v1::IssuePlaybackRequest request;
    request.set_asset_id("1");
    v1::IssuePlaybackResponse response;
    grpc::Status status = server.stub().IssuePlayback(Context().get(), request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    std::string uri = UriOf(response.playback_url());
    core::Decision d = core::Validate({.uri = uri}, keys, core::RevocationSet(), absl::Now());
    EXPECT_TRUE(d.allow) << core::ReasonName(d.reason);
    const core::SigningKey* used = nullptr;
    for (const core::SigningKey& k : keys.keys()) {
      if (absl::StrContains(uri, core::Base64UrlEncode(core::JwtHeaderJson(k.id)))) used = &k;
    }
    ASSERT_NE(used, nullptr);
    EXPECT_EQ(used->id, expected_kid);
  }

  TempDir work_;
  MotoServer moto_;
  MotoServer::AccessKey key_;
  ScopedEnv env_;
  aws::HttpClient http_;
};

TEST_F(SecretsManagerServerTest, ServerKeepsItsKeyringInSecretsManager) {
  ServerProcess server(work_.path(), work_.path() + "/data", AwsArgs());
  ASSERT_TRUE(server.WaitUntilServing()) << server.log();
  EXPECT_TRUE(absl::StrContains(server.log(), "secret edgepass/keyring in eu-west-1"));
  EXPECT_TRUE(absl::StrContains(server.log(), "environment"));
  EXPECT_FALSE(absl::StrContains(server.log(), key_.secret_access_key));
  EXPECT_EQ(ReadFileOrEmpty(work_.path() + "/data/keyring.json"), "");  // no local keyring

  absl::StatusOr<aws::SecretValue> stored = Client()->GetSecretValue("edgepass/keyring");
  ASSERT_TRUE(stored.ok()) << stored.status();
  absl::StatusOr<core::Keyring> keys = core::ParseKeyringJson(stored->secret_string);
  ASSERT_TRUE(keys.ok()) << keys.status();
  ExpectIssuedTokenValidates(server, *keys, keys->Primary()->id);
}

TEST_F(SecretsManagerServerTest, ServerAdoptsSmdSecrets) {
  const std::string primary_id = "20240305_0123456789abcdef0123";
  const std::string secondary_id = "2024035_fedcba9876543210fedc";
  auto sm = Client();
  ASSERT_TRUE(CreateSmdSecrets(*sm, primary_id, std::string(128, 'a'), secondary_id, std::string(128, 'b')));
  std::vector<std::string> args = AwsArgs();
  args.insert(args.end(), {"--smd-stack-name", "smd"});
  ServerProcess server(work_.path(), work_.path() + "/data", args);
  ASSERT_TRUE(server.WaitUntilServing()) << server.log();
  absl::StatusOr<core::Keyring> smd_keys = core::Keyring::Create(
      {{.id = primary_id, .value = std::string(128, 'a'), .state = core::KeyState::kPrimary},
       {.id = secondary_id, .value = std::string(128, 'b'), .state = core::KeyState::kSecondary}});
  ASSERT_TRUE(smd_keys.ok());
  // Tokens the server issues are signed with SMD's primary key.
  ExpectIssuedTokenValidates(server, *smd_keys, primary_id);
}

// The one pair {"<key id>":"<key value>"} of an SMD secret.
std::pair<std::string, std::string> SmdPair(aws::SecretsManagerClient& sm, const std::string& secret) {
  absl::StatusOr<aws::SecretValue> v = sm.GetSecretValue(secret);
  EXPECT_TRUE(v.ok()) << secret << ": " << v.status();
  if (!v.ok()) return {};
  const size_t colon = v->secret_string.find("\":\"");
  EXPECT_NE(colon, std::string::npos) << v->secret_string.substr(0, 2);
  if (colon == std::string::npos) return {};
  return {v->secret_string.substr(2, colon - 2), v->secret_string.substr(colon + 3, 128)};
}

TEST_F(SecretsManagerServerTest, ServerRotatesSmdsKeysAndSmdReadersSeeTheNewPrimary) {
  const std::string primary_id = "2024035_0123456789abcdef0123";  // SMD's unpadded day
  const std::string secondary_id = "20240301_fedcba9876543210fedc";
  auto sm = Client();
  ASSERT_TRUE(CreateSmdSecrets(*sm, primary_id, std::string(128, 'a'), secondary_id, std::string(128, 'b')));
  std::vector<std::string> args = AwsArgs();
  args.insert(args.end(), {"--smd-stack-name", "smd"});
  ServerProcess server(work_.path(), work_.path() + "/data", args);
  ASSERT_TRUE(server.WaitUntilServing()) << server.log();
  auto keys = v1::KeyService::NewStub(server.channel());

  std::string previous = primary_id;
  for (int i = 0; i < 2; ++i) {
    v1::RotateKeysResponse rotated;
    grpc::Status s = keys->RotateKeys(Context().get(), v1::RotateKeysRequest(), &rotated);
    ASSERT_TRUE(s.ok()) << s.error_message() << "\n" << server.log();
    EXPECT_EQ(rotated.previous_primary(), previous);
    // What SMD's own readers get: the new key in PrimarySecret, the old one
    // in SecondarySecret, the placeholder back in TemporarySecret.
    const auto [new_id, new_value] = SmdPair(*sm, "smd_PrimarySecret");
    EXPECT_EQ(new_id, rotated.new_primary());
    EXPECT_EQ(new_value.size(), 128u);
    EXPECT_EQ(SmdPair(*sm, "smd_SecondarySecret").first, previous);
    absl::StatusOr<aws::SecretValue> temporary = sm->GetSecretValue("smd_TemporarySecret");
    ASSERT_TRUE(temporary.ok());
    EXPECT_EQ(temporary->secret_string, R"({"INITIALIZED_KEY":"INITIALIZED_VALUE"})");
    // The server signs with the key now in PrimarySecret.
    absl::StatusOr<core::Keyring> smd_view = core::Keyring::Create(
        {{.id = new_id, .value = new_value, .state = core::KeyState::kPrimary}});
    ASSERT_TRUE(smd_view.ok()) << smd_view.status();
    ExpectIssuedTokenValidates(server, *smd_view, new_id);
    previous = new_id;
  }
  // SMD's first primary has retired (kept by edgepass, not by SMD's secrets);
  // SMD's old secondary is gone.
  v1::KeyStatus status;
  ASSERT_TRUE(keys->GetKeyStatus(Context().get(), v1::GetKeyStatusRequest(), &status).ok());
  std::map<std::string, std::string> states;
  for (const v1::SigningKeyInfo& k : status.keys()) states[k.id()] = v1::KeyState_Name(k.state());
  EXPECT_EQ(states[primary_id], "RETIRED");
  EXPECT_EQ(states[previous], "PRIMARY");
}

// The kid of the token in a playback URL the server issues for asset "1".
std::string IssuedKid(ServerProcess& server, std::string* token_uri = nullptr) {
  v1::IssuePlaybackRequest request;
  request.set_asset_id("1");
  v1::IssuePlaybackResponse response;
  grpc::Status status = server.stub().IssuePlayback(Context().get(), request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  if (token_uri != nullptr) *token_uri = UriOf(response.playback_url());
  // [<session id>.]<header>.<payload>.<signature>
  const std::vector<std::string> parts = absl::StrSplit(response.token(), '.');
  if (parts.size() < 3) return "";
  std::string header;
  absl::WebSafeBase64Unescape(parts[parts.size() - 3], &header);
  const size_t kid = header.find("\"kid\":\"");
  if (kid == std::string::npos) return "";
  return header.substr(kid + 7, header.find('"', kid + 7) - kid - 7);
}

std::map<std::string, std::string> KeyStates(ServerProcess& server) {
  v1::KeyStatus status;
  grpc::Status s = v1::KeyService::NewStub(server.channel())->GetKeyStatus(Context().get(), v1::GetKeyStatusRequest(), &status);
  EXPECT_TRUE(s.ok()) << s.error_message();
  std::map<std::string, std::string> states;
  for (const v1::SigningKeyInfo& k : status.keys()) states[k.id()] = v1::KeyState_Name(k.state());
  return states;
}

// What a validator gets: the keyrings of the edge-sync stream, as they come.
class ValidatorStream {
 public:
  explicit ValidatorStream(ServerProcess& server) : stub_(v1::EdgeSyncService::NewStub(server.channel())) {
    v1::SubscribeRequest subscribe;
    subscribe.set_validator_id("edge-test");
    stream_ = stub_->Subscribe(&context_, subscribe);
    reader_ = std::thread([this] {
      v1::EdgeUpdate update;
      while (stream_->Read(&update)) {
        if (!update.keyring_changed()) continue;
        std::vector<core::SigningKey> keys;
        for (const v1::EdgeKey& k : update.keys()) {
          core::SigningKey key{.id = k.id(), .value = k.value(), .state = core::KeyState::kSecondary};
          if (k.state() == v1::PRIMARY) key.state = core::KeyState::kPrimary;
          if (k.has_not_after()) {
            key.state = core::KeyState::kRetired;
            key.not_after = absl::FromUnixSeconds(k.not_after().seconds());
          }
          keys.push_back(std::move(key));
        }
        absl::StatusOr<core::Keyring> ring = core::Keyring::Create(std::move(keys));
        EXPECT_TRUE(ring.ok()) << ring.status();
        absl::MutexLock lock(&mu_);
        if (ring.ok()) keyrings_.push_back(*std::move(ring));
      }
    });
  }
  ~ValidatorStream() {
    context_.TryCancel();
    reader_.join();
  }
  std::vector<core::Keyring> keyrings() {
    absl::MutexLock lock(&mu_);
    return keyrings_;
  }

 private:
  std::unique_ptr<v1::EdgeSyncService::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReader<v1::EdgeUpdate>> stream_;
  std::thread reader_;
  absl::Mutex mu_;
  std::vector<core::Keyring> keyrings_;
};

bool Allows(const core::Keyring& keys, const std::string& uri) {
  return core::Validate({.uri = uri}, keys, core::RevocationSet(), absl::Now()).allow;
}

// SMD's rotation runs beside an edgepass that does not rotate (its
// migration steps 1-3): SMD's new key in TemporarySecret is not promoted by
// edgepass but handed to validators at once (distributed, foreign), and
// after SMD's swap (replayed as its Lambda writes it) edgepass signs with it
// while tokens of the previous primary still validate, and a validator that
// got nothing since before the swap accepts the new tokens.
TEST_F(SecretsManagerServerTest, SmdsRotationRunsBesideEdgepassAndItsSwapIsServed) {
  const std::string primary_id = "20240305_0123456789abcdef0123";
  const std::string secondary_id = "2024035_fedcba9876543210fedc";
  const std::string smd_new = "2024036_00000000000000000abc";
  const std::string primary_value(128, 'a'), secondary_value(128, 'b'), new_value(128, 'c');
  auto sm = Client();
  ASSERT_TRUE(CreateSmdSecrets(*sm, primary_id, primary_value, secondary_id, secondary_value));
  std::vector<std::string> args = AwsArgs();
  args.insert(args.end(), {"--smd-stack-name", "smd", "--key-cache-ttl", "1s"});
  ServerProcess server(work_.path(), work_.path() + "/data", args);
  ASSERT_TRUE(server.WaitUntilServing()) << server.log();
  std::string old_uri;
  ASSERT_EQ(IssuedKid(server, &old_uri), primary_id);
  ValidatorStream validator(server);

  // generate_secret_update_cff/index.js: the new key into TemporarySecret
  // (then SMD deploys its CloudFront Function with it, which takes minutes).
  ASSERT_TRUE(sm->PutSecretValue("smd_TemporarySecret", PairText(smd_new, new_value), "", {}).ok());
  absl::SleepFor(absl::Seconds(5));  // several key-cache refreshes and scheduler checks
  EXPECT_FALSE(absl::StrContains(server.log(), "key_rotated")) << server.log();
  EXPECT_TRUE(absl::StrContains(server.log(), "smd_rotation_key_ignored")) << server.log();
  EXPECT_FALSE(absl::StrContains(server.log(), new_value));
  EXPECT_EQ(SmdPair(*sm, "smd_PrimarySecret").first, primary_id);
  EXPECT_EQ(SmdPair(*sm, "smd_TemporarySecret").first, smd_new);
  EXPECT_EQ(IssuedKid(server), primary_id);
  std::map<std::string, std::string> states = KeyStates(server);
  EXPECT_EQ(states[primary_id], "PRIMARY");
  // SMD's waiting key: shown as distributed and foreign, never signed with.
  EXPECT_EQ(states[smd_new], "DISTRIBUTED");
  {
    v1::KeyStatus status;
    ASSERT_TRUE(v1::KeyService::NewStub(server.channel())
                    ->GetKeyStatus(Context().get(), v1::GetKeyStatusRequest(), &status).ok());
    for (const v1::SigningKeyInfo& k : status.keys()) EXPECT_EQ(k.foreign(), k.id() == smd_new) << k.id();
  }
  // The validator already holds it (the key cache TTL is 1s; 5s have passed).
  std::vector<core::Keyring> before_swap = validator.keyrings();
  ASSERT_FALSE(before_swap.empty());
  ASSERT_NE(before_swap.back().Find(smd_new), nullptr) << "SMD's waiting key reaches validators before the swap";
  const core::Keyring validator_before_swap = before_swap.back();
  // It is not stored as edgepass's key (that would make it one edgepass resumes).
  absl::StatusOr<aws::SecretValue> own = sm->GetSecretValue("smd_EdgepassKeyring");
  if (own.ok()) EXPECT_FALSE(absl::StrContains(own->secret_string, smd_new));

  // swap_secrets/index.js, its reads and writes in its order.
  absl::StatusOr<aws::SecretValue> temporary = sm->GetSecretValue("smd_TemporarySecret");
  absl::StatusOr<aws::SecretValue> primary = sm->GetSecretValue("smd_PrimarySecret");
  ASSERT_TRUE(temporary.ok() && primary.ok());
  ASSERT_TRUE(sm->PutSecretValue("smd_SecondarySecret", primary->secret_string, "", {}).ok());
  ASSERT_TRUE(sm->PutSecretValue("smd_PrimarySecret", temporary->secret_string, "", {}).ok());
  ASSERT_TRUE(sm->PutSecretValue("smd_TemporarySecret", kPlaceholder, "", {}).ok());

  std::string new_uri;
  const absl::Time deadline = absl::Now() + absl::Seconds(15);
  while (IssuedKid(server, &new_uri) != smd_new && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(200));
  ASSERT_EQ(IssuedKid(server, &new_uri), smd_new) << server.log();
  EXPECT_EQ(SmdPair(*sm, "smd_PrimarySecret"), std::make_pair(smd_new, new_value));
  EXPECT_EQ(SmdPair(*sm, "smd_SecondarySecret").first, primary_id);
  states = KeyStates(server);
  EXPECT_EQ(states[smd_new], "PRIMARY");
  EXPECT_EQ(states[primary_id], "SECONDARY");
  // The validator accepted the old token with every keyring it got, and
  // holds the new key by the time tokens are signed with it.
  std::vector<core::Keyring> streamed;
  const absl::Time streamed_by = absl::Now() + absl::Seconds(5);
  do {
    streamed = validator.keyrings();
    if (!streamed.empty() && streamed.back().Find(smd_new) != nullptr) break;
    absl::SleepFor(absl::Milliseconds(100));
  } while (absl::Now() < streamed_by);
  ASSERT_GE(streamed.size(), 2u) << "the snapshot, then the keyring of the swap";
  ASSERT_NE(streamed.back().Find(smd_new), nullptr);
  for (const core::Keyring& k : streamed) EXPECT_TRUE(Allows(k, old_uri));
  EXPECT_TRUE(Allows(streamed.back(), new_uri));
  // A validator whose stream lags (it has had no update since before the
  // swap, as one on a replica that has not refreshed yet) accepts new tokens.
  EXPECT_TRUE(Allows(validator_before_swap, new_uri));
  EXPECT_TRUE(Allows(validator_before_swap, old_uri));
  EXPECT_EQ(KeyStates(server).count(smd_new), 1u);
  // Both tokens validate with the keys SMD's function now holds.
  absl::StatusOr<core::Keyring> served = core::Keyring::Create(
      {{.id = smd_new, .value = new_value, .state = core::KeyState::kPrimary},
       {.id = primary_id, .value = primary_value, .state = core::KeyState::kSecondary}});
  ASSERT_TRUE(served.ok());
  for (const std::string& uri : {old_uri, new_uri}) {
    core::Decision d = core::Validate({.uri = uri}, *served, core::RevocationSet(), absl::Now());
    EXPECT_TRUE(d.allow) << core::ReasonName(d.reason);
  }
  EXPECT_FALSE(absl::StrContains(server.log(), "key_rotated")) << server.log();
}

// edgepass's own rotation in SMD mode, stopped after it stored its pending
// key, is still finished by the next server (the key is recorded in
// smd_EdgepassKeyring).
TEST_F(SecretsManagerServerTest, EdgepasssOwnInterruptedRotationInSmdModeIsResumed) {
  const std::string primary_id = "20240305_0123456789abcdef0123";
  auto sm = Client();
  ASSERT_TRUE(CreateSmdSecrets(*sm, primary_id, std::string(128, 'a'), "2024035_fedcba9876543210fedc",
                               std::string(128, 'b')));
  std::vector<std::string> args = AwsArgs();
  args.insert(args.end(), {"--smd-stack-name", "smd", "--key-cache-ttl", "1s"});
  std::string pending;
  {
    ServerProcess doomed(work_.path(), work_.path() + "/data1", args,
                         {"EDGEPASS_TEST_EXIT_AFTER_ROTATION_STEP=stored_pending"});
    ASSERT_TRUE(doomed.WaitUntilServing()) << doomed.log();
    v1::RotateKeysResponse rotated;
    EXPECT_FALSE(v1::KeyService::NewStub(doomed.channel())->RotateKeys(Context().get(), v1::RotateKeysRequest(), &rotated).ok());
    ASSERT_TRUE(doomed.process().WaitForExit(absl::Seconds(10)).has_value());
    pending = SmdPair(*sm, "smd_TemporarySecret").first;
    ASSERT_FALSE(pending.empty());
    ASSERT_NE(pending, primary_id);
  }
  ServerProcess server(work_.path(), work_.path() + "/data2", args);
  ASSERT_TRUE(server.WaitUntilServing()) << server.log();
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (SmdPair(*sm, "smd_PrimarySecret").first != pending && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(200));
  }
  EXPECT_EQ(SmdPair(*sm, "smd_PrimarySecret").first, pending) << server.log();
  EXPECT_EQ(SmdPair(*sm, "smd_SecondarySecret").first, primary_id);
  absl::StatusOr<aws::SecretValue> temporary = sm->GetSecretValue("smd_TemporarySecret");
  ASSERT_TRUE(temporary.ok());
  EXPECT_EQ(temporary->secret_string, kPlaceholder);
  EXPECT_TRUE(absl::StrContains(server.log(), "\"resumed\":1")) << server.log();
}

TEST_F(SecretsManagerServerTest, WrongSecretKeyStopsTheStartWithAClearError) {
  env_.Set("AWS_SECRET_ACCESS_KEY", "not-the-secret");
  ServerProcess server(work_.path(), work_.path() + "/data", AwsArgs());
  std::optional<int> code = server.process().WaitForExit(absl::Seconds(20));
  ASSERT_TRUE(code.has_value());
  EXPECT_NE(*code, 0);
  EXPECT_TRUE(absl::StrContains(server.log(), "SignatureDoesNotMatch")) << server.log();
  EXPECT_FALSE(absl::StrContains(server.log(), "not-the-secret"));
}

TEST_F(SecretsManagerServerTest, PlainHttpEndpointOffLoopbackIsRefused) {
  std::vector<std::string> args = {"--secrets-store", "aws", "--aws-endpoint",
                                   "http://secretsmanager.example.com", "--aws-region", kRegion};
  ServerProcess server(work_.path(), work_.path() + "/data", args);
  std::optional<int> code = server.process().WaitForExit(absl::Seconds(20));
  ASSERT_TRUE(code.has_value());
  EXPECT_NE(*code, 0);
  EXPECT_TRUE(absl::StrContains(server.log(), "aws_endpoint")) << server.log();
}

}  // namespace
}  // namespace edgepass::testing
