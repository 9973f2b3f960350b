#include "server/smd_import.h"

#include <string>

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace edgepass::server {
namespace {

// SMD's mock asset item (source/…/mock_assets.json) with its placeholders
// replaced by concrete values.
constexpr char kSmdMockItem[] = R"({"id":{"S":"1"},"url_path":{"S":"/out/v1/abc/index.m3u8"},"endpoint_hostname":{"S":"d1.cloudfront.net"},"token_policy":{"M":{"headers":{"L":[{"S":"user-agent"}]},"exc":{"L":[{"S":"/ads/"}]},"nbf":{"S":"1645000000"},"session_auto_generate":{"N":"12"},"ssn":{"BOOL":true},"cty_fallback":{"BOOL":true},"paths":{"L":[{"S":"/out/v1/abc/"}]},"ip":{"BOOL":false},"cty":{"BOOL":false},"co_fallback":{"BOOL":true},"co":{"BOOL":false},"exp":{"S":"+2h"}}}})";

TEST(SmdImport, ImportsSmdMockItem) {
  absl::StatusOr<Catalog> c = ParseSmdAssets(kSmdMockItem, "assets.json");
  ASSERT_TRUE(c.ok()) << c.status().message();
  ASSERT_EQ(c->assets().size(), 1u);
  const Asset* a = c->Find("1");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->hostname, "d1.cloudfront.net");
  EXPECT_EQ(a->url_path, "/out/v1/abc/index.m3u8");
  EXPECT_EQ(a->scheme, "smd-token");
  EXPECT_EQ(a->policy.paths, std::vector<std::string>{"/out/v1/abc/"});
  EXPECT_EQ(a->policy.exc, std::vector<std::string>{"/ads/"});
  EXPECT_EQ(a->policy.headers, std::vector<std::string>{"user-agent"});
  EXPECT_TRUE(a->policy.ssn);
  EXPECT_EQ(a->policy.session_auto_generate, 12);
  EXPECT_FALSE(a->policy.co_fallback);  // dropped: co is off (SMD ignores it too)
  EXPECT_FALSE(a->policy.ip);
  EXPECT_TRUE(a->policy.exp.relative);
  EXPECT_EQ(a->policy.exp.after, absl::Hours(2));
  ASSERT_TRUE(a->policy.nbf.has_value());
  EXPECT_EQ(*a->policy.nbf, absl::FromUnixSeconds(1645000000));
}

TEST(SmdImport, AcceptsArrayAndScanOutput) {
  std::string item2 = kSmdMockItem;
  item2.replace(item2.find(R"({"S":"1"})"), 9, R"({"S":"2"})");
  absl::StatusOr<Catalog> array = ParseSmdAssets("[" + std::string(kSmdMockItem) + "," + item2 + "]", "a");
  ASSERT_TRUE(array.ok()) << array.status();
  EXPECT_EQ(array->assets().size(), 2u);
  absl::StatusOr<Catalog> scan = ParseSmdAssets(
      R"({"Count":1,"Items":[)" + std::string(kSmdMockItem) + "]}", "scan.json");
  ASSERT_TRUE(scan.ok()) << scan.status();
  EXPECT_NE(scan->Find("1"), nullptr);
}

TEST(SmdImport, ErrorNamesItemAndField) {
  std::string bad = kSmdMockItem;
  bad.replace(bad.find(R"({"S":"/out/v1/abc/"})"), 20, R"({"S":"out/v1/abc/"})");
  absl::StatusOr<Catalog> c = ParseSmdAssets("[" + std::string(kSmdMockItem) + "," + bad + "]", "assets.json");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(c.status().message()),
            "assets.json: Items[1] (id \"1\"): token_policy.paths[0]: must start with '/'");
}

TEST(SmdImport, RefusesItemWithoutHostname) {
  absl::StatusOr<Catalog> c = ParseSmdAssets(
      R"({"id":{"S":"7"},"url_path":{"S":"/v/index.m3u8"},"token_policy":{"M":{"paths":{"L":[{"S":"/v/"}]},"exp":{"S":"+1h"}}}})",
      "a.json");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(std::string(c.status().message()), "a.json: Items[0] (id \"7\"): endpoint_hostname: required");
}

TEST(SmdImport, RefusesUrlPathOutsidePolicyPaths) {
  absl::StatusOr<Catalog> c = ParseSmdAssets(
      R"({"id":{"S":"7"},"url_path":{"S":"/w/index.m3u8"},"endpoint_hostname":{"S":"h"},"token_policy":{"M":{"paths":{"L":[{"S":"/v/"}]},"exp":{"S":"+1h"}}}})",
      "a.json");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(std::string(c.status().message()),
            "a.json: Items[0] (id \"7\"): url_path: \"/w/index.m3u8\" is not opened by any "
            "token_policy.paths entry");
}

TEST(DynamoDbValueToJson, ConvertsEveryType) {
  absl::StatusOr<std::string> j = DynamoDbValueToJson(
      R"({"M":{"s":{"S":"x"},"n":{"N":"12"},"f":{"N":"1.5"},"b":{"BOOL":true},"z":{"NULL":true},"l":{"L":[{"N":"1"},{"S":"y"}]}}})");
  ASSERT_TRUE(j.ok()) << j.status();
  EXPECT_EQ(*j, R"({"b":true,"f":1.5,"l":[1,"y"],"n":12,"s":"x","z":null})");
}

TEST(DynamoDbValueToJson, RefusesBadValues) {
  EXPECT_EQ(std::string(DynamoDbValueToJson(R"({"N":"12a"})", "v").status().message()), "v: N: \"12a\" is not a number");
  EXPECT_EQ(std::string(DynamoDbValueToJson(R"({"SS":["a"]})", "v").status().message()),
            "v: unsupported DynamoDB type \"SS\"");
  EXPECT_FALSE(DynamoDbValueToJson(R"({"S":"a","N":"1"})").ok());
  EXPECT_FALSE(DynamoDbValueToJson(R"({"L":[{"S":"a"},{"X":1}]})").ok());
}

TEST(SmdImport, RefusesMalformedJson) {
  absl::StatusOr<Catalog> c = ParseSmdAssets("{", "a.json");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(c.status().message(), "a.json: parse error at line 1, column 2: "))
      << c.status();
}

}  // namespace
}  // namespace edgepass::server
