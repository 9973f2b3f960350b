#include "server/state/catalog.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace edgepass::server {
namespace {

core::TokenPolicy Policy(absl::string_view json) {
  absl::StatusOr<core::TokenPolicy> policy = core::ParseTokenPolicyJson(json);
  EXPECT_TRUE(policy.ok()) << policy.status();
  return policy.value_or(core::TokenPolicy{});
}

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

TEST(Catalog, AMergedPolicyReachesTheAssetsThatNameIt) {
  absl::StatusOr<Catalog> base =
      Catalog::Parse(R"({"policies": {"sd": {"paths": ["/movie/sd/"], "exp": "+2h"}},
    "assets": [{"id": "movie", "hostname": "h", "url_path": "/movie/sd/index.m3u8", "token_policy": "sd"}]})",
                     "base.json");
  ASSERT_TRUE(base.ok()) << base.status();
  absl::StatusOr<Catalog> wider =
      Catalog::Parse(R"({"policies": {"sd": {"paths": ["/movie/"], "exp": "+1h"}}})", "overlay.json");
  ASSERT_TRUE(wider.ok()) << wider.status();
  absl::StatusOr<Catalog> merged = Catalog::Merge(*base, *wider, "merged");
  ASSERT_TRUE(merged.ok()) << merged.status();
  EXPECT_EQ(merged->Find("movie")->policy.paths, std::vector<std::string>{"/movie/"});

  // A replaced policy that no longer opens the asset's manifest is refused,
  // naming the asset.
  absl::StatusOr<Catalog> elsewhere =
      Catalog::Parse(R"({"policies": {"sd": {"paths": ["/elsewhere/"], "exp": "+1h"}}})", "overlay.json");
  ASSERT_TRUE(elsewhere.ok()) << elsewhere.status();
  absl::StatusOr<Catalog> refused = Catalog::Merge(*base, *elsewhere, "merged");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(refused.status().message()),
            "merged: assets[0] (id \"movie\"): url_path: \"/movie/sd/index.m3u8\" is not opened by any "
            "token_policy.paths entry");
}

// A typed edit is stored as the catalog file holds it, so a policy the file
// would refuse on the next load (nbf 0) is refused now, and what is stored
// loads again.
TEST(Catalog, ATypedEditIsRefusedWhenTheFileCouldNotReadItBack) {
  absl::StatusOr<Catalog> c = Catalog::Parse(SampleCatalogJson(), "sample");
  ASSERT_TRUE(c.ok()) << c.status();
  core::TokenPolicy epoch = Policy(R"({"paths": ["/video/"], "exp": "+1h"})");
  epoch.nbf = absl::FromUnixSeconds(0);
  absl::StatusOr<Catalog> refused = Catalog::WithPolicy(*c, "epoch", epoch, "policy");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(refused.status().message(), "policy: policy.nbf")) << refused.status();

  Asset asset{.id = "epoch",
              .hostname = "cdn.example.com",
              .scheme = std::string(kSmdTokenScheme),
              .url_path = "/video/e/index.m3u8"};
  asset.policy = epoch;
  refused = Catalog::WithAsset(*c, asset, "asset");
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(absl::StartsWith(refused.status().message(), "asset (id \"epoch\"): token_policy.nbf"))
      << refused.status();

  asset.policy.nbf = absl::FromUnixSeconds(1'800'000'000);
  absl::StatusOr<Catalog> stored = Catalog::WithAsset(*c, asset, "asset");
  ASSERT_TRUE(stored.ok()) << stored.status();
  absl::StatusOr<Catalog> loaded = Catalog::Parse(stored->ToJson(), "again");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->Find("epoch")->policy.nbf, absl::FromUnixSeconds(1'800'000'000));
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
            "c: assets[0] (id \"1\"): scheme: unsupported \"cf\" (supported: \"smd-token\", "
            "\"cloudfront-url\", \"cloudfront-cookie\")");
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

// Premium plays the full ladder, standard an SD manifest under narrower
// paths; anyone else the "unauthorized" clip.
constexpr char kEntitledCatalog[] = R"({
  "policies": {"full": {"paths": ["/movie/"], "exp": "+2h", "ssn": true},
               "sd": {"paths": ["/movie/sd/"], "exp": "+2h", "ssn": true},
               "clip": {"paths": ["/clips/unauthorized/"], "exp": "+10m"}},
  "assets": [
    {"id": "movie", "hostname": "cdn.example.com", "url_path": "/movie/sd/index.m3u8", "token_policy": "sd",
     "variants": {"premium": {"url_path": "/movie/index.m3u8", "token_policy": "full"},
                  "standard": {"url_path": "/movie/sd/index.m3u8", "token_policy": "sd"}},
     "fallback_asset": "unauthorized"},
    {"id": "unauthorized", "hostname": "cdn.example.com", "url_path": "/clips/unauthorized/index.m3u8",
     "token_policy": "clip"}]})";

TEST(Catalog, ResolvesEntitlementVariantsAndFallback) {
  absl::StatusOr<Catalog> c = Catalog::Parse(kEntitledCatalog, "catalog.json");
  ASSERT_TRUE(c.ok()) << c.status();
  absl::StatusOr<Playable> premium = c->Resolve("movie", "premium");
  ASSERT_TRUE(premium.ok());
  EXPECT_EQ(premium->asset->id, "movie");
  EXPECT_EQ(premium->variant, "premium");
  EXPECT_EQ(premium->url_path, "/movie/index.m3u8");
  EXPECT_EQ(premium->policy->paths, std::vector<std::string>{"/movie/"});
  absl::StatusOr<Playable> standard = c->Resolve("movie", "standard");
  EXPECT_EQ(standard->url_path, "/movie/sd/index.m3u8");
  EXPECT_EQ(standard->policy->paths, std::vector<std::string>{"/movie/sd/"});
  for (const char* none : {"", "gold"}) {
    absl::StatusOr<Playable> fallback = c->Resolve("movie", none);
    EXPECT_EQ(fallback->asset->id, "unauthorized") << none;
    EXPECT_EQ(fallback->variant, "");
    EXPECT_EQ(fallback->url_path, "/clips/unauthorized/index.m3u8");
  }
  EXPECT_EQ(c->Resolve("nope", "premium").status().code(), absl::StatusCode::kNotFound);
  // Round trip keeps variants and fallback.
  absl::StatusOr<Catalog> again = Catalog::Parse(c->ToJson(), "again");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->ToJson(), c->ToJson());
}

TEST(Catalog, RefusesBadVariantsAndFallbacks) {
  struct Case {
    std::string asset;
    std::string message;
  } cases[] = {
      {R"("variants": {"premium": {"url_path": "/other/index.m3u8", "token_policy": "sd"}})",
       "variants[\"premium\"]: url_path: \"/other/index.m3u8\" is not opened by any token_policy.paths entry"},
      {R"("variants": {"pre mium": {"url_path": "/movie/sd/i.m3u8", "token_policy": "sd"}})",
       "entitlement: must be 1-128 characters of [A-Za-z0-9._:-]"},
      {R"("variants": {"premium": {"url_path": "/movie/sd/i.m3u8", "token_policy": "nope"}})",
       "token_policy: unknown policy \"nope\""},
      {R"("variants": {"premium": {"url_path": "/movie/sd/i.m3u8"}})", "token_policy: required"},
      {R"("variants": [])", "variants: must be an object of entitlement -> variant"},
      {R"("fallback_asset": "missing")", "fallback_asset: unknown asset \"missing\""},
      {R"("fallback_asset": "movie")", "fallback_asset: must be another asset"},
  };
  for (const Case& c : cases) {
    const std::string json = absl::StrCat(
        R"({"policies": {"sd": {"paths": ["/movie/sd/"], "exp": "+2h"}}, "assets": [{"id": "movie",
        "hostname": "h", "url_path": "/movie/sd/index.m3u8", "token_policy": "sd", )",
        c.asset, "}]}");
    absl::StatusOr<Catalog> parsed = Catalog::Parse(json, "catalog.json");
    ASSERT_FALSE(parsed.ok()) << c.asset;
    EXPECT_NE(parsed.status().message().find(c.message), absl::string_view::npos) << parsed.status();
  }
}

TEST(Catalog, FallbackAndVariantPoliciesCannotBeDeletedFromUnderAnAsset) {
  absl::StatusOr<Catalog> c = Catalog::Parse(kEntitledCatalog, "catalog.json");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(Catalog::WithoutAsset(*c, "unauthorized").status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Catalog::WithoutPolicy(*c, "full").status().code(), absl::StatusCode::kFailedPrecondition);
  // A policy change that no longer opens a variant's manifest is refused.
  EXPECT_EQ(Catalog::WithPolicy(*c, "full", Policy(R"({"paths": ["/elsewhere/"], "exp": "+1h"})"), "policy")
                .status()
                .code(),
            absl::StatusCode::kFailedPrecondition);
}

constexpr char kCloudFrontCatalog[] = R"({
  "policies": {"cf": {"paths": ["/movie/"], "exp": "+2h", "ip": true}},
  "assets": [
    {"id": "signed-url", "hostname": "d1.cloudfront.net", "url_path": "/movie/index.m3u8",
     "scheme": "cloudfront-url", "token_policy": "cf", "cloudfront_key_pair_id": "K2JCJMDEHXQW5F"},
    {"id": "signed-cookie", "hostname": "d1.cloudfront.net", "url_path": "/movie/index.m3u8",
     "scheme": "cloudfront-cookie", "token_policy": {"paths": ["/movie/"], "exp": "+1h"},
     "cloudfront_key_pair_id": "K2JCJMDEHXQW5F", "cookie_domain": "d1.cloudfront.net",
     "cookie_same_site": "Strict",
     "variants": {"premium": {"url_path": "/movie/hd/index.m3u8", "token_policy": {"paths": ["/movie/hd/"], "exp": "+3h"}}}}]})";

TEST(Catalog, CloudFrontSchemesRoundTrip) {
  absl::StatusOr<Catalog> c = Catalog::Parse(kCloudFrontCatalog, "catalog.json");
  ASSERT_TRUE(c.ok()) << c.status();
  const Asset* url = c->Find("signed-url");
  ASSERT_NE(url, nullptr);
  EXPECT_EQ(url->scheme, kCloudFrontUrlScheme);
  EXPECT_TRUE(url->is_cloudfront());
  EXPECT_EQ(url->cloudfront_key_pair_id, "K2JCJMDEHXQW5F");
  EXPECT_TRUE(url->cookie_domain.empty());
  const Asset* cookie = c->Find("signed-cookie");
  ASSERT_NE(cookie, nullptr);
  EXPECT_EQ(cookie->cookie_domain, "d1.cloudfront.net");
  EXPECT_EQ(cookie->cookie_same_site, "Strict");
  absl::StatusOr<Catalog> again = Catalog::Parse(c->ToJson(), "again");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->ToJson(), c->ToJson());
  EXPECT_EQ(Catalog::AssetToJson(*again->Find("signed-cookie")), Catalog::AssetToJson(*cookie));
  EXPECT_NE(c->ToJson().find("\"cookie_same_site\": \"Strict\""), std::string::npos);
  EXPECT_EQ(*ParseCookieSameSite(""), core::CookieSameSite::kLax);
  EXPECT_EQ(ParseCookieSameSite("lax").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(Catalog, CloudFrontSchemesRefuseWhatCloudFrontCannotCheck) {
  struct Case {
    const char* asset;
    const char* message;
  } cases[] = {
      {R"("scheme": "cloudfront-url", "token_policy": {"paths": ["/m/"], "exp": "+1h"})",
       "cloudfront_key_pair_id: required for scheme \"cloudfront-url\""},
      {R"("scheme": "cloudfront-url", "cloudfront_key_pair_id": "K-1", "token_policy": {"paths": ["/m/"], "exp": "+1h"})",
       "cloudfront_key_pair_id: must be 1-128 ASCII letters and digits"},
      {R"("cloudfront_key_pair_id": "K1", "token_policy": {"paths": ["/m/"], "exp": "+1h"})",
       "cloudfront_key_pair_id: only for the cloudfront-url and cloudfront-cookie schemes"},
      {R"("scheme": "cloudfront-url", "cloudfront_key_pair_id": "K1", "cookie_domain": "x.example",
          "token_policy": {"paths": ["/m/"], "exp": "+1h"})",
       "cookie_domain: only for the cloudfront-cookie scheme"},
      {R"("scheme": "cloudfront-url", "cloudfront_key_pair_id": "K1", "token_policy": {"paths": ["/m/"], "exp": "+1h", "ssn": true})",
       "token_policy.ssn: a CloudFront policy cannot check it"},
      {R"("scheme": "cloudfront-cookie", "cloudfront_key_pair_id": "K1",
          "token_policy": {"paths": ["/m/"], "exp": "+1h", "headers": ["user-agent"]})",
       "token_policy.headers: a CloudFront policy cannot check it"},
      {R"("scheme": "cloudfront-cookie", "cloudfront_key_pair_id": "K1",
          "token_policy": {"paths": ["/m/", "/n/"], "exp": "+1h"})",
       "token_policy.paths: scheme \"cloudfront-cookie\" takes exactly one path"},
      {R"("scheme": "cloudfront-cookie", "cloudfront_key_pair_id": "K1", "cookie_same_site": "lax",
          "token_policy": {"paths": ["/m/"], "exp": "+1h"})",
       "(id \"a\"): cookie_same_site: must be \"Strict\", \"Lax\" or \"None\""},
      {R"("scheme": "cloudfront-cookie", "cloudfront_key_pair_id": "K1", "cookie_domain": "bad domain;",
          "token_policy": {"paths": ["/m/"], "exp": "+1h"})",
       "cookie_domain: "},
      {R"("scheme": "cloudfront-cookie", "cloudfront_key_pair_id": "K1", "token_policy": {"paths": ["/m/"], "exp": "+1h"},
          "variants": {"premium": {"url_path": "/m/hd/i.m3u8", "token_policy": {"paths": ["/m/", "/n/"], "exp": "+1h"}}})",
       "variants[\"premium\"]: token_policy.paths: scheme \"cloudfront-cookie\" takes exactly one path"},
  };
  for (const Case& c : cases) {
    const std::string json = absl::StrCat(
        R"({"assets": [{"id": "a", "hostname": "d1.cloudfront.net", "url_path": "/m/index.m3u8", )", c.asset, "}]}");
    absl::StatusOr<Catalog> parsed = Catalog::Parse(json, "catalog.json");
    ASSERT_FALSE(parsed.ok()) << c.asset;
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(parsed.status().message().find(c.message), absl::string_view::npos) << parsed.status();
  }
  // A named policy an asset of a CloudFront scheme uses cannot gain a binding
  // CloudFront cannot check.
  absl::StatusOr<Catalog> c = Catalog::Parse(kCloudFrontCatalog, "catalog.json");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(
      Catalog::WithPolicy(*c, "cf", Policy(R"({"paths": ["/movie/"], "exp": "+1h", "ssn": true})"), "policy")
          .status()
          .code(),
      absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace edgepass::server
