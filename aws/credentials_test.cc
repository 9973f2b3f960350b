// The credentials chain in botocore's order, over real files in a temporary
// directory. The web-identity exchange itself runs against moto's STS in
// tests/integration/secrets_manager_test.cc.
#include "aws/credentials.h"

#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "aws/profile_file.h"
#include "aws/web_identity.h"
#include "gtest/gtest.h"
#include "tests/support/test_process.h"

namespace edgepass::aws {
namespace {

using testing::TempDir;
using testing::WriteFileOrDie;

class CredentialsChain : public ::testing::Test {
 protected:
  std::map<std::string, std::string> Base() {
    return {{"HOME", dir_.path()},
            {"AWS_SHARED_CREDENTIALS_FILE", dir_.path() + "/credentials"},
            {"AWS_CONFIG_FILE", dir_.path() + "/config"}};
  }
  absl::StatusOr<std::shared_ptr<CredentialsProvider>> Chain(std::map<std::string, std::string> vars) {
    return DefaultCredentialsChain(Environment(std::move(vars)),
                                   {.http = &http_, .region = "us-east-1"});
  }
  TempDir dir_;
  HttpClient http_;
};

TEST_F(CredentialsChain, EnvironmentComesFirst) {
  WriteFileOrDie(dir_.path() + "/credentials",
                 "[default]\naws_access_key_id = FILEKEY\naws_secret_access_key = filesecret\n");
  auto vars = Base();
  vars["AWS_ACCESS_KEY_ID"] = "ENVKEY";
  vars["AWS_SECRET_ACCESS_KEY"] = "envsecret";
  vars["AWS_SESSION_TOKEN"] = "envtoken";
  auto chain = Chain(vars);
  ASSERT_TRUE(chain.ok()) << chain.status();
  EXPECT_EQ((*chain)->source(), "environment");
  absl::StatusOr<Credentials> c = (*chain)->Get();
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->access_key_id, "ENVKEY");
  EXPECT_EQ(c->secret_access_key, "envsecret");
  EXPECT_EQ(c->session_token, "envtoken");
}

TEST_F(CredentialsChain, HalfOfTheEnvironmentIsAnError) {
  auto vars = Base();
  vars["AWS_ACCESS_KEY_ID"] = "ENVKEY";
  auto chain = Chain(vars);
  EXPECT_EQ(chain.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(chain.status().message(), "AWS_SECRET_ACCESS_KEY"));
}

TEST_F(CredentialsChain, WebIdentityBeforeTheFiles) {
  WriteFileOrDie(dir_.path() + "/credentials",
                 "[default]\naws_access_key_id = FILEKEY\naws_secret_access_key = filesecret\n");
  auto vars = Base();
  vars["AWS_ROLE_ARN"] = "arn:aws:iam::123456789012:role/edgepass";
  vars["AWS_WEB_IDENTITY_TOKEN_FILE"] = dir_.path() + "/token";
  auto chain = Chain(vars);
  ASSERT_TRUE(chain.ok()) << chain.status();
  EXPECT_EQ((*chain)->source(), "web-identity");
}

TEST_F(CredentialsChain, WebIdentityNeedsBothVariables) {
  auto vars = Base();
  vars["AWS_WEB_IDENTITY_TOKEN_FILE"] = dir_.path() + "/token";
  EXPECT_TRUE(absl::StrContains(Chain(vars).status().message(), "AWS_ROLE_ARN"));
}

TEST_F(CredentialsChain, WebIdentityFromTheConfigProfile) {
  WriteFileOrDie(dir_.path() + "/config",
                 "[profile k8s]\nrole_arn = arn:aws:iam::1:role/r\n"
                 "web_identity_token_file = /var/run/token\n");
  auto vars = Base();
  vars["AWS_PROFILE"] = "k8s";
  auto chain = Chain(vars);
  ASSERT_TRUE(chain.ok()) << chain.status();
  EXPECT_EQ((*chain)->source(), "web-identity");
}

TEST_F(CredentialsChain, SharedCredentialsFileWithProfile) {
  WriteFileOrDie(dir_.path() + "/credentials",
                 "# comment\n[default]\naws_access_key_id = DEFKEY\naws_secret_access_key = d\n\n"
                 "[prod]\naws_access_key_id=PRODKEY\naws_secret_access_key=p\naws_session_token=t\n");
  auto vars = Base();
  vars["AWS_PROFILE"] = "prod";
  auto chain = Chain(vars);
  ASSERT_TRUE(chain.ok()) << chain.status();
  EXPECT_EQ((*chain)->source(), "shared-credentials-file");
  EXPECT_EQ((*chain)->Get()->access_key_id, "PRODKEY");
  EXPECT_EQ((*chain)->Get()->session_token, "t");
}

TEST_F(CredentialsChain, ConfigFileAfterCredentialsFile) {
  WriteFileOrDie(dir_.path() + "/credentials", "[other]\naws_access_key_id = X\naws_secret_access_key = x\n");
  WriteFileOrDie(dir_.path() + "/config",
                 "[default]\nregion = eu-west-1\n[profile dev]\naws_access_key_id = DEVKEY\n"
                 "aws_secret_access_key = dev\ns3 =\n  addressing_style = path\n");
  auto vars = Base();
  vars["AWS_PROFILE"] = "dev";
  auto chain = Chain(vars);
  ASSERT_TRUE(chain.ok()) << chain.status();
  EXPECT_EQ((*chain)->source(), "config-file");
  EXPECT_EQ((*chain)->Get()->access_key_id, "DEVKEY");
  // [default] of the config names no "profile"; its region is the default region.
  EXPECT_EQ(DefaultRegion(Environment(Base())), "eu-west-1");
}

TEST_F(CredentialsChain, ProfileWithoutSecretIsAnErrorNamingTheFile) {
  WriteFileOrDie(dir_.path() + "/credentials", "[default]\naws_access_key_id = ONLYID\n");
  auto chain = Chain(Base());
  EXPECT_EQ(chain.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(chain.status().message(), "/credentials [default]"));
  EXPECT_TRUE(absl::StrContains(chain.status().message(), "no aws_secret_access_key"));
}

TEST_F(CredentialsChain, NothingFoundListsWhatWasTried) {
  auto chain = Chain(Base());
  EXPECT_EQ(chain.status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(absl::StrContains(chain.status().message(), "AWS_ACCESS_KEY_ID"));
  EXPECT_TRUE(absl::StrContains(chain.status().message(), "credentials [default]"));
}

TEST(ProfileFile, MalformedLineNamesFileAndLineButNotTheValue) {
  absl::StatusOr<ProfileFile> f = ParseProfileFile(
      "[default]\naws_secret_access_key = s3cr3t\nthis line is s3cr3t too\n", "creds",
      ProfileFileKind::kCredentials);
  EXPECT_EQ(f.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(f.status().message(), "creds:3:"));
  EXPECT_FALSE(absl::StrContains(f.status().message(), "s3cr3t"));
}

TEST(ProfileFile, StrictAboutStructure) {
  auto kind = ProfileFileKind::kCredentials;
  EXPECT_FALSE(ParseProfileFile("key = v\n", "f", kind).ok());          // outside a section
  EXPECT_FALSE(ParseProfileFile("[default\nk = v\n", "f", kind).ok());  // unclosed
  EXPECT_FALSE(ParseProfileFile("[a]\n  indented = x\n", "f", kind).ok());
  EXPECT_FALSE(ParseProfileFile(std::string(kMaxProfileFileBytes + 1, '#'), "f", kind).ok());
  absl::StatusOr<ProfileFile> ok =
      ParseProfileFile("[a]\r\nK = v = w\r\n; c\n", "f", kind);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->Find("a")->Get("k"), "v = w");
}

TEST(ProfileFile, ConfigSectionsNeedTheProfilePrefix) {
  absl::StatusOr<ProfileFile> f = ParseProfileFile(
      "[default]\nregion = a\n[profile x]\nregion = b\n[sso-session s]\nsso_region = c\n",
      "config", ProfileFileKind::kConfig);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->Find("default")->Get("region"), "a");
  EXPECT_EQ(f->Find("x")->Get("region"), "b");
  EXPECT_EQ(f->profiles.size(), 2u);
}

TEST(WebIdentityReply, ParsesCredentials) {
  absl::StatusOr<Credentials> c = ParseAssumeRoleWithWebIdentityResponse(
      R"(<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult><Credentials>
    <SessionToken>tok&amp;en</SessionToken><SecretAccessKey>sec</SecretAccessKey>
    <Expiration>2024-01-01T01:00:00Z</Expiration><AccessKeyId>ASIAX</AccessKeyId>
  </Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>)",
      200);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->access_key_id, "ASIAX");
  EXPECT_EQ(c->session_token, "tok&en");
  EXPECT_EQ(c->expiration, absl::FromUnixSeconds(1704070800));
}

TEST(WebIdentityReply, ErrorsAndMissingFields) {
  auto bad = ParseAssumeRoleWithWebIdentityResponse(
      "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidIdentityToken</Code>"
      "<Message>bad token</Message></Error></ErrorResponse>",
      400);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_TRUE(absl::StrContains(bad.status().message(), "InvalidIdentityToken"));
  auto missing = ParseAssumeRoleWithWebIdentityResponse(
      "<X><Credentials><AccessKeyId>A</AccessKeyId></Credentials></X>", 200);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(missing.status().message(), "Credentials.SecretAccessKey"));
}

TEST(WebIdentityProvider, UnreadableTokenFileIsFailedPrecondition) {
  HttpClient http;
  WebIdentityCredentialsProvider p({.role_arn = "arn:aws:iam::1:role/r",
                                    .token_file = "/nonexistent/token"},
                                   &http, Endpoint{.scheme = "http", .host = "127.0.0.1", .port = 9},
                                   [] { return absl::Now(); });
  EXPECT_EQ(p.Get().status().code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace edgepass::aws
