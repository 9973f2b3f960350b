// The Secrets Manager stores and the AWS client against moto's server (a
// third-party AWS emulation) started on loopback with request authentication
// on: every request is re-signed by moto and a bad signature is refused with
// 403 SignatureDoesNotMatch. Throttling uses a tiny local HTTP server.
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "aws/credentials.h"
#include "aws/http_client.h"
#include "aws/secrets_manager_client.h"
#include "aws/web_identity.h"
#include "core/crypto.h"
#include "core/keyring.h"
#include "core/random.h"
#include "core/revocation.h"
#include "core/validator.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "server/adapters/aws/secrets_manager_secret_store.h"
#include "server/adapters/aws/smd_secret_store.h"
#include "server/adapters/cached_keyring_source.h"
#include "server/adapters/redis/redis_client.h"
#include "server/adapters/redis/redis_keyring_cache.h"
#include "tests/fakes/keyring_load.h"
#include "tests/fakes/test_clock.h"
#include "tests/support/moto_server.h"
#include "tests/support/redis_server.h"
#include "tests/support/test_process.h"
#include "tests/vectors/vector_cases.h"

namespace edgepass::server {
namespace {

using ::edgepass::testing::ChildProcess;
using ::edgepass::testing::MotoServer;
using ::edgepass::testing::TempDir;

constexpr char kRegion[] = "eu-west-1";

std::string Hex(size_t n, char c) { return std::string(n, c); }

core::SigningKey Key(const std::string& id, char fill, core::KeyState state,
                     absl::Time not_after = absl::InfiniteFuture()) {
  return {.id = id, .value = Hex(128, fill), .state = state, .not_after = not_after};
}

core::Keyring Ring(std::vector<core::SigningKey> keys) {
  absl::StatusOr<core::Keyring> r = core::Keyring::Create(std::move(keys));
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *r : core::Keyring();
}

std::vector<std::string> Ids(const core::Keyring& k) {
  std::vector<std::string> ids;
  for (const core::SigningKey& key : k.keys()) {
    ids.push_back(absl::StrCat(key.id, ":", core::KeyStateName(key.state)));
  }
  return ids;
}

// A token as SMD's SDK makes it: JWT HS256 with the key id as kid, signed
// with the key value's ASCII bytes.
std::string SmdToken(const std::string& kid, const std::string& value, int64_t exp) {
  std::string header = core::Base64UrlEncode(core::JwtHeaderJson(kid));
  std::string payload = core::Base64UrlEncode(absl::StrCat(
      R"({"ip":false,"co":false,"cty":false,"reg":false,"ssn":false,"exp":)", exp,
      R"(,"paths":["/video/1/"]})"));
  std::string input = absl::StrCat(header, ".", payload);
  return absl::StrCat(input, ".", core::Base64UrlEncode(core::HmacSha256(value, input)));
}

bool Validates(const core::Keyring& keys, const std::string& token, absl::Time now) {
  std::string uri = absl::StrCat("/", token, "/video/1/index.m3u8");
  core::Decision d = core::Validate({.uri = uri, .client_ip = "203.0.113.7"}, keys,
                                    core::RevocationSet(), now);
  EXPECT_TRUE(d.allow) << core::ReasonName(d.reason);
  return d.allow;
}

class SecretsManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (testing::MotoPython().empty()) GTEST_SKIP() << "moto[server] is not installed";
    ASSERT_TRUE(moto_.Start());
    absl::StatusOr<MotoServer::AccessKey> key = moto_.CreateUser("edgepass");
    ASSERT_TRUE(key.ok()) << key.status();
    admin_ = {.access_key_id = key->access_key_id, .secret_access_key = key->secret_access_key};
  }

  std::shared_ptr<aws::SecretsManagerClient> Client(
      const aws::Credentials& creds, int max_attempts = 3,
      std::shared_ptr<aws::CredentialsProvider> provider = nullptr) {
    absl::StatusOr<aws::Endpoint> ep = aws::ParseEndpoint(moto_.endpoint());
    EXPECT_TRUE(ep.ok());
    if (provider == nullptr) provider = std::make_shared<aws::StaticCredentialsProvider>(creds);
    return std::make_shared<aws::SecretsManagerClient>(
        aws::SecretsManagerOptions{.region = kRegion,
                                   .endpoint = *ep,
                                   .max_attempts = max_attempts,
                                   .base_backoff = absl::Milliseconds(1),
                                   .max_backoff = absl::Milliseconds(5)},
        std::move(provider), &http_);
  }

  std::string Current(const std::string& secret) {
    absl::StatusOr<aws::SecretValue> v = Client(admin_)->GetSecretValue(secret);
    EXPECT_TRUE(v.ok()) << v.status();
    return v.ok() ? v->secret_string : "";
  }

  MotoServer moto_;
  aws::HttpClient http_;
  aws::Credentials admin_;
};

TEST_F(SecretsManagerTest, RightKeyWorksWrongSecretKeyIsRefused) {
  auto sm = Client(admin_);
  ASSERT_TRUE(sm->CreateSecret("s1", "hello", "").ok());
  absl::StatusOr<aws::SecretValue> v = sm->GetSecretValue("s1");
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->secret_string, "hello");
  EXPECT_EQ(v->version_stages, std::vector<std::string>{"AWSCURRENT"});

  aws::Credentials wrong = admin_;
  wrong.secret_access_key[0] = wrong.secret_access_key[0] == 'A' ? 'B' : 'A';
  auto bad = Client(wrong)->GetSecretValue("s1");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_TRUE(absl::StrContains(bad.status().message(), "HTTP 403 SignatureDoesNotMatch"))
      << bad.status();
  EXPECT_FALSE(absl::StrContains(bad.status().message(), wrong.secret_access_key));

  aws::Credentials unknown{.access_key_id = "AKIAUNKNOWNUNKNOWN01", .secret_access_key = "x"};
  auto refused = Client(unknown)->GetSecretValue("s1");
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnauthenticated) << refused.status();
  EXPECT_TRUE(absl::StrContains(refused.status().message(), "InvalidClientTokenId"));

  EXPECT_EQ(sm->GetSecretValue("absent").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(SecretsManagerTest, KeyringRoundTripsWithVersionStages) {
  SecretsManagerSecretStore store(Client(admin_), "edgepass/keyring");
  core::SecureRandom random;
  absl::StatusOr<core::Keyring> first = store.LoadOrCreate(absl::Now(), random);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_NE(first->Primary(), nullptr);

  core::SigningKey old = *first->Primary();
  old.state = core::KeyState::kSecondary;
  core::Keyring rotated =
      Ring({Key("20240305_0123456789abcdef0123", 'a', core::KeyState::kPrimary), old,
            Key("2024035_00000000000000000000", 'b', core::KeyState::kRetired,
                absl::FromUnixSeconds(1900000000))});
  absl::Status written = store.WriteKeyring(rotated);
  ASSERT_TRUE(written.ok()) << written;
  absl::StatusOr<core::Keyring> back = store.ReadKeyring();
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(core::KeyringToJson(*back), core::KeyringToJson(rotated));

  absl::StatusOr<aws::SecretDescription> d = Client(admin_)->DescribeSecret("edgepass/keyring");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_FALSE(d->VersionWithStage("AWSCURRENT").empty());
  EXPECT_FALSE(d->VersionWithStage("AWSPREVIOUS").empty());
  EXPECT_NE(d->VersionWithStage("AWSCURRENT"), d->VersionWithStage("AWSPREVIOUS"));
  EXPECT_EQ(d->VersionWithStage("AWSPENDING"), "");
  // The previous version still holds the first keyring.
  absl::StatusOr<aws::SecretValue> prev =
      Client(admin_)->GetSecretValue("edgepass/keyring", "AWSPREVIOUS");
  ASSERT_TRUE(prev.ok()) << prev.status();
  EXPECT_EQ(prev->secret_string, core::KeyringToJson(*first));

  // Writing the same keyring again is idempotent.
  written = store.WriteKeyring(rotated);
  ASSERT_TRUE(written.ok()) << written;
  EXPECT_EQ(core::KeyringToJson(*store.ReadKeyring()), core::KeyringToJson(rotated));
  EXPECT_EQ(store.read_count(), 3);
  EXPECT_EQ(store.read_error_count(), 0);
}

TEST_F(SecretsManagerTest, InterruptedWriteLeavesCurrentIntactAndIsResumed) {
  SecretsManagerSecretStore store(Client(admin_), "edgepass/keyring");
  core::Keyring before = Ring({Key("20240101_aaaaaaaaaaaaaaaaaaaa", 'a', core::KeyState::kPrimary)});
  ASSERT_TRUE(store.WriteKeyring(before).ok());  // creates the secret
  core::Keyring after = Ring({Key("20240102_bbbbbbbbbbbbbbbbbbbb", 'b', core::KeyState::kPrimary),
                              Key("20240101_aaaaaaaaaaaaaaaaaaaa", 'a', core::KeyState::kSecondary)});

  // The writer dies after step 1 (AWSPENDING stored, AWSCURRENT not moved).
  ASSERT_TRUE(store.StagePending(after).ok());
  absl::StatusOr<core::Keyring> read = store.ReadKeyring();
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(core::KeyringToJson(*read), core::KeyringToJson(before));
  absl::StatusOr<aws::SecretDescription> d = Client(admin_)->DescribeSecret("edgepass/keyring");
  ASSERT_TRUE(d.ok());
  EXPECT_FALSE(d->VersionWithStage("AWSPENDING").empty());

  // Another replica (a new store) repeats the write: it completes.
  SecretsManagerSecretStore other(Client(admin_), "edgepass/keyring");
  ASSERT_TRUE(other.WriteKeyring(after).ok());
  EXPECT_EQ(core::KeyringToJson(*other.ReadKeyring()), core::KeyringToJson(after));
  d = Client(admin_)->DescribeSecret("edgepass/keyring");
  EXPECT_EQ(d->VersionWithStage("AWSPENDING"), "");
}

TEST_F(SecretsManagerTest, MalformedOrWrongLengthKeyringIsRefusedAndNeverOverwritten) {
  auto sm = Client(admin_);
  ASSERT_TRUE(sm->CreateSecret("bad/json", "{\"keys\": [", "").ok());
  std::string short_key = absl::StrCat(R"({"keys":[{"id":"20240101_aaaaaaaaaaaaaaaaaaaa","value":")",
                                       Hex(127, 'a'), R"(","state":"primary"}]})");
  ASSERT_TRUE(sm->CreateSecret("bad/length", short_key, "").ok());
  core::Keyring good = Ring({Key("20240102_bbbbbbbbbbbbbbbbbbbb", 'b', core::KeyState::kPrimary)});

  SecretsManagerSecretStore json_store(sm, "bad/json");
  absl::StatusOr<core::Keyring> r = json_store.ReadKeyring();
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(r.status().message(), "bad/json")) << r.status();
  EXPECT_EQ(json_store.WriteKeyring(good).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(json_store.read_error_count(), 1);
  EXPECT_EQ(Current("bad/json"), "{\"keys\": [");

  SecretsManagerSecretStore length_store(sm, "bad/length");
  r = length_store.ReadKeyring();
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(r.status().message(), "keys[0].value")) << r.status();
  EXPECT_FALSE(absl::StrContains(r.status().message(), Hex(127, 'a')));
  EXPECT_EQ(length_store.WriteKeyring(good).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Current("bad/length"), short_key);
  EXPECT_EQ(length_store.read_error_count(), 1);
}

TEST_F(SecretsManagerTest, ExpiredOrInvalidCredentialsAreAnErrorAndCounted) {
  ASSERT_TRUE(Client(admin_)->CreateSecret(
      "edgepass/keyring", core::KeyringToJson(Ring({Key("k1", 'a', core::KeyState::kPrimary)})), "").ok());
  aws::Credentials stale{.access_key_id = "ASIASTALESTALESTALE1",
                         .secret_access_key = "s",
                         .session_token = "expired-session"};
  SecretsManagerSecretStore store(Client(stale), "edgepass/keyring");
  absl::StatusOr<core::Keyring> r = store.ReadKeyring();
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnauthenticated) << r.status();
  EXPECT_EQ(store.read_error_count(), 1);
  EXPECT_FALSE(store.WriteKeyring(Ring({Key("k2", 'b', core::KeyState::kPrimary)})).ok());
  EXPECT_TRUE(absl::StrContains(Current("edgepass/keyring"), "\"k1\""));
}

TEST_F(SecretsManagerTest, WebIdentityThroughMotosSts) {
  absl::StatusOr<std::string> role = moto_.CreateRole("edgepass-sa");
  ASSERT_TRUE(role.ok()) << role.status();
  TempDir dir;
  testing::WriteFileOrDie(dir.path() + "/token", "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzYSJ9.c2ln\n");
  std::atomic<int64_t> now_s{absl::ToUnixSeconds(absl::Now())};
  absl::StatusOr<aws::Endpoint> sts = aws::ParseEndpoint(moto_.endpoint());
  auto chain = aws::DefaultCredentialsChain(
      aws::Environment({{"HOME", dir.path()},
                        {"AWS_ROLE_ARN", *role},
                        {"AWS_WEB_IDENTITY_TOKEN_FILE", dir.path() + "/token"},
                        {"AWS_ROLE_SESSION_NAME", "edgepass-test"}}),
      {.http = &http_, .sts_endpoint = *sts, .now = [&] { return absl::FromUnixSeconds(now_s); }});
  ASSERT_TRUE(chain.ok()) << chain.status();
  ASSERT_EQ((*chain)->source(), "web-identity");

  // AssumeRoleWithWebIdentity is unsigned, as in AWS; moto checks it like any
  // other action once authentication is on, so let that one request through.
  ASSERT_TRUE(moto_.AllowUnauthenticated(1));
  auto sm = Client({}, 3, *chain);
  ASSERT_TRUE(sm->CreateSecret("wi", "v1", "").ok());
  absl::StatusOr<aws::SecretValue> v = sm->GetSecretValue("wi");
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->secret_string, "v1");
  absl::StatusOr<aws::Credentials> c = (*chain)->Get();
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c->session_token.empty());
  auto* web = dynamic_cast<aws::WebIdentityCredentialsProvider*>(chain->get());
  ASSERT_NE(web, nullptr);
  EXPECT_EQ(web->exchanges(), 1);  // cached

  // Close to expiry: refreshed before it expires.
  now_s = absl::ToUnixSeconds(c->expiration - aws::kCredentialsRefreshWindow + absl::Seconds(1));
  ASSERT_TRUE(moto_.AllowUnauthenticated(1));
  ASSERT_TRUE(sm->GetSecretValue("wi").ok());
  EXPECT_EQ(web->exchanges(), 2);
  // A refresh that STS refuses (authentication back on) keeps the still-valid credentials.
  absl::StatusOr<aws::Credentials> c2 = (*chain)->Get();
  now_s = absl::ToUnixSeconds(c2->expiration - aws::kCredentialsRefreshWindow + absl::Seconds(1));
  EXPECT_TRUE((*chain)->Get().ok());
  EXPECT_EQ(web->exchanges(), 2);
}

class SmdAdoptionTest : public SecretsManagerTest {
 protected:
  const std::string kPrimaryId = "20240305_0123456789abcdef0123";  // 8-digit date
  const std::string kSecondaryId = "2024035_fedcba9876543210fedc";  // SMD's unpadded day
  const std::string kPrimaryValue = Hex(64, '1') + Hex(64, 'a');
  const std::string kSecondaryValue = Hex(64, '2') + Hex(64, 'b');

  void WriteSmd(const std::string& stack, const std::string& temporary) {
    auto sm = Client(admin_);
    auto pair = [](const std::string& id, const std::string& value) {
      nlohmann::json j;
      j[id] = value;
      return j.dump();
    };
    ASSERT_TRUE(sm->CreateSecret(stack + "_PrimarySecret", pair(kPrimaryId, kPrimaryValue), "").ok());
    ASSERT_TRUE(
        sm->CreateSecret(stack + "_SecondarySecret", pair(kSecondaryId, kSecondaryValue), "").ok());
    ASSERT_TRUE(sm->CreateSecret(stack + "_TemporarySecret", temporary, "").ok());
  }
};

TEST_F(SmdAdoptionTest, SmdSecretsAreTheKeyringAndSmdTokensValidate) {
  WriteSmd("smd", R"({"INITIALIZED_KEY":"INITIALIZED_VALUE"})");
  SmdSecretStore store(Client(admin_), "smd");
  absl::StatusOr<core::Keyring> keys = store.ReadKeyring();
  ASSERT_TRUE(keys.ok()) << keys.status();
  EXPECT_EQ(Ids(*keys), (std::vector<std::string>{kPrimaryId + ":primary",
                                                   kSecondaryId + ":secondary"}));
  absl::Time now = absl::FromUnixSeconds(1709640000);
  int64_t exp = absl::ToUnixSeconds(now) + 3600;
  EXPECT_TRUE(Validates(*keys, SmdToken(kPrimaryId, kPrimaryValue, exp), now));
  EXPECT_TRUE(Validates(*keys, SmdToken(kSecondaryId, kSecondaryValue, exp), now));
}

// Every untampered token of the SMD vectors (made by SMD's own SDK, with the
// primary or the secondary key) gets the outcome it must when the keys come
// from SMD-shaped secrets in the emulation rather than from the vector file.
TEST_F(SmdAdoptionTest, TokensMadeBySmdsSdkValidateWithTheAdoptedKeys) {
  std::vector<testing::VectorCase> cases = testing::LoadVectorCases(testing::VectorsDir());
  ASSERT_FALSE(cases.empty());
  const auto& keys = cases.front().validator_keys;  // primary, secondary
  ASSERT_EQ(keys.size(), 2u);
  auto sm = Client(admin_);
  auto pair = [](const std::pair<std::string, std::string>& kv) {
    nlohmann::json j;
    j[kv.first] = kv.second;
    return j.dump();
  };
  ASSERT_TRUE(sm->CreateSecret("vec_PrimarySecret", pair(keys[0]), "").ok());
  ASSERT_TRUE(sm->CreateSecret("vec_SecondarySecret", pair(keys[1]), "").ok());
  ASSERT_TRUE(sm->CreateSecret("vec_TemporarySecret", R"({"INITIALIZED_KEY":"INITIALIZED_VALUE"})", "").ok());
  absl::StatusOr<core::Keyring> adopted = SmdSecretStore(sm, "vec").ReadKeyring();
  ASSERT_TRUE(adopted.ok()) << adopted.status();
  int checked = 0, valid = 0;
  for (const testing::VectorCase& c : cases) {
    if (c.tampered || c.validator_keys != keys) continue;
    SCOPED_TRACE(c.id);
    std::vector<core::NameValue> headers(c.headers.begin(), c.headers.end());
    std::vector<core::NameValue> query(c.query.begin(), c.query.end());
    core::Decision d = core::Validate(
        {.uri = c.request_uri, .client_ip = c.viewer_ip, .headers = headers, .query = query},
        *adopted, core::RevocationSet(), absl::FromUnixMillis(c.validation_time_ms));
    EXPECT_EQ(d.allow, c.expect_valid) << core::ReasonName(d.reason);
    if (c.expect_valid) EXPECT_EQ(d.path, c.expect_uri);
    ++checked;
    valid += c.expect_valid;
  }
  EXPECT_GE(checked, 10);
  EXPECT_GE(valid, 5);
}

// SMD's rotation Lambda (source/lambda/generate_secret_update_cff) puts its
// new key into TemporarySecret; SMD's swap (source/lambda/swap_secrets) later
// makes it primary. Until then it is not edgepass's: only handed to
// validators (distributed, foreign: never signed with, nor a pending key to
// promote), never stored as edgepass's, and never replaced.
TEST_F(SmdAdoptionTest, SmdsRotationKeyIsNeitherAdoptedNorReplaced) {
  const std::string smd_new = "2024036_00000000000000000abc";
  const std::string smd_temporary = absl::StrCat("{\"", smd_new, "\":\"", Hex(128, 'c'), "\"}");
  WriteSmd("smd2", smd_temporary);
  SmdSecretStore store(Client(admin_), "smd2");
  absl::StatusOr<core::Keyring> keys = store.ReadKeyring();
  ASSERT_TRUE(keys.ok()) << keys.status();
  EXPECT_EQ(Ids(*keys), (std::vector<std::string>{kPrimaryId + ":primary", kSecondaryId + ":secondary",
                                                   smd_new + ":distributed"}));
  EXPECT_TRUE(keys->Find(smd_new)->foreign);
  EXPECT_FALSE(keys->Find(kPrimaryId)->foreign);
  EXPECT_EQ(keys->Primary()->id, kPrimaryId);

  // edgepass's own rotation would replace it: refused, nothing written.
  core::SigningKey primary{.id = kPrimaryId, .value = kPrimaryValue, .state = core::KeyState::kPrimary};
  core::SigningKey secondary{.id = kSecondaryId, .value = kSecondaryValue, .state = core::KeyState::kSecondary};
  absl::Status s = store.WriteKeyring(
      Ring({primary, secondary, Key("20240401_11111111111111111111", 'd', core::KeyState::kPending)}));
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "smd2_TemporarySecret")) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), smd_new)) << s;
  EXPECT_EQ(Current("smd2_TemporarySecret"), smd_temporary);
  EXPECT_EQ(Client(admin_)->GetSecretValue("smd2_EdgepassKeyring").status().code(), absl::StatusCode::kNotFound);
  // A write without a pending key of edgepass's (a revocation) keeps it.
  ASSERT_TRUE(store.WriteKeyring(Ring({primary})).ok());
  EXPECT_EQ(Current("smd2_TemporarySecret"), smd_temporary);
  EXPECT_EQ(Ids(*store.ReadKeyring()), (std::vector<std::string>{kPrimaryId + ":primary", smd_new + ":distributed"}));
  // Written back as it was read (a revocation's read-modify-write): SMD's key
  // is neither stored as edgepass's nor moved.
  ASSERT_TRUE(store.WriteKeyring(*store.ReadKeyring()).ok());
  EXPECT_EQ(Current("smd2_TemporarySecret"), smd_temporary);
  EXPECT_FALSE(absl::StrContains(Current("smd2_EdgepassKeyring"), smd_new));
  EXPECT_TRUE(store.ReadKeyring()->Find(smd_new)->foreign);
}

// SMD's swap replayed write by write as its Lambda makes them: every read in
// between is a keyring, tokens of SMD's primary validate throughout, and
// tokens of the new key from when SMD's SDK can sign with it (it is primary).
TEST_F(SmdAdoptionTest, SmdsSwapKeepsOldAndNewTokensValidAtEveryStep) {
  const std::string smd_new = "2024036_00000000000000000abc";
  const std::string new_value = Hex(128, 'c');
  auto pair = [](const std::string& id, const std::string& value) {
    return absl::StrCat("{\"", id, "\":\"", value, "\"}");
  };
  WriteSmd("swap", pair(smd_new, new_value));
  auto sm = Client(admin_);
  SmdSecretStore store(sm, "swap");
  absl::Time now = absl::FromUnixSeconds(1709640000);
  const int64_t exp = absl::ToUnixSeconds(now) + 3600;
  const std::string old_token = SmdToken(kPrimaryId, kPrimaryValue, exp);
  const std::string new_token = SmdToken(smd_new, new_value, exp);
  auto read = [&] {
    absl::StatusOr<core::Keyring> k = store.ReadKeyring();
    EXPECT_TRUE(k.ok()) << k.status();
    return k.ok() ? *k : core::Keyring();
  };
  EXPECT_TRUE(Validates(read(), old_token, now));
  // swap_secrets/index.js: read Temporary and Primary, then put Secondary,
  // Primary, Temporary.
  const std::string temporary = Current("swap_TemporarySecret");
  const std::string previous = Current("swap_PrimarySecret");
  ASSERT_TRUE(sm->PutSecretValue("swap_SecondarySecret", previous, "", {}).ok());
  EXPECT_TRUE(Validates(read(), old_token, now));
  EXPECT_EQ(read().Primary()->id, kPrimaryId);
  ASSERT_TRUE(sm->PutSecretValue("swap_PrimarySecret", temporary, "", {}).ok());
  EXPECT_TRUE(Validates(read(), old_token, now));
  EXPECT_TRUE(Validates(read(), new_token, now));
  ASSERT_TRUE(sm->PutSecretValue("swap_TemporarySecret", R"({"INITIALIZED_KEY":"INITIALIZED_VALUE"})", "", {}).ok());
  core::Keyring after = read();
  EXPECT_EQ(Ids(after), (std::vector<std::string>{smd_new + ":primary", kPrimaryId + ":secondary"}));
  EXPECT_TRUE(Validates(after, old_token, now));
  EXPECT_TRUE(Validates(after, new_token, now));
}

// SMD's swap run when TemporarySecret held the placeholder copies it into
// PrimarySecret: never a key, and a non-key value is refused naming the secret.
TEST_F(SmdAdoptionTest, PlaceholderOrNonKeyIsNeverAdoptedAsAKey) {
  WriteSmd("ph", R"({"INITIALIZED_KEY":"INITIALIZED_VALUE"})");
  auto sm = Client(admin_);
  SmdSecretStore store(sm, "ph");
  ASSERT_TRUE(store.ReadKeyring().ok());
  ASSERT_TRUE(sm->PutSecretValue("ph_PrimarySecret", R"({"INITIALIZED_KEY":"INITIALIZED_VALUE"})", "", {}).ok());
  absl::StatusOr<core::Keyring> keys = store.ReadKeyring();
  EXPECT_EQ(keys.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(keys.status().message(), "ph_PrimarySecret")) << keys.status();
  EXPECT_TRUE(absl::StrContains(keys.status().message(), "placeholder")) << keys.status();
  for (const char* text : {R"({"INITIALIZED_KEY":"not-a-key"})", R"({"20240401_1":"INITIALIZED_VALUE"})",
                           R"({"20240401_1":"ABCDEF"})"}) {
    SCOPED_TRACE(text);
    ASSERT_TRUE(sm->PutSecretValue("ph_PrimarySecret", absl::StrCat("{\"", kPrimaryId, "\":\"", kPrimaryValue, "\"}"), "", {}).ok());
    ASSERT_TRUE(sm->PutSecretValue("ph_TemporarySecret", text, "", {}).ok());
    keys = store.ReadKeyring();
    EXPECT_EQ(keys.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_TRUE(absl::StrContains(keys.status().message(), "ph_TemporarySecret")) << keys.status();
    EXPECT_FALSE(absl::StrContains(keys.status().message(), "not-a-key")) << "values are never quoted";
    EXPECT_FALSE(absl::StrContains(keys.status().message(), "ABCDEF")) << "values are never quoted";
  }
}

TEST_F(SmdAdoptionTest, AfterEdgepassRotatesSmdReadersGetTheNewKey) {
  WriteSmd("live", R"({"INITIALIZED_KEY":"INITIALIZED_VALUE"})");
  SmdSecretStore store(Client(admin_), "live");
  absl::StatusOr<core::Keyring> adopted = store.ReadKeyring();
  ASSERT_TRUE(adopted.ok()) << adopted.status();

  // Step 1 of a rotation: a new pending key.
  const std::string new_id = "20240401_11111111111111111111";
  core::SigningKey fresh = Key(new_id, 'd', core::KeyState::kPending);
  core::SigningKey primary{.id = kPrimaryId, .value = kPrimaryValue, .state = core::KeyState::kPrimary};
  core::SigningKey secondary{.id = kSecondaryId, .value = kSecondaryValue,
                             .state = core::KeyState::kSecondary};
  ASSERT_TRUE(store.WriteKeyring(Ring({primary, secondary, fresh})).ok());
  EXPECT_EQ(Current("live_TemporarySecret"), absl::StrCat("{\"", new_id, "\":\"", Hex(128, 'd'), "\"}"));
  EXPECT_EQ(Current("live_PrimarySecret"), absl::StrCat("{\"", kPrimaryId, "\":\"", kPrimaryValue, "\"}"));

  // Promotion: new primary, old primary secondary, old secondary retired.
  fresh.state = core::KeyState::kPrimary;
  primary.state = core::KeyState::kSecondary;
  core::SigningKey retired = secondary;
  retired.state = core::KeyState::kRetired;
  retired.not_after = absl::FromUnixSeconds(1900000000);
  core::Keyring promoted = Ring({fresh, primary, retired});
  ASSERT_TRUE(store.WriteKeyring(promoted).ok());

  // What SMD's SDK and rotation read.
  EXPECT_EQ(Current("live_PrimarySecret"), absl::StrCat("{\"", new_id, "\":\"", Hex(128, 'd'), "\"}"));
  EXPECT_EQ(Current("live_SecondarySecret"), absl::StrCat("{\"", kPrimaryId, "\":\"", kPrimaryValue, "\"}"));
  EXPECT_EQ(Current("live_TemporarySecret"), R"({"INITIALIZED_KEY":"INITIALIZED_VALUE"})");
  // edgepass reads its own secret back, the retired key included.
  absl::StatusOr<core::Keyring> back = store.ReadKeyring();
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(core::KeyringToJson(*back), core::KeyringToJson(promoted));

  // SMD's own rotation runs once more (its swap): the SMD secrets win again,
  // and the key edgepass retired is kept until its not_after.
  auto sm = Client(admin_);
  const std::string smd_new = "2024041_22222222222222222222";
  ASSERT_TRUE(sm->PutSecretValue("live_SecondarySecret", absl::StrCat("{\"", new_id, "\":\"", Hex(128, 'd'), "\"}"), "", {}).ok());
  ASSERT_TRUE(sm->PutSecretValue("live_PrimarySecret", absl::StrCat("{\"", smd_new, "\":\"", Hex(128, 'e'), "\"}"), "", {}).ok());
  back = store.ReadKeyring();
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(Ids(*back), (std::vector<std::string>{smd_new + ":primary", new_id + ":secondary",
                                                  kSecondaryId + ":retired"}));
}

// A promotion that stopped after writing <stack>_EdgepassKeyring and the
// secondary secret (the step where the old secondary leaves SMD's secrets):
// the key being retired still validates.
TEST_F(SmdAdoptionTest, PromotionStoppedHalfWayKeepsEveryKey) {
  const std::string new_id = "20240401_11111111111111111111";
  WriteSmd("half", absl::StrCat("{\"", new_id, "\":\"", Hex(128, 'd'), "\"}"));
  core::Keyring promoted = Ring(
      {Key(new_id, 'd', core::KeyState::kPrimary),
       {.id = kPrimaryId, .value = kPrimaryValue, .state = core::KeyState::kSecondary},
       {.id = kSecondaryId, .value = kSecondaryValue, .state = core::KeyState::kRetired,
        .not_after = absl::FromUnixSeconds(1900000000)}});
  auto sm = Client(admin_);
  ASSERT_TRUE(sm->CreateSecret("half_EdgepassKeyring", core::KeyringToJson(promoted), "").ok());
  ASSERT_TRUE(sm->PutSecretValue("half_SecondarySecret",
                                 absl::StrCat("{\"", kPrimaryId, "\":\"", kPrimaryValue, "\"}"), "", {})
                  .ok());
  // ... the writer died here.
  absl::StatusOr<core::Keyring> keys = SmdSecretStore(sm, "half").ReadKeyring();
  ASSERT_TRUE(keys.ok()) << keys.status();
  EXPECT_EQ(Ids(*keys), (std::vector<std::string>{kPrimaryId + ":primary", new_id + ":pending",
                                                  kSecondaryId + ":retired"}));
  absl::Time now = absl::FromUnixSeconds(1712000000);
  int64_t exp = absl::ToUnixSeconds(now) + 3600;
  EXPECT_TRUE(Validates(*keys, SmdToken(kSecondaryId, kSecondaryValue, exp), now));
  EXPECT_TRUE(Validates(*keys, SmdToken(kPrimaryId, kPrimaryValue, exp), now));
  // The next write (the rotation resumed) completes it.
  SmdSecretStore store(sm, "half");
  ASSERT_TRUE(store.WriteKeyring(promoted).ok());
  EXPECT_EQ(core::KeyringToJson(*store.ReadKeyring()), core::KeyringToJson(promoted));
  EXPECT_EQ(Current("half_TemporarySecret"), R"({"INITIALIZED_KEY":"INITIALIZED_VALUE"})");
}

TEST_F(SmdAdoptionTest, MalformedSmdSecretIsRefusedAndNothingIsWritten) {
  WriteSmd("broken", R"({"a":"b","c":"d"})");
  SmdSecretStore store(Client(admin_), "broken");
  absl::StatusOr<core::Keyring> keys = store.ReadKeyring();
  EXPECT_EQ(keys.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(keys.status().message(), "broken_TemporarySecret")) << keys.status();
  EXPECT_EQ(store.read_error_count(), 1);
  EXPECT_EQ(store.WriteKeyring(Ring({Key("20240401_11111111111111111111", 'd', core::KeyState::kPrimary)}))
                .code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Current("broken_PrimarySecret"), absl::StrCat("{\"", kPrimaryId, "\":\"", kPrimaryValue, "\"}"));
}

// The counted bounded-reads test of redis_state_test.cc, with the keyring in
// Secrets Manager: two replicas, four issuing threads, 60 s of simulated
// time, a 10 s key-cache TTL -> at most 7 reads of the secrets store.
TEST_F(SecretsManagerTest, TwoReplicasReadSecretsManagerAtMostOncePerTtl) {
  if (!testing::RedisServerAvailable()) GTEST_SKIP() << "redis-server is not installed";
  testing::RedisServer redis;
  ASSERT_TRUE(redis.Start());
  SecretsManagerSecretStore store(Client(admin_), "edgepass/keyring");
  core::SecureRandom random;
  ASSERT_TRUE(store.LoadOrCreate(absl::Now(), random).ok());
  const int64_t reads_before = store.read_count();

  testing::TestClock clock(absl::FromUnixSeconds(1767225600));
  RedisKeyringCacheOptions options{.ttl = absl::Seconds(10),
                                   .lock_ttl = absl::Seconds(10),
                                   .fill_wait = absl::Seconds(5),
                                   .retry_interval = absl::Seconds(1),
                                   .store_backoff = absl::Seconds(30),
                                   .first_wait = absl::Seconds(10),
                                   .clock = [&clock] { return clock.Now(); }};
  auto client = [&] {
    absl::StatusOr<std::unique_ptr<RedisClient>> c =
        RedisClient::Create({.address = redis.address(), .pool_size = 4});
    EXPECT_TRUE(c.ok()) << c.status();
    return *std::move(c);
  };
  std::unique_ptr<RedisClient> c1 = client();
  std::unique_ptr<RedisClient> c2 = client();
  RedisKeyringCache replica1(*c1, store, nullptr, options);
  RedisKeyringCache replica2(*c2, store, nullptr, options);

  constexpr absl::Duration kRun = absl::Seconds(60);
  const testing::KeyringLoad load = testing::RunIssuers(
      replica1, replica2, [&](absl::Duration d) { clock.Advance(d); }, kRun, absl::Milliseconds(100));

  const int64_t reads = store.read_count() - reads_before;
  EXPECT_LE(reads, kRun / absl::Seconds(10) + 1) << "calls: " << load.calls;
  EXPECT_GE(reads, 2);  // it did refresh
  EXPECT_EQ(store.read_error_count(), 0);
  EXPECT_EQ(load.failures, 0);
  EXPECT_GT(load.calls, 1000);
}

// A local HTTP server run by python from `script` (it takes its port as
// argv[1], then `args`) on a free loopback port; it answers by the time the
// constructor returns (or 10 s passed).
class ScriptedHttpServer {
 public:
  ScriptedHttpServer(const TempDir& dir, const char* script, const std::vector<std::string>& args = {})
      : port_(testing::FreeLoopbackPort()),
        endpoint_(*aws::ParseEndpoint(absl::StrCat("http://127.0.0.1:", port_))),
        process_(Argv(script, port_, args), dir.path() + "/out", dir.path() + "/err") {
    aws::HttpClient http;
    aws::HttpRequest probe{.method = "GET", .path = "/", .headers = {{"Host", endpoint_.HostHeader()}}};
    absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (!http.Send(endpoint_, probe).ok() && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(50));
  }
  const aws::Endpoint& endpoint() const { return endpoint_; }

 private:
  static std::vector<std::string> Argv(const char* script, int port, const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"/usr/bin/env", "python3", "-c", script, std::to_string(port)};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  }

  int port_;
  aws::Endpoint endpoint_;
  ChildProcess process_;
};

// A local HTTP server that answers every request with a throttling error.
constexpr char kThrottleServer[] = R"PY(
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = b'{"__type":"ThrottlingException","message":"Rate exceeded"}'
        self.send_response(400)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
)PY";

TEST(SecretsManagerThrottling, RetriesWithBackoffThenUnavailableAndCounted) {
  TempDir dir;
  ScriptedHttpServer server(dir, kThrottleServer);
  const aws::Endpoint* ep = &server.endpoint();
  aws::HttpClient http;
  std::vector<absl::Duration> sleeps;
  auto sm = std::make_shared<aws::SecretsManagerClient>(
      aws::SecretsManagerOptions{.region = kRegion,
                                 .endpoint = *ep,
                                 .max_attempts = 4,
                                 .base_backoff = absl::Milliseconds(100),
                                 .max_backoff = absl::Milliseconds(250),
                                 .sleep = [&](absl::Duration d) { sleeps.push_back(d); }},
      std::make_shared<aws::StaticCredentialsProvider>(
          aws::Credentials{.access_key_id = "AKIDEXAMPLE", .secret_access_key = "s"}),
      &http);
  int64_t before = sm->requests_sent();
  SecretsManagerSecretStore store(sm, "edgepass/keyring");
  absl::StatusOr<core::Keyring> r = store.ReadKeyring();
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(absl::StrContains(r.status().message(), "ThrottlingException")) << r.status();
  EXPECT_TRUE(absl::StrContains(r.status().message(), "after 4 attempts")) << r.status();
  EXPECT_EQ(sm->requests_sent() - before, 4);
  ASSERT_EQ(sleeps.size(), 3u);
  // Full jitter under a growing cap: 100 ms, 200 ms, then the 250 ms ceiling.
  EXPECT_LE(sleeps[0], absl::Milliseconds(100));
  EXPECT_LE(sleeps[1], absl::Milliseconds(200));
  EXPECT_LE(sleeps[2], absl::Milliseconds(250));
  EXPECT_EQ(store.read_count(), 1);
  EXPECT_EQ(store.read_error_count(), 1);
  EXPECT_EQ(store.WriteKeyring(Ring({Key("k", 'a', core::KeyState::kPrimary)})).code(),
            absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace edgepass::server

namespace edgepass::server {
namespace {

// A local HTTP server that refuses a signing time more than 5 minutes off
// its own clock, as AWS does, and answers GetSecretValue otherwise.
constexpr char kSkewServer[] = R"PY(
import datetime, http.server, json, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        sent = datetime.datetime.strptime(self.headers["X-Amz-Date"], "%Y%m%dT%H%M%SZ")
        skew = abs((datetime.datetime.utcnow() - sent).total_seconds())
        if skew > 300:
            status, body = 400, {"__type": "InvalidSignatureException",
                                 "message": "Signature expired: %s is now earlier than ..." % self.headers["X-Amz-Date"]}
        else:
            status, body = 200, {"ARN": "arn", "Name": "n", "VersionId": "v1", "SecretString": "s",
                                 "VersionStages": ["AWSCURRENT"]}
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
)PY";

TEST(SecretsManagerClockSkew, ClientLearnsTheServersClockFromARefusal) {
  TempDir dir;
  ScriptedHttpServer server(dir, kSkewServer);
  const aws::Endpoint* ep = &server.endpoint();
  aws::HttpClient http;

  // Our clock is an hour behind.
  aws::SecretsManagerClient sm(
      {.region = kRegion,
       .endpoint = *ep,
       .now = [] { return absl::Now() - absl::Hours(1); },
       .sleep = [](absl::Duration) {}},
      std::make_shared<aws::StaticCredentialsProvider>(
          aws::Credentials{.access_key_id = "AKIDEXAMPLE", .secret_access_key = "s"}),
      &http);
  absl::StatusOr<aws::SecretValue> v = sm.GetSecretValue("n");
  ASSERT_TRUE(v.ok()) << v.status() << " " << testing::ReadFileOrEmpty(dir.path() + "/err");
  EXPECT_EQ(v->secret_string, "s");
  EXPECT_EQ(sm.requests_sent(), 2);  // refused once, then signed with the corrected time
  EXPECT_GT(sm.clock_skew(), absl::Minutes(59));
  EXPECT_LT(sm.clock_skew(), absl::Minutes(61));
  ASSERT_TRUE(sm.GetSecretValue("n").ok());
  EXPECT_EQ(sm.requests_sent(), 3);  // remembered
}

}  // namespace
}  // namespace edgepass::server

namespace edgepass::server {
namespace {

// Answers the first GetSecretValue with the keyring in argv[2], then
// throttles every request.
constexpr char kThrottleAfterFirstServer[] = R"PY(
import http.server, json, sys
served = [False]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if not served[0]:
            served[0] = True
            status, body = 200, {"ARN": "arn", "Name": "edgepass/keyring", "VersionId": "v1",
                                 "SecretString": sys.argv[2], "VersionStages": ["AWSCURRENT"]}
        else:
            status, body = 400, {"__type": "ThrottlingException", "message": "Rate exceeded"}
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
)PY";

// Throttling for a simulated minute: the keyring read before stays in use,
// the error counter (the alert metric's source) rises, nothing is written.
TEST(SecretsManagerThrottling, CachedKeyringStaysInUseWhileThrottled) {
  TempDir dir;
  core::Keyring keys = Ring({Key("20240101_aaaaaaaaaaaaaaaaaaaa", 'a', core::KeyState::kPrimary)});
  ScriptedHttpServer server(dir, kThrottleAfterFirstServer, {core::KeyringToJson(keys)});
  const aws::Endpoint* ep = &server.endpoint();
  aws::HttpClient http;

  auto sm = std::make_shared<aws::SecretsManagerClient>(
      aws::SecretsManagerOptions{.region = kRegion, .endpoint = *ep, .max_attempts = 2,
                                 .sleep = [](absl::Duration) {}},
      std::make_shared<aws::StaticCredentialsProvider>(
          aws::Credentials{.access_key_id = "AKIDEXAMPLE", .secret_access_key = "s"}),
      &http);
  SecretsManagerSecretStore store(sm, "edgepass/keyring");
  std::atomic<int64_t> now_s{1767225600};
  CachedKeyringSource source(store, nullptr,
                             {.ttl = absl::Seconds(10),
                              .retry_interval = absl::Seconds(5),
                              .clock = [&] { return absl::FromUnixSeconds(now_s); }});
  absl::StatusOr<std::shared_ptr<const core::Keyring>> first = source.Current();
  ASSERT_TRUE(first.ok()) << first.status();
  for (int i = 0; i < 60; ++i) {
    now_s += 1;
    absl::StatusOr<std::shared_ptr<const core::Keyring>> k = source.Current();
    ASSERT_TRUE(k.ok()) << k.status();
    EXPECT_EQ((*k)->Primary()->id, "20240101_aaaaaaaaaaaaaaaaaaaa");
  }
  EXPECT_GE(store.read_error_count(), 5);  // one refused refresh per retry_interval
  EXPECT_LE(store.read_error_count(), 13);
  EXPECT_EQ(store.read_count(), store.read_error_count() + 1);
}

}  // namespace
}  // namespace edgepass::server
