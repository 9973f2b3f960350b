#include "server/auth/access.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "core/random.h"
#include "gtest/gtest.h"

namespace edgepass::server {
namespace {

class AccessPolicyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    core::SecureRandom random;
    issuer_ = *MakeApiKey("playback-backend", {Scope::kIssue}, random);
    admin_ = *MakeApiKey("ops", {Scope::kAdmin}, random);
    absl::StatusOr<AccessPolicy> p = AccessPolicy::Parse(
        absl::StrCat(R"({"api_keys": [)", issuer_.entry_json, ",", admin_.entry_json,
                     R"(], "mtls": [{"identity": "edge-1", "scopes": ["edge-sync", "revoke"]}]})"),
        "access.json");
    ASSERT_TRUE(p.ok()) << p.status();
    policy_ = std::make_unique<AccessPolicy>(*std::move(p));
  }
  NewApiKey issuer_, admin_;
  std::unique_ptr<AccessPolicy> policy_;
};

TEST_F(AccessPolicyTest, BearerKeyGrantsItsScopesOnly) {
  absl::StatusOr<Caller> c = policy_->Authenticate("Bearer " + issuer_.key, "");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->name, "playback-backend");
  EXPECT_TRUE(AccessPolicy::Authorize(*c, Scope::kIssue).ok());
  absl::Status denied = AccessPolicy::Authorize(*c, Scope::kRevoke);
  EXPECT_EQ(denied.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(denied.message(), "caller playback-backend lacks scope revoke");
  EXPECT_EQ(issuer_.key.find("ep_"), 0u);
  EXPECT_EQ(issuer_.entry_json.find(issuer_.key), std::string::npos) << "only the hash is stored";
}

TEST_F(AccessPolicyTest, AdminGrantsEverything) {
  absl::StatusOr<Caller> c = policy_->Authenticate("bearer " + admin_.key, "edge-1");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->name, "ops") << "a bearer key decides over the certificate";
  for (int s = 0; s < kScopeCount; ++s) EXPECT_TRUE(AccessPolicy::Authorize(*c, static_cast<Scope>(s)).ok());
}

TEST_F(AccessPolicyTest, CertificateIdentity) {
  absl::StatusOr<Caller> c = policy_->Authenticate("", "edge-1");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->kind, Caller::Kind::kCertificate);
  EXPECT_TRUE(AccessPolicy::Authorize(*c, Scope::kEdgeSync).ok());
  EXPECT_FALSE(AccessPolicy::Authorize(*c, Scope::kCatalog).ok());
  EXPECT_EQ(policy_->Authenticate("", "stranger").status().code(), absl::StatusCode::kUnauthenticated);
}

TEST_F(AccessPolicyTest, UnknownOrMalformedCredentialsAreUnauthenticated) {
  for (const std::string& header :
       {std::string(""), std::string("Bearer "), std::string("Basic abc"), std::string("Bearer short"),
        "Bearer " + issuer_.key + "x", "Bearer " + std::string(600, 'a'), "Token " + issuer_.key}) {
    absl::StatusOr<Caller> c = policy_->Authenticate(header, "");
    EXPECT_EQ(c.status().code(), absl::StatusCode::kUnauthenticated) << header;
    if (!c.ok()) EXPECT_EQ(c.status().message().find(issuer_.key), absl::string_view::npos);
  }
}

TEST(AccessPolicyOpenTest, OpenAdmitsAnonymousWithAllScopes) {
  AccessPolicy open = AccessPolicy::Open();
  absl::StatusOr<Caller> c = open.Authenticate("", "");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->name, "anonymous");
  EXPECT_TRUE(AccessPolicy::Authorize(*c, Scope::kAdmin).ok());
}

TEST(AccessPolicyParseTest, BadFilesNameTheEntry) {
  struct Case {
    const char* json;
    const char* message;
  } cases[] = {
      {"[]", "access.json: must be a JSON object"},
      {R"({"keys": []})", "access.json: unknown field \"keys\" (api_keys, mtls)"},
      {R"({"api_keys": [{"name": "a", "sha256": "xyz", "scopes": ["issue"]}]})",
       "access.json: api_keys[0].sha256: must be 64 hex digits"},
      {R"({"api_keys": [{"sha256": "00", "scopes": ["issue"]}]})", "access.json: api_keys[0].name: required"},
      {R"({"mtls": [{"identity": "e", "scopes": ["root"]}]})",
       "access.json: mtls[0].scopes[0]: unknown scope (one of issue, revoke, "
       "catalog, keys, edge-sync, mint, admin)"},
      {R"({"mtls": [{"identity": "e", "scopes": []}]})",
       "access.json: mtls[0].scopes: must be a non-empty array of scopes"},
      {R"({"mtls": [{"identity": "e", "scopes": ["issue"]}, {"identity": "e", "scopes": ["issue"]}]})",
       "access.json: mtls[1].identity: listed twice"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<AccessPolicy> p = AccessPolicy::Parse(c.json, "access.json");
    ASSERT_FALSE(p.ok()) << c.json;
    EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(p.status().message(), c.message);
  }
}

TEST(KeySpecTest, ParsesNameAndScopes) {
  auto spec = ParseKeySpec("backend:issue,revoke");
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ(spec->first, "backend");
  EXPECT_EQ(spec->second.size(), 2u);
  EXPECT_FALSE(ParseKeySpec("backend").ok());
  EXPECT_EQ(ParseKeySpec("backend:root").status().message(),
            "--new-api-key: unknown scope \"root\" (one of issue, revoke, "
            "catalog, keys, edge-sync, mint, admin)");
}

TEST(ScopeTest, MintIsItsOwnScope) {
  EXPECT_EQ(ParseScope("mint"), Scope::kMint);
  EXPECT_EQ(ScopeName(Scope::kMint), "mint");
  Scopes issue;
  issue.Add(Scope::kIssue);
  EXPECT_FALSE(issue.Grants(Scope::kMint));
  Scopes mint;
  mint.Add(Scope::kMint);
  EXPECT_FALSE(mint.Grants(Scope::kIssue));
  Scopes admin;
  admin.Add(Scope::kAdmin);
  EXPECT_TRUE(admin.Grants(Scope::kMint));
  EXPECT_TRUE(Scopes::All().Grants(Scope::kMint));
  auto spec = ParseKeySpec("minter:mint");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->second, std::vector<Scope>{Scope::kMint});
}

}  // namespace
}  // namespace edgepass::server
