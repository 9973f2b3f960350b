#include "client/cli/catalog_file.h"

#include <string>

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace edgepass::cli {
namespace {

::testing::AssertionResult FailsWith(const absl::Status& status, const std::string& message) {
  if (status.code() != absl::StatusCode::kInvalidArgument) {
    return ::testing::AssertionFailure() << "code " << status;
  }
  if (!absl::StrContains(status.message(), message)) {
    return ::testing::AssertionFailure() << "message: " << status.message();
  }
  return ::testing::AssertionSuccess();
}

TEST(ParseAssetDocument, TakesProtobufJsonWithProtoOrCamelCaseNames) {
  absl::StatusOr<v1::Asset> a = ParseAssetDocument(
      R"({"id":"demo","hostname":"cdn","url_path":"/v/m.m3u8","policy_name":"p","fallback_asset_id":"clip"})",
      "a.json");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->policy_name(), "p");
  EXPECT_EQ(a->fallback_asset_id(), "clip");
  a = ParseAssetDocument(R"({"id":"demo","urlPath":"/v/m.m3u8","inlinePolicy":{"paths":["/v/"],"exp":"+1h"}})",
                         "a.json");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->url_path(), "/v/m.m3u8");
  EXPECT_EQ(a->inline_policy().exp(), "+1h");
}

TEST(ParseAssetDocument, TakesACatalogFileAssetObject) {
  absl::StatusOr<v1::Asset> a = ParseAssetDocument(R"({"id":"demo","hostname":"cdn","url_path":"/v/m.m3u8",
      "token_policy":{"paths":["/v/"],"exp":4102444800,"ip":true,"session_auto_generate":"10"},
      "fallback_asset":"clip","variants":{"sd":{"url_path":"/v/sd.m3u8","token_policy":"sd-policy"}}})",
                                                   "a.json");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->inline_policy().exp(), "4102444800");
  EXPECT_TRUE(a->inline_policy().ip());
  EXPECT_EQ(a->inline_policy().session_auto_generate(), 10);
  EXPECT_EQ(a->fallback_asset_id(), "clip");
  EXPECT_EQ(a->variants().at("sd").policy_name(), "sd-policy");
}

TEST(ParseAssetDocument, NamesTheLineAndColumnOfASyntaxError) {
  EXPECT_TRUE(FailsWith(ParseAssetDocument("{\"id\": \"a\",\n  \"hostname\" 5}", "--file 'a.json'").status(),
                        "--file 'a.json': parse error at line 2, column 14: "));
  EXPECT_TRUE(FailsWith(ParseAssetDocument("id: a\nhostname: [x\n", "--file 'a.yaml'").status(),
                        "--file 'a.yaml': parse error at line 3, column 1: "));
}

TEST(ParseAssetDocument, NamesTheFieldAtFault) {
  EXPECT_TRUE(FailsWith(ParseAssetDocument(R"({"id":"a","hostname":["x"]})", "a.json").status(),
                        "a.json: asset.hostname: must be a string, got a list"));
  EXPECT_TRUE(FailsWith(ParseAssetDocument(R"({"id":"a","host":"x"})", "a.json").status(),
                        "a.json: asset: unknown field \"host\""));
  EXPECT_TRUE(FailsWith(ParseAssetDocument(R"({"id":"a","variants":{"hd":{"url_path":1}}})", "a.json").status(),
                        "asset.variants[\"hd\"].url_path: must be a string, got a number"));
  EXPECT_TRUE(FailsWith(
      ParseAssetDocument(R"({"id":"a","token_policy":{"paths":["/a/"],"exp":"+1h","ip":"yes"}})", "a.json").status(),
      "a.json: asset.token_policy.ip: must be true or false"));
  EXPECT_TRUE(FailsWith(ParseAssetDocument(R"({"id":"a","token_policy":"p","policy_name":"q"})", "a.json").status(),
                        "asset: give one of token_policy, policy_name or inline_policy"));
  EXPECT_TRUE(FailsWith(ParseAssetDocument(R"(["a"])", "a.json").status(), "asset: must be an object, got a list"));
  EXPECT_TRUE(FailsWith(ParseAssetDocument(std::string(2 << 20, ' '), "a.json").status(), "larger than"));
}

TEST(ParseAssetDocument, ReadsYamlOfTheSameShape) {
  absl::StatusOr<v1::Asset> a = ParseAssetDocument(R"(id: "007"
hostname: cdn.example.com
url_path: /v/m.m3u8
token_policy:
  paths: [/v/]
  exp: +2h
  ssn: true
  session_auto_generate: 10
variants:
  sd: {url_path: /v/sd.m3u8, token_policy: sd-policy}
)",
                                                   "--file 'asset.YML'");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->id(), "007");  // quoted: a string, not the number 7
  EXPECT_EQ(a->inline_policy().exp(), "+2h");
  EXPECT_TRUE(a->inline_policy().ssn());
  EXPECT_EQ(a->variants().at("sd").policy_name(), "sd-policy");
  EXPECT_TRUE(FailsWith(ParseAssetDocument("id: 7\n", "a.yaml").status(), "asset.id: must be a string, got a number"));
}

TEST(ParsePolicyDocument, TakesAnSmdPolicyOrANamedPolicy) {
  absl::StatusOr<v1::NamedPolicy> p = ParsePolicyDocument(R"({"paths":["/v/"],"exp":"+1h","co":true})", "p", "geo");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->name(), "geo");
  EXPECT_TRUE(p->policy().co());
  p = ParsePolicyDocument(R"({"name":"geo","policy":{"paths":["/v/"],"exp":"+1h"}})", "p", "");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->name(), "geo");
  EXPECT_TRUE(
      FailsWith(ParsePolicyDocument(R"({"name":"geo","policy":{"paths":["/v/"],"exp":"+1h"}})", "p", "other").status(),
                "policy.name: \"geo\" differs from the name given, \"other\""));
  EXPECT_TRUE(
      FailsWith(ParsePolicyDocument(R"({"paths":["/v/"],"exp":"+1h"})", "p", "").status(), "policy.name: required"));
  EXPECT_TRUE(FailsWith(ParsePolicyDocument(R"({"paths":["v"],"exp":"+1h"})", "p", "x").status(),
                        "p: policy.paths[0]: must start with '/'"));
  EXPECT_TRUE(FailsWith(ParsePolicyDocument("paths: [/v/]\n", "p.yaml", "x").status(), "p.yaml: policy.exp: "));
}

}  // namespace
}  // namespace edgepass::cli
