#include "server/catalog.h"

#include "gtest/gtest.h"

namespace edgepass::server {
namespace {

TEST(Catalog, ParsesSample) {
  absl::StatusOr<Catalog> c = Catalog::Parse(SampleCatalogJson(), "sample");
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_NE(c->Find("1"), nullptr);
  ASSERT_NE(c->Find("2"), nullptr);
  EXPECT_EQ(c->Find("3"), nullptr);
  EXPECT_TRUE(c->Find("1")->policy.ssn);
  EXPECT_EQ(c->Find("2")->policy.headers, std::vector<std::string>{"user-agent"});
}

TEST(Catalog, RoundTripsThroughToJson) {
  absl::StatusOr<Catalog> c = Catalog::Parse(SampleCatalogJson(), "sample");
  ASSERT_TRUE(c.ok());
  absl::StatusOr<Catalog> again = Catalog::Parse(c->ToJson(), "again");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->ToJson(), c->ToJson());
  EXPECT_EQ(again->Find("2")->policy_name, "session-ua-2h");
}

TEST(Catalog, ErrorNamesEntryAndField) {
  absl::StatusOr<Catalog> c = Catalog::Parse(R"({"assets":[
    {"id":"1","hostname":"h","url_path":"/v/1/i.m3u8","token_policy":{"paths":["/v/1/"],"exp":"+1h"}},
    {"id":"2","hostname":"h","url_path":"/v/2/i.m3u8","token_policy":{"paths":["v/2/"],"exp":"+1h"}}]})",
                                             "catalog.json");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(c.status().message()),
            "catalog.json: assets[1] (id \"2\"): token_policy.paths[0]: must start with '/'");
}

TEST(Catalog, RefusesUnknownPolicyName) {
  absl::StatusOr<Catalog> c = Catalog::Parse(
      R"({"assets":[{"id":"1","hostname":"h","url_path":"/v/i.m3u8","token_policy":"nope"}]})", "c");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(std::string(c.status().message()), "c: assets[0] (id \"1\"): token_policy: unknown policy \"nope\"");
}

TEST(Catalog, RefusesBadNamedPolicy) {
  absl::StatusOr<Catalog> c = Catalog::Parse(R"({"policies":{"p":{"paths":["/v/"],"exp":"2h"}}})", "c");
  ASSERT_FALSE(c.ok());
  EXPECT_TRUE(absl::string_view(c.status().message()).find("c: policies[\"p\"]: exp") == 0)
      << c.status();
}

TEST(Catalog, RefusesDuplicateIdsUnknownSchemeAndFields) {
  EXPECT_EQ(std::string(Catalog::Parse(R"({"assets":[
    {"id":"1","hostname":"h","url_path":"/v/i","token_policy":{"paths":["/v/"],"exp":"+1h"}},
    {"id":"1","hostname":"h","url_path":"/v/i","token_policy":{"paths":["/v/"],"exp":"+1h"}}]})", "c")
                .status().message()),
            "c: assets[1] (id \"1\"): id: duplicate of assets[0]");
  EXPECT_EQ(std::string(Catalog::Parse(R"({"assets":[{"id":"1","hostname":"h","url_path":"/v/i","scheme":"cf",
    "token_policy":{"paths":["/v/"],"exp":"+1h"}}]})", "c").status().message()),
            "c: assets[0] (id \"1\"): scheme: unsupported \"cf\" (supported: \"smd-token\")");
  EXPECT_EQ(std::string(Catalog::Parse(R"({"asets":[]})", "c").status().message()), "c: unknown field \"asets\"");
  EXPECT_FALSE(Catalog::Parse(R"({"assets":[{"id":"1","hostname":"h","url_path":"/v/../i",
    "token_policy":{"paths":["/v/"],"exp":"+1h"}}]})", "c").ok());
}

TEST(Catalog, MergeReplacesById) {
  absl::StatusOr<Catalog> base = Catalog::Parse(SampleCatalogJson(), "sample");
  absl::StatusOr<Catalog> overlay = Catalog::Parse(
      R"({"assets":[{"id":"2","hostname":"other.example","url_path":"/x/i.mpd","token_policy":{"paths":["/x/"],"exp":"+1h"}},
                    {"id":"9","hostname":"h","url_path":"/y/i.mpd","token_policy":"session-2h2"}],
          "policies":{"session-2h2":{"paths":["/y/"],"exp":"+1h"}}})", "o");
  ASSERT_TRUE(overlay.ok()) << overlay.status();
  absl::StatusOr<Catalog> merged = Catalog::Merge(*base, *overlay, "merged");
  ASSERT_TRUE(merged.ok()) << merged.status();
  EXPECT_EQ(merged->assets().size(), 3u);
  EXPECT_EQ(merged->Find("2")->hostname, "other.example");
  EXPECT_EQ(merged->Find("1")->hostname, "cdn.example.com");
  EXPECT_EQ(merged->Find("9")->policy.paths, std::vector<std::string>{"/y/"});
}

}  // namespace
}  // namespace edgepass::server
