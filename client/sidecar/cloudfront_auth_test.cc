#include "client/sidecar/cloudfront_auth.h"

#include <fstream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "client/sidecar/cloudfront_keys_file.h"
#include "client/sidecar/sidecar_options.h"
#include "client/sidecar/sidecar_service.h"
#include "client/sidecar/sidecar_test_util.h"
#include "core/cloudfront_signer.h"
#include "core/cloudfront_test_keys_internal.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace edgepass::sidecar {
namespace {

using core::CloudFrontReason;
using core::CloudFrontReasonName;
using testing::kNow;
using testing::TempDir;

constexpr absl::string_view kBase = "https://cdn.example.com";
constexpr absl::string_view kKeyPairId = "K2JCJMDEHXQW5F";
constexpr absl::string_view kViewerIp = "192.0.2.7";

std::string Name(CloudFrontReason reason) {
  return std::string(CloudFrontReasonName(reason));
}

class SidecarCloudFrontTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<core::CloudFrontSigner> signer = core::CloudFrontSigner::Create(
        kKeyPairId, core::testing::RsaPrivateKeyPem());
    ASSERT_TRUE(signer.ok()) << signer.status();
    signer_ = std::make_unique<core::CloudFrontSigner>(*std::move(signer));
    core::CloudFrontPublicKeys keys;
    ASSERT_TRUE(keys.Add(kKeyPairId, signer_->PublicKeyPem()).ok());
    absl::StatusOr<CloudFrontAuth> cf = CloudFrontAuth::Create(
        std::move(keys), absl::StrCat(kBase, "/"), {"/premium/", "/preview/"});
    ASSERT_TRUE(cf.ok()) << cf.status();
    cloudfront_ = std::make_unique<CloudFrontAuth>(*std::move(cf));
    service_ = std::make_unique<SidecarService>(
        &validator_, &sink_,
        *RouteModes::Create({{"/", EnforcementMode::kEnforce},
                             {"/preview/", EnforcementMode::kLogOnly},
                             {"/premium/free/", EnforcementMode::kOff}}),
        &stats_, [this](absl::string_view line) { logged_.emplace_back(line); });
    service_->set_cloudfront(cloudfront_.get());
  }

  // The request target of a signed URL (what nginx passes as $request_uri).
  static std::string Target(const std::string& url) {
    EXPECT_TRUE(absl::StartsWith(url, kBase)) << url;
    return url.substr(kBase.size());
  }
  std::string SignUrl(const std::string& path, core::CloudFrontConditions c) {
    absl::StatusOr<std::string> url = signer_->SignUrl(absl::StrCat(kBase, path), c, kNow);
    EXPECT_TRUE(url.ok()) << url.status();
    return url.ok() ? Target(*url) : "";
  }
  std::string SignCookies(const std::string& resource, core::CloudFrontConditions c) {
    absl::StatusOr<std::vector<core::CloudFrontCookie>> cookies =
        signer_->SignCookiesWithPolicy({.resource = absl::StrCat(kBase, resource),
                                        .conditions = std::move(c)},
                                       kNow);
    EXPECT_TRUE(cookies.ok()) << cookies.status();
    std::vector<std::string> pairs = {"session=abc"};
    if (cookies.ok()) {
      for (const auto& c : *cookies) pairs.push_back(c.name + "=" + c.value);
    }
    return absl::StrJoin(pairs, "; ");
  }
  http::Response Auth(const std::string& target, absl::Time now = kNow,
                      const std::string& cookie = "") {
    http::Request r;
    r.method = "GET";
    r.target = "/auth";
    r.headers.Add("X-Original-URI", target);
    r.headers.Add("X-Real-IP", std::string(kViewerIp));
    if (!cookie.empty()) r.headers.Add("Cookie", cookie);
    return service_->Handle(r, now);
  }
  static std::string Header(const http::Response& r, absl::string_view name) {
    const std::string* v = r.headers.Find(name);
    return v ? *v : "<none>";
  }
  static core::CloudFrontConditions OneHour() {
    return {.expires = kNow + absl::Hours(1)};
  }

  std::unique_ptr<core::CloudFrontSigner> signer_;
  std::unique_ptr<CloudFrontAuth> cloudfront_;
  client::EdgeValidator validator_{core::Keyring{}};
  StateSink sink_{&validator_, nullptr};
  SidecarStats stats_;
  std::vector<std::string> logged_;
  std::unique_ptr<SidecarService> service_;
};

TEST_F(SidecarCloudFrontTest, ValidSignedUrlIsAllowedWithTheParametersStripped) {
  const std::string target = SignUrl("/premium/v/a.ts?quality=hd", OneHour());
  ASSERT_NE(target.find("Signature="), std::string::npos);
  http::Response r = Auth(target);
  EXPECT_EQ(r.status, 200) << Header(r, kReasonHeader);
  EXPECT_EQ(Header(r, kPathHeader), "/premium/v/a.ts?quality=hd");
  EXPECT_EQ(Header(r, kReasonHeader), "<none>");
  EXPECT_EQ(stats_.cloudfront_allowed(), 1u);

  // A custom policy (start time and IP range) too.
  core::CloudFrontConditions custom = OneHour();
  custom.not_before = kNow - absl::Minutes(1);
  custom.ip_range = "192.0.2.0/24";
  r = Auth(SignUrl("/premium/v/b.ts", custom));
  EXPECT_EQ(r.status, 200) << Header(r, kReasonHeader);
  EXPECT_EQ(Header(r, kPathHeader), "/premium/v/b.ts");
}

TEST_F(SidecarCloudFrontTest, ValidSignedCookiesAreAllowed) {
  const std::string cookie = SignCookies("/premium/v/*", OneHour());
  http::Response r = Auth("/premium/v/seg-1.ts", kNow, cookie);
  EXPECT_EQ(r.status, 200) << Header(r, kReasonHeader);
  EXPECT_EQ(Header(r, kPathHeader), "/premium/v/seg-1.ts");
  r = Auth("/premium/v/index.m3u8?x=1", kNow, cookie);
  EXPECT_EQ(r.status, 200) << Header(r, kReasonHeader);
  EXPECT_EQ(Header(r, kPathHeader), "/premium/v/index.m3u8?x=1");
  EXPECT_EQ(stats_.cloudfront_allowed(), 2u);
}

TEST_F(SidecarCloudFrontTest, RefusesWithTheReason) {
  core::CloudFrontConditions later = OneHour();
  later.not_before = kNow + absl::Minutes(10);
  core::CloudFrontConditions elsewhere = OneHour();
  elsewhere.ip_range = "198.51.100.0/24";
  std::string flipped = SignUrl("/premium/a.ts", OneHour());
  const size_t sig = flipped.find("Signature=") + 20;
  flipped[sig] = flipped[sig] == 'A' ? 'B' : 'A';

  struct Case {
    std::string name, target, cookie;
    absl::Time now;
    CloudFrontReason reason;
  };
  const std::vector<Case> cases = {
      {"expired URL", SignUrl("/premium/a.ts", OneHour()), "", kNow + absl::Hours(2),
       CloudFrontReason::kExpired},
      {"expired cookies", "/premium/v/a.ts", SignCookies("/premium/v/*", OneHour()),
       kNow + absl::Hours(1), CloudFrontReason::kExpired},
      {"before start", SignUrl("/premium/a.ts", later), "", kNow,
       CloudFrontReason::kNotYetValid},
      {"outside IP range", SignUrl("/premium/a.ts", elsewhere), "", kNow,
       CloudFrontReason::kIpOutsideRange},
      {"other resource (cookies)", "/premium/b.ts", SignCookies("/premium/a.ts", OneHour()),
       kNow, CloudFrontReason::kResourceMismatch},
      {"other path (canned URL)",
       absl::StrReplaceAll(SignUrl("/premium/a.ts", OneHour()), {{"/a.ts", "/b.ts"}}), "",
       kNow, CloudFrontReason::kBadSignature},
      {"flipped signature byte", flipped, "", kNow, CloudFrontReason::kBadSignature},
      {"unknown key pair id",
       absl::StrReplaceAll(SignUrl("/premium/a.ts", OneHour()),
                           {{std::string(kKeyPairId), "KOTHERKEY"}}),
       "", kNow, CloudFrontReason::kUnknownKeyPairId},
      {"signature without key pair id", "/premium/a.ts?Expires=1800003600&Signature=abc", "",
       kNow, CloudFrontReason::kMalformed},
  };
  for (const Case& c : cases) {
    http::Response r = Auth(c.target, c.now, c.cookie);
    EXPECT_EQ(r.status, 403) << c.name;
    EXPECT_EQ(Header(r, kReasonHeader), Name(c.reason)) << c.name;
    EXPECT_EQ(Header(r, kPathHeader), "<none>") << c.name;
  }
  EXPECT_EQ(stats_.cloudfront_denied(CloudFrontReason::kExpired), 2u);
  EXPECT_EQ(stats_.cloudfront_denied(CloudFrontReason::kBadSignature), 2u);
  EXPECT_EQ(stats_.cloudfront_allowed(), 0u);
}

TEST_F(SidecarCloudFrontTest, MissingSignatureIs401) {
  http::Response r = Auth("/premium/a.ts?quality=hd", kNow, "session=abc");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(Header(r, kReasonHeader), "missing_signature");
  EXPECT_EQ(stats_.cloudfront_denied(CloudFrontReason::kOk), 1u);
  nlohmann::json stats = nlohmann::json::parse(stats_.ToJson());
  EXPECT_EQ(stats["cloudfront"]["denied"]["missing_signature"], 1);
}

TEST_F(SidecarCloudFrontTest, LogOnlyCountsWouldDenyAndAllows) {
  http::Response r =
      Auth(SignUrl("/preview/a.ts?q=1", OneHour()), kNow + absl::Hours(2));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(Header(r, kPathHeader), "/preview/a.ts?q=1");
  EXPECT_EQ(Header(r, kWouldDenyHeader), Name(CloudFrontReason::kExpired));
  EXPECT_EQ(stats_.cloudfront_would_deny(CloudFrontReason::kExpired), 1u);
  EXPECT_EQ(stats_.cloudfront_denied(CloudFrontReason::kExpired), 0u);
  ASSERT_EQ(logged_.size(), 1u);
  nlohmann::json line = nlohmann::json::parse(logged_[0]);
  EXPECT_EQ(line["event"], "would_deny");
  EXPECT_EQ(line["scheme"], "cloudfront");
  EXPECT_EQ(line["reason"], "expired");
  EXPECT_EQ(line["path"], "/preview/a.ts");
  EXPECT_EQ(logged_[0].find("Signature"), std::string::npos);
  nlohmann::json stats = nlohmann::json::parse(stats_.ToJson());
  EXPECT_EQ(stats["cloudfront"]["would_deny"]["expired"], 1);

  // Off checks nothing but still strips the parameters.
  r = Auth("/premium/free/a.ts?Expires=1&Signature=x&Key-Pair-Id=K&v=2");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(Header(r, kPathHeader), "/premium/free/a.ts?v=2");
  EXPECT_EQ(stats_.unchecked(), 1u);
}

TEST_F(SidecarCloudFrontTest, OtherRoutesStayOnTokens) {
  // Not under a CloudFront prefix: the token check, which finds none.
  http::Response r = Auth(SignUrl("/vod/a.ts", OneHour()));
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(Header(r, kReasonHeader), "missing_token");
  EXPECT_EQ(stats_.cloudfront_allowed(), 0u);
  EXPECT_FALSE(cloudfront_->Covers("/premiumx/a.ts"));
  EXPECT_TRUE(cloudfront_->Covers("/premium/a.ts"));
}

TEST(CloudFrontAuth, CreateNamesTheOptionAtFault) {
  core::CloudFrontPublicKeys keys;
  ASSERT_TRUE(keys.Add(kKeyPairId, core::CloudFrontSigner::Create(
                                       kKeyPairId, core::testing::RsaPrivateKeyPem())
                                       ->PublicKeyPem())
                  .ok());
  auto error = [&](absl::string_view base, std::vector<std::string> prefixes) {
    absl::StatusOr<CloudFrontAuth> cf = CloudFrontAuth::Create(keys, base, std::move(prefixes));
    return cf.ok() ? std::string("ok") : std::string(cf.status().message());
  };
  EXPECT_EQ(error("https://cdn.example.com", {"/p/"}), "ok");
  EXPECT_EQ(error("https://cdn.example.com:8443/", {"/p/"}), "ok");
  EXPECT_TRUE(absl::StartsWith(error("cdn.example.com", {"/p/"}), "cloudfront-url-base: "));
  EXPECT_TRUE(absl::StartsWith(error("https://cdn.example.com/v", {"/p/"}),
                               "cloudfront-url-base: "));
  EXPECT_TRUE(absl::StartsWith(error("https://", {"/p/"}), "cloudfront-url-base: "));
  EXPECT_TRUE(absl::StartsWith(error(kBase, {}), "cloudfront-route: "));
  EXPECT_TRUE(absl::StartsWith(error(kBase, {"p/"}), "cloudfront-route: "));
  EXPECT_EQ(CloudFrontAuth::Create(core::CloudFrontPublicKeys{}, kBase, {"/p/"})
                .status()
                .message(),
            "cloudfront-public-keys: no keys");
}

TEST(CloudFrontKeysFile, LoadsAndNamesTheKeyAtFault) {
  TempDir dir;
  const std::string pem =
      core::CloudFrontSigner::Create(kKeyPairId, core::testing::RsaPrivateKeyPem())
          ->PublicKeyPem();
  auto write = [&](const std::string& name, const std::string& text) {
    const std::string path = dir.path() + "/" + name;
    std::ofstream(path) << text;
    return path;
  };
  nlohmann::json good = {{std::string(kKeyPairId), pem}};
  absl::StatusOr<core::CloudFrontPublicKeys> keys =
      LoadCloudFrontPublicKeysFile(write("good.json", good.dump()));
  ASSERT_TRUE(keys.ok()) << keys.status();
  EXPECT_EQ(keys->size(), 1u);
  EXPECT_NE(keys->Find(kKeyPairId), nullptr);

  nlohmann::json bad = {{std::string(kKeyPairId), pem},
                        {"KBROKENKEY1", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"}};
  const std::string bad_path = write("bad.json", bad.dump());
  keys = LoadCloudFrontPublicKeysFile(bad_path);
  EXPECT_EQ(keys.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(keys.status().message(), bad_path + ": key 'KBROKENKEY1': public_key: "))
      << keys.status();
  // A private key where a public key belongs is refused without echoing it.
  nlohmann::json priv = {{"KPRIVATE1", core::testing::RsaPrivateKeyPem()}};
  keys = LoadCloudFrontPublicKeysFile(write("priv.json", priv.dump()));
  EXPECT_TRUE(absl::StrContains(keys.status().message(), "key 'KPRIVATE1': ")) << keys.status();
  EXPECT_FALSE(absl::StrContains(keys.status().message(), "PRIVATE KEY"));

  EXPECT_TRUE(absl::StrContains(
      ParseCloudFrontPublicKeysJson(R"({"K1": 7})").status().message(), "key 'K1': "));
  EXPECT_TRUE(absl::StrContains(
      ParseCloudFrontPublicKeysJson(R"({"bad id!": "x"})").status().message(),
      "key '<invalid id>': "));
  EXPECT_EQ(ParseCloudFrontPublicKeysJson("{}").status().message(), "no keys");
  EXPECT_TRUE(absl::StartsWith(ParseCloudFrontPublicKeysJson("[").status().message(),
                               "not a JSON object"));
  EXPECT_EQ(LoadCloudFrontPublicKeysFile(dir.path() + "/none.json").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(CloudFrontAuth, OptionsGoTogetherAndStartErrorsNameTheKey) {
  auto parse = [](std::vector<std::string> args) {
    args.insert(args.begin(), {"--keyring", "k.json"});
    return ParseSidecarOptions(args, nullptr);
  };
  absl::StatusOr<SidecarOptions> o = parse({});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_TRUE(o->cloudfront_routes.empty());
  EXPECT_EQ(*CloudFrontAuthFromOptions(*o), nullptr);

  o = parse({"--cloudfront-route", "/premium/", "--cloudfront-url-base", std::string(kBase)});
  EXPECT_TRUE(absl::StartsWith(o.status().message(), "--cloudfront-public-keys: needed"))
      << o.status();
  o = parse({"--cloudfront-public-keys", "k.json", "--cloudfront-route", "/p/"});
  EXPECT_TRUE(absl::StartsWith(o.status().message(), "--cloudfront-url-base: needed"))
      << o.status();
  o = parse({"--cloudfront-public-keys", "k.json", "--cloudfront-url-base", "https://h"});
  EXPECT_TRUE(absl::StartsWith(o.status().message(), "--cloudfront-route: needed"))
      << o.status();

  TempDir dir;
  const std::string keys_file = dir.path() + "/cf-keys.json";
  std::ofstream(keys_file) << R"({"KBROKENKEY1": "-----BEGIN PUBLIC KEY-----\nAA==\n-----END PUBLIC KEY-----\n"})";
  const std::string env_routes = "/premium/,/preview/";
  o = ParseSidecarOptions(
      {"--keyring", "k.json", "--cloudfront-public-keys", keys_file, "--cloudfront-url-base",
       std::string(kBase)},
      [&](const char* name) -> const char* {
        return std::string(name) == "EDGEPASS_VALIDATOR_CLOUDFRONT_ROUTES" ? env_routes.c_str()
                                                                           : nullptr;
      });
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->cloudfront_routes, (std::vector<std::string>{"/premium/", "/preview/"}));
  absl::StatusOr<std::unique_ptr<CloudFrontAuth>> cf = CloudFrontAuthFromOptions(*o);
  EXPECT_EQ(cf.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(
      cf.status().message(),
      "--cloudfront-public-keys: " + keys_file + ": key 'KBROKENKEY1': public_key: "))
      << cf.status();

  nlohmann::json good = {
      {std::string(kKeyPairId),
       core::CloudFrontSigner::Create(kKeyPairId, core::testing::RsaPrivateKeyPem())
           ->PublicKeyPem()}};
  std::ofstream(keys_file, std::ios::trunc) << good.dump();
  cf = CloudFrontAuthFromOptions(*o);
  ASSERT_TRUE(cf.ok()) << cf.status();
  EXPECT_EQ((*cf)->url_base(), kBase);
  o->cloudfront_url_base = "ftp://cdn.example.com";
  EXPECT_TRUE(absl::StartsWith(CloudFrontAuthFromOptions(*o).status().message(),
                               "--cloudfront-url-base: 'ftp://"));
}

}  // namespace
}  // namespace edgepass::sidecar
