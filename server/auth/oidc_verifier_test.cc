// OidcVerifier against tokens minted here with RSA keys generated at test
// time, a JWKS in a real temp file or served by a real loopback HTTP server.
#include "server/auth/oidc_verifier.h"

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "core/crypto.h"
#include "files/atomic_file.h"
#include "gtest/gtest.h"
#include "tests/fakes/test_clock.h"
#include "tests/support/oidc_test_tokens.h"
#include "tests/support/test_process.h"

namespace edgepass::server {
namespace {

using ::edgepass::testing::IdTokenClaims;
using ::edgepass::testing::JwksHost;
using ::edgepass::testing::JwksJson;
using ::edgepass::testing::OidcTestKey;
using ::edgepass::testing::SignHs256;
using ::edgepass::testing::UnsignedToken;
using ::edgepass::testing::WriteJwksFile;
using Json = nlohmann::json;

constexpr char kIssuer[] = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_EdgeTest";
constexpr char kAudience[] = "edgepass-viewer-app";
const absl::Time kStart = absl::FromUnixSeconds(1'700'000'000);

// RSA key generation costs ~50 ms: one of each per test process.
const OidcTestKey& KeyA() {
  static const auto* key = new OidcTestKey("key-a");
  return *key;
}
const OidcTestKey& KeyB() {
  static const auto* key = new OidcTestKey("key-b");
  return *key;
}
const OidcTestKey& KeyC() {  // in no JWKS until a rotation adds it
  static const auto* key = new OidcTestKey("key-c");
  return *key;
}

// Refusal checks shared by every test: the exact code and message, the reason
// payload, and no piece of the token in the message.
void ExpectRefused(const absl::StatusOr<OidcIdentity>& result, const std::string& token,
                   OidcReason reason, absl::string_view message) {
  ASSERT_FALSE(result.ok()) << "accepted; want " << message;
  EXPECT_EQ(result.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(result.status().message(), message);
  EXPECT_EQ(OidcReasonOf(result.status()), reason) << result.status();
  for (absl::string_view part : absl::StrSplit(token, '.')) {
    if (part.size() >= 8) {
      EXPECT_FALSE(absl::StrContains(result.status().ToString(), part)) << "token leaked";
    }
  }
}

class OidcVerifierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    jwks_path_ = dir_.path() + "/jwks.json";
    WriteJwksFile(jwks_path_, {&KeyA(), &KeyB()});
  }

  OidcOptions Options() const {
    return {.issuer = kIssuer, .audiences = {kAudience}, .jwks_source = jwks_path_};
  }

  std::unique_ptr<OidcVerifier> Make(OidcOptions options) {
    absl::StatusOr<std::unique_ptr<OidcVerifier>> v =
        OidcVerifier::Create(std::move(options), clock_.AsFunction());
    EXPECT_TRUE(v.ok()) << v.status();
    return v.ok() ? std::move(*v) : nullptr;
  }
  std::unique_ptr<OidcVerifier> Make() { return Make(Options()); }

  Json Claims(const std::vector<std::string>& groups = {"premium", "beta"}) const {
    return IdTokenClaims(kIssuer, kAudience, clock_.Now(), groups);
  }

  void Refused(const OidcVerifier& v, const std::string& token, OidcReason reason,
               absl::string_view message) {
    SCOPED_TRACE(message);
    ExpectRefused(v.Verify(token), token, reason, message);
  }

  edgepass::testing::TempDir dir_;
  std::string jwks_path_;
  ::edgepass::testing::TestClock clock_{kStart};
};

TEST_F(OidcVerifierTest, ValidTokenYieldsSubjectGroupsAndExpiry) {
  auto v = Make();
  ASSERT_NE(v, nullptr);
  absl::StatusOr<OidcIdentity> id = v->Verify(KeyA().Mint(Claims()));
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->subject, "viewer-1");
  EXPECT_EQ(id->groups, (std::vector<std::string>{"premium", "beta"}));
  EXPECT_EQ(id->expires_at, kStart + absl::Hours(1));
  EXPECT_EQ(v->KeysStatus().keys, 2u);
}

TEST_F(OidcVerifierTest, TokenWithoutGroupsHasNone) {
  auto v = Make();
  absl::StatusOr<OidcIdentity> id = v->Verify(KeyA().Mint(Claims({})));
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_TRUE(id->groups.empty());
}

TEST_F(OidcVerifierTest, SecondKeyOfTheJwksVerifies) {
  auto v = Make();
  absl::StatusOr<OidcIdentity> id = v->Verify(KeyB().Mint(Claims()));
  EXPECT_TRUE(id.ok()) << id.status();
}

TEST_F(OidcVerifierTest, ExpiredWithinLeewayIsAcceptedBeyondIsRefused) {
  auto v = Make();
  Json claims = Claims();
  claims["exp"] = absl::ToUnixSeconds(kStart) - 29;  // leeway 30 s
  EXPECT_TRUE(v->Verify(KeyA().Mint(claims)).ok());
  claims["exp"] = absl::ToUnixSeconds(kStart) - 30;
  Refused(*v, KeyA().Mint(claims), OidcReason::kExpired, "id token: expired");
  // A token that was valid expires as the clock moves.
  const std::string token = KeyA().Mint(Claims());
  EXPECT_TRUE(v->Verify(token).ok());
  clock_.Advance(absl::Hours(1) + absl::Seconds(30));
  Refused(*v, token, OidcReason::kExpired, "id token: expired");
}

TEST_F(OidcVerifierTest, NotBeforeInTheFutureIsRefused) {
  auto v = Make();
  Json claims = Claims();
  claims["nbf"] = absl::ToUnixSeconds(kStart) + 60;
  Refused(*v, KeyA().Mint(claims), OidcReason::kNotYetValid, "id token: not yet valid");
  claims["nbf"] = absl::ToUnixSeconds(kStart) + 20;  // within leeway
  EXPECT_TRUE(v->Verify(KeyA().Mint(claims)).ok());
}

TEST_F(OidcVerifierTest, IssuedInTheFutureIsRefused) {
  auto v = Make();
  Json claims = Claims();
  claims["iat"] = absl::ToUnixSeconds(kStart) + 3600;
  Refused(*v, KeyA().Mint(claims), OidcReason::kIssuedInFuture, "id token: issued in the future");
}

TEST_F(OidcVerifierTest, WrongAudienceIsRefused) {
  auto v = Make();
  Json claims = Claims();
  claims["aud"] = "some-other-app";
  Refused(*v, KeyA().Mint(claims), OidcReason::kAudienceMismatch, "id token: audience mismatch");
  claims["aud"] = Json::array({"a", "b"});
  Refused(*v, KeyA().Mint(claims), OidcReason::kAudienceMismatch, "id token: audience mismatch");
  claims["aud"] = Json::array();
  Refused(*v, KeyA().Mint(claims), OidcReason::kAudienceMismatch, "id token: audience mismatch");
}

TEST_F(OidcVerifierTest, AudienceListContainingOursIsAccepted) {
  auto v = Make();
  Json claims = Claims();
  claims["aud"] = Json::array({"another-app", kAudience});
  EXPECT_TRUE(v->Verify(KeyA().Mint(claims)).ok());
  // Any one of several configured audiences will do.
  OidcOptions options = Options();
  options.audiences = {"tv-app", "web-app"};
  auto multi = Make(options);
  claims["aud"] = "web-app";
  EXPECT_TRUE(multi->Verify(KeyA().Mint(claims)).ok());
}

TEST_F(OidcVerifierTest, WrongIssuerIsRefused) {
  auto v = Make();
  Json claims = Claims();
  for (const std::string& iss :
       {std::string("https://evil.example"), absl::StrCat(kIssuer, "/"), std::string("")}) {
    claims["iss"] = iss;
    Refused(*v, KeyA().Mint(claims), OidcReason::kIssuerMismatch, "id token: issuer mismatch");
  }
}

TEST_F(OidcVerifierTest, AlgNoneIsRefused) {
  auto v = Make();
  const std::string claims = Claims().dump();
  for (const char* header :
       {R"({"alg":"none","kid":"key-a"})", R"({"alg":"None"})", R"({"alg":"NONE","typ":"JWT"})",
        R"({"kid":"key-a"})", R"({"alg":null})"}) {
    Refused(*v, UnsignedToken(header, claims), OidcReason::kAlgNotAllowed,
            "id token: alg must be RS256");
  }
  // An RS256 header with the signature stripped is no better.
  const std::string stripped = UnsignedToken(R"({"alg":"RS256","kid":"key-a"})", claims);
  Refused(*v, stripped, OidcReason::kMalformed,
          "id token: malformed (signature is not unpadded base64url)");
}

TEST_F(OidcVerifierTest, Hs256SignedWithThePublicKeyIsRefused) {
  auto v = Make();
  const std::string claims = Claims().dump();
  const std::string header = R"({"alg":"HS256","typ":"JWT","kid":"key-a"})";
  // The classic key-confusion secrets: the PEM, the JWK text, the raw modulus.
  std::string modulus;
  ASSERT_TRUE(core::Base64UrlDecode(KeyA().PublicJwk()["n"].get<std::string>(), &modulus));
  for (const std::string& secret :
       {KeyA().PublicKeyPem(), KeyA().PublicJwk().dump(), modulus, std::string("")}) {
    Refused(*v, SignHs256(header, claims, secret), OidcReason::kAlgNotAllowed,
            "id token: alg must be RS256");
  }
}

TEST_F(OidcVerifierTest, OtherAsymmetricAlgorithmsAreRefused) {
  auto v = Make();
  const std::string claims = Claims().dump();
  for (const char* alg : {"RS384", "RS512", "PS256", "ES256", "EdDSA", "rs256"}) {
    // Really RS256-signed: only the header's claim differs.
    const std::string token =
        KeyA().SignRs256(absl::StrCat(R"({"alg":")", alg, R"(","kid":"key-a"})"), claims);
    Refused(*v, token, OidcReason::kAlgNotAllowed, "id token: alg must be RS256");
  }
}

TEST_F(OidcVerifierTest, UnknownKidIsRefused) {
  auto v = Make();
  Refused(*v, KeyC().Mint(Claims()), OidcReason::kUnknownKid, "id token: unknown kid");
}

TEST_F(OidcVerifierTest, MissingKidSelectsTheOnlyKey) {
  const OidcTestKey& a = KeyA();
  const std::string claims = Claims().dump();
  const std::string no_kid = a.SignRs256(R"({"alg":"RS256","typ":"JWT"})", claims);
  // Two keys: a token without kid matches none.
  auto two = Make();
  Refused(*two, no_kid, OidcReason::kUnknownKid, "id token: unknown kid");
  // One key: it is used.
  WriteJwksFile(jwks_path_, {&a});
  auto one = Make();
  EXPECT_TRUE(one->Verify(no_kid).ok());
  // A kid the single key does not have still fails.
  Refused(*one, a.SignRs256(R"({"alg":"RS256","kid":"key-x"})", claims), OidcReason::kUnknownKid,
          "id token: unknown kid");
}

TEST_F(OidcVerifierTest, TamperedSignatureIsRefused) {
  auto v = Make();
  const std::string token = KeyA().Mint(Claims());
  const size_t dot = token.rfind('.');
  std::string sig;
  ASSERT_TRUE(core::Base64UrlDecode(token.substr(dot + 1), &sig));
  for (size_t i : {size_t{0}, sig.size() / 2, sig.size() - 1}) {
    std::string flipped = sig;
    flipped[i] ^= 0x01;
    Refused(*v, absl::StrCat(token.substr(0, dot + 1), core::Base64UrlEncode(flipped)),
            OidcReason::kBadSignature, "id token: bad signature");
  }
  // Truncated, or signed by another key under key-a's kid.
  Refused(*v, absl::StrCat(token.substr(0, dot + 1), core::Base64UrlEncode(sig.substr(1))),
          OidcReason::kBadSignature, "id token: bad signature");
  Refused(*v, KeyC().SignRs256(R"({"alg":"RS256","kid":"key-a"})", Claims().dump()),
          OidcReason::kBadSignature, "id token: bad signature");
  // Claims changed after signing.
  const std::vector<std::string> parts = absl::StrSplit(token, '.');
  Json richer = Claims({"platinum"});
  Refused(*v, absl::StrCat(parts[0], ".", core::Base64UrlEncode(richer.dump()), ".", parts[2]),
          OidcReason::kBadSignature, "id token: bad signature");
}

TEST_F(OidcVerifierTest, KeysNamedInTheTokenHeaderAreIgnored) {
  auto v = Make();
  // An attacker's key embedded as "jwk", or pointed at by "jku"/"x5u": never used.
  Json header = {{"alg", "RS256"}, {"kid", "key-a"}, {"jwk", KeyC().PublicJwk()}};
  Refused(*v, KeyC().SignRs256(header.dump(), Claims().dump()), OidcReason::kBadSignature,
          "id token: bad signature");
  header = {{"alg", "RS256"},
            {"kid", "key-c"},
            {"jku", "http://127.0.0.1:1/jwks.json"},
            {"x5u", "http://127.0.0.1:1/cert.pem"}};
  Refused(*v, KeyC().SignRs256(header.dump(), Claims().dump()), OidcReason::kUnknownKid,
          "id token: unknown kid");
}

TEST_F(OidcVerifierTest, MalformedTokensAreRefused) {
  auto v = Make();
  const std::string good = KeyA().Mint(Claims());
  const std::vector<std::string> parts = absl::StrSplit(good, '.');
  const std::string b64_header = parts[0];
  struct Case {
    std::string token;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"", "id token: malformed (not three dot-separated parts)"},
      {absl::StrCat(parts[0], ".", parts[1]),
       "id token: malformed (not three dot-separated parts)"},
      {absl::StrCat(good, ".x"), "id token: malformed (not three dot-separated parts)"},
      {absl::StrCat(good, ".x.y"),
       "id token: malformed (encrypted tokens (JWE) are not supported)"},
      {absl::StrCat("!!!!.", parts[1], ".", parts[2]),
       "id token: malformed (header is not unpadded base64url)"},
      {absl::StrCat(parts[0], "=.", parts[1], ".", parts[2]),
       "id token: malformed (header is not unpadded base64url)"},
      {absl::StrCat(" ", good), "id token: malformed (header is not unpadded base64url)"},
      {absl::StrCat(core::Base64UrlEncode("{not json"), ".", parts[1], ".", parts[2]),
       "id token: malformed (header is not a JSON object)"},
      {absl::StrCat(core::Base64UrlEncode(R"(["RS256"])"), ".", parts[1], ".", parts[2]),
       "id token: malformed (header is not a JSON object)"},
      {absl::StrCat(parts[0], ".", core::Base64UrlEncode("claims?"), ".", parts[2]),
       "id token: malformed (payload is not a JSON object)"},
      {absl::StrCat(parts[0], ".", parts[1], ".", parts[2], "*"),
       "id token: malformed (signature is not unpadded base64url)"},
      {absl::StrCat(parts[0], ".", parts[1], ".", parts[2], "="),
       "id token: malformed (signature is not unpadded base64url)"},
      {KeyA().SignRs256(R"({"alg":"RS256","kid":7})", Claims().dump()),
       "id token: malformed (\"kid\" is not a string)"},
      {KeyA().SignRs256(R"({"alg":"RS256","kid":"key-a","crit":["exp"]})", Claims().dump()),
       "id token: malformed (\"crit\" header is not supported)"},
  };
  for (const Case& c : cases) Refused(*v, c.token, OidcReason::kMalformed, c.message);

  // Huge: refused on size alone, before any decoding.
  Json claims = Claims();
  claims["padding"] = std::string(kMaxIdTokenBytes, 'x');
  Refused(*v, KeyA().Mint(claims), OidcReason::kMalformed,
          "id token: malformed (larger than 16384 bytes)");
  Refused(*v, std::string(1 << 20, 'a'), OidcReason::kMalformed,
          "id token: malformed (larger than 16384 bytes)");
  // Just under the bound is fine.
  claims["padding"] = std::string(8000, 'x');
  EXPECT_TRUE(v->Verify(KeyA().Mint(claims)).ok());
}

TEST_F(OidcVerifierTest, RequiredClaimsMustBePresentAndTyped) {
  auto v = Make();
  for (const char* name : {"iss", "aud", "exp", "sub"}) {
    Json claims = Claims();
    claims.erase(name);
    Refused(*v, KeyA().Mint(claims), OidcReason::kMissingClaim,
            absl::StrCat("id token: missing claim \"", name, "\""));
  }
  struct Case {
    const char* name;
    Json value;
    const char* message;
  };
  const std::vector<Case> cases = {
      {"exp", "tomorrow", "id token: malformed (\"exp\" is not a number)"},
      {"nbf", Json::array(), "id token: malformed (\"nbf\" is not a number)"},
      {"iat", true, "id token: malformed (\"iat\" is not a number)"},
      {"iss", 42, "id token: malformed (\"iss\" is not a string)"},
      {"aud", 42, "id token: malformed (\"aud\" is not a string or a list of strings)"},
      {"aud", Json::array({kAudience, 1}),
       "id token: malformed (\"aud\" is not a string or a list of strings)"},
      {"sub", "", "id token: malformed (\"sub\" is not a non-empty string)"},
      {"sub", 12, "id token: malformed (\"sub\" is not a non-empty string)"},
      {"cognito:groups", Json::object(),
       "id token: malformed (\"cognito:groups\" is not a string or a list of strings)"},
  };
  for (const Case& c : cases) {
    Json claims = Claims();
    claims[c.name] = c.value;
    Refused(*v, KeyA().Mint(claims), OidcReason::kMalformed, c.message);
  }
  // NumericDate may carry a fraction.
  Json claims = Claims();
  claims["exp"] = absl::ToUnixSeconds(kStart) + 0.5;
  absl::StatusOr<OidcIdentity> id = v->Verify(KeyA().Mint(claims));
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->expires_at, kStart + absl::Milliseconds(500));
}

TEST_F(OidcVerifierTest, AccessTokensAreRefused) {
  auto v = Make();
  Json claims = Claims();
  claims["token_use"] = "access";
  Refused(*v, KeyA().Mint(claims), OidcReason::kWrongTokenUse,
          "id token: token_use must be \"id\"");
  claims.erase("token_use");  // other providers have no token_use
  EXPECT_TRUE(v->Verify(KeyA().Mint(claims)).ok());
}

TEST_F(OidcVerifierTest, GroupsClaimIsConfigurable) {
  OidcOptions options = Options();
  options.groups_claim = "groups";
  auto v = Make(options);
  Json claims = Claims({"ignored"});  // under cognito:groups
  claims["groups"] = Json::array({"gold", "kids"});
  absl::StatusOr<OidcIdentity> id = v->Verify(KeyA().Mint(claims));
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->groups, (std::vector<std::string>{"gold", "kids"}));
  claims["groups"] = "gold";  // one group as a plain string
  id = v->Verify(KeyA().Mint(claims));
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->groups, (std::vector<std::string>{"gold"}));
}

TEST_F(OidcVerifierTest, RotatedJwksFileIsPickedUpByAnUnknownKid) {
  auto v = Make();
  WriteJwksFile(jwks_path_, {&KeyB(), &KeyC()});  // the provider rotated A out, C in
  const std::string new_token = KeyC().Mint(Claims());
  // Within 30 s of the last read, an unknown kid does not cause a re-read.
  clock_.Advance(absl::Seconds(29));
  Refused(*v, new_token, OidcReason::kUnknownKid, "id token: unknown kid");
  clock_.Advance(absl::Seconds(1));
  absl::StatusOr<OidcIdentity> id = v->Verify(KeyC().Mint(Claims()));
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(v->KeysStatus().loaded_at, kStart + absl::Seconds(30));
  // Key A is gone now.
  Refused(*v, KeyA().Mint(Claims()), OidcReason::kUnknownKid, "id token: unknown kid");
}

TEST_F(OidcVerifierTest, JwksFileIsReReadAfterTheRefreshInterval) {
  auto v = Make();
  WriteJwksFile(jwks_path_, {&KeyB()});
  clock_.Advance(absl::Minutes(10) - absl::Seconds(1));
  EXPECT_TRUE(v->Verify(KeyA().Mint(Claims())).ok());  // old keys still served
  EXPECT_EQ(v->KeysStatus().loaded_at, kStart);
  clock_.Advance(absl::Seconds(1));
  Refused(*v, KeyA().Mint(Claims()), OidcReason::kUnknownKid, "id token: unknown kid");
  EXPECT_EQ(v->KeysStatus().keys, 1u);
  EXPECT_EQ(v->KeysStatus().loaded_at, kStart + absl::Minutes(10));
}

// What an event loop relies on: MayWait() names every call that could read
// the source, and JwksWait::kNever never reads it.
TEST_F(OidcVerifierTest, MayWaitNamesTheCallsThatCouldReadTheJwks) {
  auto v = Make();
  const std::string token_a = KeyA().Mint(Claims());
  const std::string token_c = KeyC().Mint(Claims());  // a kid the file lacks
  EXPECT_FALSE(v->MayWait(token_a));
  // Refused before any key is looked at: never a read.
  EXPECT_FALSE(v->MayWait("not a token"));
  EXPECT_FALSE(v->MayWait("e30.e30.c2ln"));  // header {} has no RS256 alg
  EXPECT_FALSE(v->MayWait(std::string(kMaxIdTokenBytes + 1, 'a')));
  // An unknown kid right after a read: refused at once, no read allowed yet.
  EXPECT_FALSE(v->MayWait(token_c));
  clock_.Advance(absl::Seconds(30));
  EXPECT_TRUE(v->MayWait(token_c));  // an early re-read is allowed now
  EXPECT_FALSE(v->MayWait(token_a));
  clock_.Advance(absl::Minutes(10) - absl::Seconds(30));
  EXPECT_TRUE(v->MayWait(token_a));  // the periodic re-read is due

  // kNever: the stale keys are used as they are, nothing is read.
  WriteJwksFile(jwks_path_, {&KeyC()});
  EXPECT_TRUE(v->Verify(token_a, JwksWait::kNever).ok());
  ExpectRefused(v->Verify(token_c, JwksWait::kNever), token_c, OidcReason::kUnknownKid, "id token: unknown kid");
  EXPECT_EQ(v->KeysStatus().last_attempt, kStart);
  // The call MayWait() named reads, and after it nobody needs to wait.
  EXPECT_TRUE(v->Verify(token_c).ok());
  EXPECT_EQ(v->KeysStatus().last_attempt, kStart + absl::Minutes(10));
  EXPECT_FALSE(v->MayWait(token_c));
  EXPECT_FALSE(v->MayWait(token_a));  // unknown now, but read within 30 s
}

TEST_F(OidcVerifierTest, FailedRefreshKeepsTheOldKeys) {
  auto v = Make();
  ASSERT_TRUE(
      files::WriteFileAtomically(jwks_path_, "<html>maintenance</html>").ok());
  clock_.Advance(absl::Minutes(11));
  EXPECT_TRUE(v->Verify(KeyA().Mint(Claims())).ok());
  OidcKeysStatus status = v->KeysStatus();
  EXPECT_EQ(status.keys, 2u);
  EXPECT_EQ(status.loaded_at, kStart);
  EXPECT_EQ(status.last_attempt, kStart + absl::Minutes(11));
  EXPECT_EQ(status.last_error, absl::StrCat("jwks file ", jwks_path_, ": not valid JSON"));
  const absl::Status refresh = v->Refresh();
  EXPECT_EQ(refresh.code(), absl::StatusCode::kInvalidArgument);
  // Retried after the short interval, not the full refresh period.
  WriteJwksFile(jwks_path_, {&KeyA()});
  clock_.Advance(absl::Seconds(30));
  EXPECT_TRUE(v->Verify(KeyA().Mint(Claims())).ok());
  status = v->KeysStatus();
  EXPECT_EQ(status.keys, 1u);
  EXPECT_EQ(status.last_error, "");
  std::filesystem::remove(jwks_path_);
  EXPECT_EQ(v->Refresh().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(v->Verify(KeyA().Mint(Claims())).ok());
}

TEST_F(OidcVerifierTest, ConcurrentVerifiesDuringRefreshes) {
  auto v = Make();
  const std::string token_a = KeyA().Mint(Claims());
  const std::string token_b = KeyB().Mint(Claims());
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        if (t == 0 && i % 20 == 0) (void)v->Refresh();
        if (!v->Verify(i % 2 ? token_a : token_b).ok()) ++failures;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST(OidcReason, NamesAreStableAndRoundTrip) {
  EXPECT_EQ(OidcReasonName(OidcReason::kAlgNotAllowed), "alg_not_allowed");
  EXPECT_EQ(OidcReasonName(OidcReason::kAudienceMismatch), "audience_mismatch");
  EXPECT_EQ(OidcReasonOf(absl::UnauthenticatedError("id token: expired")), std::nullopt);
  EXPECT_EQ(OidcReasonOf(absl::OkStatus()), std::nullopt);
}

// --- Creation: options and bad key sets -----------------------------------

TEST_F(OidcVerifierTest, CreateValidatesOptions) {
  struct Case {
    std::function<void(OidcOptions&)> change;
    const char* message;
  };
  const std::vector<Case> cases = {
      {[](OidcOptions& o) { o.issuer = ""; }, "oidc.issuer: is required"},
      {[](OidcOptions& o) { o.audiences = {}; }, "oidc.audiences: needs at least one audience"},
      {[](OidcOptions& o) {
         o.audiences = {"a", ""};
       },
       "oidc.audiences: has an empty audience"},
      {[](OidcOptions& o) { o.groups_claim = ""; }, "oidc.groups_claim: is empty"},
      {[](OidcOptions& o) { o.leeway = absl::Minutes(6); }, "oidc.leeway: must be 0 to 5 minutes"},
      {[](OidcOptions& o) { o.jwks_source = ""; },
       "oidc.jwks_source: is required (a file path or a URL)"},
      {[](OidcOptions& o) { o.jwks_refresh = absl::ZeroDuration(); },
       "oidc.jwks_refresh: must be at least 1s"},
  };
  for (const Case& c : cases) {
    OidcOptions options = Options();
    c.change(options);
    absl::StatusOr<std::unique_ptr<OidcVerifier>> v = OidcVerifier::Create(options, nullptr);
    EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(v.status().message(), c.message);
  }
}

TEST_F(OidcVerifierTest, CreateFailsOnABadJwksNamingTheProblem) {
  const std::string where = absl::StrCat("jwks file ", jwks_path_, ": ");
  Json ec_only = {{"keys", Json::array({{{"kty", "EC"},
                                         {"crv", "P-256"},
                                         {"kid", "ec-1"},
                                         {"x", "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"},
                                         {"y", "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}}})}};
  Json bad_n = {{"keys", Json::array({KeyA().PublicJwk()})}};
  bad_n["keys"][0]["n"] = "not+base64url/";
  Json short_n = {{"keys", Json::array({KeyA().PublicJwk()})}};
  short_n["keys"][0]["n"] = core::Base64UrlEncode(std::string(128, '\x81'));  // 1024 bits
  Json even_e = {{"keys", Json::array({KeyA().PublicJwk()})}};
  even_e["keys"][0]["e"] = "AQAA";  // 65536
  Json dup_kid = {{"keys", Json::array({KeyA().PublicJwk(), KeyA().PublicJwk()})}};
  Json enc_only = {{"keys", Json::array({KeyA().PublicJwk()})}};
  enc_only["keys"][0]["use"] = "enc";
  Json rs512_only = {{"keys", Json::array({KeyA().PublicJwk()})}};
  rs512_only["keys"][0]["alg"] = "RS512";
  struct Case {
    std::string text;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"", "is empty"},
      {"{\"keys\": [", "not valid JSON"},
      {"[]", "must be a JSON object with a \"keys\" list"},
      {"{}", "has no \"keys\" list (is this a JWKS document?)"},
      {R"({"keys": []})",
       "no RS256 signature key (kty RSA, use sig, alg RS256); \"keys\" is empty"},
      {ec_only.dump(),
       "no RS256 signature key (kty RSA, use sig, alg RS256); skipped keys[0] (kty EC)"},
      {enc_only.dump(),
       "no RS256 signature key (kty RSA, use sig, alg RS256); skipped keys[0] (use is not sig)"},
      {rs512_only.dump(),
       "no RS256 signature key (kty RSA, use sig, alg RS256); skipped keys[0] (alg RS512)"},
      {bad_n.dump(), "keys[0]: bad \"n\": not unpadded base64url of a big-endian integer"},
      {short_n.dump(), "keys[0]: bad \"n\": RSA modulus must have 2048 to 4096 bits; got 1024"},
      {even_e.dump(), "keys[0]: bad \"e\": RSA exponent must be odd and at least 3"},
      {dup_kid.dump(), "keys[1]: duplicate kid \"key-a\""},
  };
  for (const Case& c : cases) {
    ASSERT_TRUE(files::WriteFileAtomically(jwks_path_, c.text).ok());
    absl::StatusOr<std::unique_ptr<OidcVerifier>> v = OidcVerifier::Create(Options(), nullptr);
    EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument) << c.message;
    EXPECT_EQ(v.status().message(), absl::StrCat(where, c.message));
  }
  ASSERT_TRUE(files::WriteFileAtomically(jwks_path_,
                                         std::string(kMaxJwksBytes + 1, ' '))
                  .ok());
  absl::StatusOr<std::unique_ptr<OidcVerifier>> huge = OidcVerifier::Create(Options(), nullptr);
  EXPECT_EQ(huge.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(huge.status().message(), absl::StrCat(where, "larger than 262144 bytes"));

  // An EC key beside an RSA key is skipped, not an error.
  Json mixed = ec_only;
  mixed["keys"].push_back(KeyA().PublicJwk());
  ASSERT_TRUE(files::WriteFileAtomically(jwks_path_, mixed.dump()).ok());
  auto v = Make();
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->KeysStatus().keys, 1u);
  EXPECT_TRUE(v->Verify(KeyA().Mint(Claims())).ok());

  OidcOptions missing = Options();
  missing.jwks_source = dir_.path() + "/absent.json";
  absl::StatusOr<std::unique_ptr<OidcVerifier>> none = OidcVerifier::Create(missing, nullptr);
  EXPECT_EQ(none.status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(absl::StrContains(none.status().message(), missing.jwks_source)) << none.status();
}

// --- JWKS over HTTP, from the project's own server ------------------------

TEST_F(OidcVerifierTest, JwksFromAnHttpUrl) {
  JwksHost host;
  host.Serve(200, JwksJson({&KeyA()}));
  OidcOptions options = Options();
  options.jwks_source = host.url();
  auto v = Make(options);
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(host.requests(), 1);
  absl::StatusOr<OidcIdentity> id = v->Verify(KeyA().Mint(Claims()));
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->groups, (std::vector<std::string>{"premium", "beta"}));

  // Rotation: a burst of unknown kids costs one fetch per 30 s, however many.
  host.Serve(200, JwksJson({&KeyA(), &KeyC()}));
  for (int i = 0; i < 20; ++i) {
    Refused(*v, KeyB().Mint(Claims()), OidcReason::kUnknownKid, "id token: unknown kid");
  }
  EXPECT_EQ(host.requests(), 1);
  clock_.Advance(absl::Seconds(30));
  EXPECT_TRUE(v->Verify(KeyC().Mint(Claims())).ok());
  for (int i = 0; i < 20; ++i) {
    Refused(*v, KeyB().Mint(Claims()), OidcReason::kUnknownKid, "id token: unknown kid");
  }
  EXPECT_EQ(host.requests(), 2);

  // The provider fails: old keys stay, the error names the URL and status.
  host.Serve(503, R"({"error":"down"})");
  const absl::Status refresh = v->Refresh();
  EXPECT_EQ(refresh.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(refresh.message(),
            absl::StrCat("jwks url ", host.url(), ": HTTP status 503, want 200"));
  EXPECT_TRUE(v->Verify(KeyC().Mint(Claims())).ok());
  EXPECT_EQ(v->KeysStatus().keys, 2u);
}

// While an early re-read runs (a slow provider), another unknown kid is
// refused at once instead of waiting for it: forged kids cannot hold the
// threads that may wait. The call that started the read gets its answer.
TEST_F(OidcVerifierTest, AnUnknownKidDoesNotWaitForARunningReRead) {
  JwksHost host;
  host.Serve(200, JwksJson({&KeyA()}));
  OidcOptions options = Options();
  options.jwks_source = host.url();
  auto v = Make(options);
  ASSERT_NE(v, nullptr);
  host.Serve(200, JwksJson({&KeyA(), &KeyC()}));
  host.SetDelay(absl::Seconds(3));
  clock_.Advance(absl::Seconds(30));
  const std::string token_c = KeyC().Mint(Claims());
  const std::string forged = KeyB().Mint(Claims());
  ASSERT_TRUE(v->MayWait(token_c));
  absl::StatusOr<OidcIdentity> first;
  std::thread reader([&] { first = v->Verify(token_c); });
  ASSERT_TRUE(host.AwaitRequests(2)) << "the re-read did not start";
  EXPECT_FALSE(v->MayWait(forged));
  const absl::Time start = absl::Now();
  Refused(*v, forged, OidcReason::kUnknownKid, "id token: unknown kid");
  EXPECT_LT(absl::Now() - start, absl::Seconds(1)) << "waited for the running re-read";
  reader.join();
  EXPECT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(host.requests(), 2);
}

TEST_F(OidcVerifierTest, CreateFailsWhenTheJwksUrlDoesNotServeOne) {
  JwksHost host;
  host.Serve(200, R"({"issuer":"not a jwks"})");
  OidcOptions options = Options();
  options.jwks_source = host.url();
  absl::StatusOr<std::unique_ptr<OidcVerifier>> v = OidcVerifier::Create(options, nullptr);
  EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      v.status().message(),
      absl::StrCat("jwks url ", host.url(), ": has no \"keys\" list (is this a JWKS document?)"));
  options.jwks_source = absl::StrCat(host.url(), "-typo");
  v = OidcVerifier::Create(options, nullptr);
  EXPECT_EQ(v.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(v.status().message(),
            absl::StrCat("jwks url ", options.jwks_source, ": HTTP status 404, want 200"));
}

}  // namespace
}  // namespace edgepass::server
