// Cross-check of core::CloudFrontSigner and core's verifier against the AWS
// SDK for JavaScript (@aws-sdk/cloudfront-signer: getSignedUrl,
// getSignedCookies).
//
// Every case of cases.json is signed twice with one RSA key generated here
// (never committed): by the SDK through sdk_sign.sh/sdk_sign.js (which
// installs node/npm from Debian when missing and the npm package under the
// build dir) and by core. The URLs and cookies must be byte-identical; core's
// verifier must accept the SDK's output and refuse it once expired, before
// its start time, from outside its IP range, with a changed resource or with
// a flipped signature byte.
//
// Run it locally without ctest or any CLI:
//   EDGEPASS_BUILD_DIR=build scripts/build.sh --target edgepass_cloudfront_sdk_test
//   build/tests/cloudfront/edgepass_cloudfront_sdk_test
// EDGEPASS_CLOUDFRONT_SIGNER_VERSION=latest checks the newest SDK instead of
// the pinned one. To add a case, add it to cases.json only.
#include <sys/stat.h>

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/time/time.h"
#include "core/cloudfront_signer.h"
#include "core/cloudfront_test_keys_internal.h"
#include "core/cloudfront_url.h"
#include "core/cloudfront_verifier.h"
#include "core/validator.h"
#include "gtest/gtest.h"
#include "tests/support/test_process.h"

namespace edgepass {
namespace {

using core::CloudFrontReason;
using Cookies = std::vector<std::pair<std::string, std::string>>;

constexpr char kKeyPairId[] = "K2JCJMDEHXQW5F";
constexpr char kDefaultClientIp[] = "198.51.100.1";
constexpr char kOutsideEveryRange[] = "100.64.0.1";

struct Case {
  std::string name;
  bool cookies = false;
  std::string url;
  std::string policy_resource;
  std::string request_url;
  std::string client_ip = kDefaultClientIp;
  core::CloudFrontConditions conditions;
  // What the SDK produced.
  std::string sdk_url;
  Cookies sdk_cookies;
  std::string sdk_error;

  bool canned() const {
    return policy_resource.empty() && !conditions.not_before.has_value() &&
           conditions.ip_range.empty();
  }
  int64_t expires_s() const { return core::CloudFrontEpochSeconds(conditions.expires); }
  // The reason the verifier gives for a request that would otherwise get
  // `reason`: a URL path the origin could read differently (an encoded '/',
  // a malformed escape, invalid UTF-8) is refused before anything else.
  CloudFrontReason Unless(CloudFrontReason reason) const {
    const std::string& request = cookies ? request_url : sdk_url;
    const size_t host = request.find("://");
    const size_t slash = host == std::string::npos ? host : request.find('/', host + 3);
    const std::string path =
        slash == std::string::npos ? "" : request.substr(slash, request.find('?', slash) - slash);
    return core::IsSafePath(path) ? reason : CloudFrontReason::kUnsafePath;
  }
};

std::string CookieHeader(const Cookies& cookies) {
  std::vector<std::string> parts = {"theme=dark"};
  for (const auto& [name, value] : cookies) parts.push_back(absl::StrCat(name, "=", value));
  return absl::StrJoin(parts, "; ");
}

// `signature` (CloudFront base64) with one bit of its 11th byte flipped.
std::string FlipSignatureByte(const std::string& signature) {
  std::string raw;
  if (!core::CloudFrontBase64Decode(signature, &raw) || raw.size() < 11) return signature + "x";
  raw[10] = static_cast<char>(raw[10] ^ 0x01);
  return core::CloudFrontBase64Encode(raw);
}

class CloudFrontSdkTest : public ::testing::Test {
 protected:
  // Generates the key, runs the SDK over the case table once per process.
  static void SetUpTestSuite() {
    setup_error_ = new std::string;
    cases_ = new std::vector<Case>;
    dir_ = new testing::TempDir;
    keys_ = new core::CloudFrontPublicKeys;
    *setup_error_ = Load();
  }
  static void TearDownTestSuite() {
    delete dir_;
    delete cases_;
    delete setup_error_;
    delete signer_;
    delete keys_;
  }

  void SetUp() override { ASSERT_EQ(*setup_error_, "") << "cross-check setup failed"; }

  static std::string Load() {
    auto signer = core::CloudFrontSigner::Create(kKeyPairId, core::testing::RsaPrivateKeyPem());
    if (!signer.ok()) return signer.status().ToString();
    signer_ = new core::CloudFrontSigner(*signer);
    if (!keys_->Add(kKeyPairId, signer->PublicKeyPem()).ok()) return "cannot load public key";

    const std::string key_path = dir_->path() + "/private_key.pem";
    testing::WriteFileOrDie(key_path, core::testing::RsaPrivateKeyPem());
    chmod(key_path.c_str(), 0600);

    const char* version = std::getenv("EDGEPASS_CLOUDFRONT_SIGNER_VERSION");
    const std::string cases_path = std::string(EDGEPASS_CLOUDFRONT_DIR) + "/cases.json";
    const testing::RunResult run = testing::RunProcess(
        {"/bin/bash", std::string(EDGEPASS_CLOUDFRONT_DIR) + "/sdk_sign.sh",
         EDGEPASS_CLOUDFRONT_NPM_PREFIX,
         version != nullptr ? version : EDGEPASS_CLOUDFRONT_SIGNER_VERSION, key_path, cases_path},
        dir_->path(), absl::Minutes(5));
    if (run.exit_code != 0) {
      return absl::StrCat("sdk_sign.sh exited with ", run.exit_code, ": ", run.err);
    }
    const nlohmann::json sdk = nlohmann::json::parse(run.out, nullptr, false);
    const nlohmann::json table =
        nlohmann::json::parse(testing::ReadFileOrEmpty(cases_path), nullptr, false);
    if (sdk.is_discarded() || !sdk.is_array()) return "SDK output is not a JSON list: " + run.out;
    if (table.is_discarded()) return "cases.json is not JSON";
    now_ = absl::FromUnixMillis(table["now_ms"].get<int64_t>());
    const nlohmann::json& cases = table["cases"];
    if (sdk.size() != cases.size()) return "SDK output and cases.json differ in length";

    for (size_t i = 0; i < cases.size(); ++i) {
      const nlohmann::json& c = cases[i];
      Case k;
      k.name = c["name"].get<std::string>();
      k.cookies = c["kind"] == "cookies";
      k.url = c.value("url", "");
      k.policy_resource = c.value("policy_resource", "");
      k.request_url = c.value("request_url", k.url);
      k.client_ip = c.value("client_ip", kDefaultClientIp);
      k.conditions.expires = absl::FromUnixMillis(c["expires_ms"].get<int64_t>());
      if (c.contains("not_before_ms")) {
        k.conditions.not_before = absl::FromUnixMillis(c["not_before_ms"].get<int64_t>());
      }
      k.conditions.ip_range = c.value("ip_range", "");
      const nlohmann::json& s = sdk[i];
      if (s["name"] != k.name) return "SDK output out of order at " + k.name;
      k.sdk_error = s.value("error", "");
      k.sdk_url = s.value("url", "");
      if (s.contains("cookies")) {
        for (const auto& pair : s["cookies"]) {
          k.sdk_cookies.emplace_back(pair[0].get<std::string>(), pair[1].get<std::string>());
        }
      }
      cases_->push_back(std::move(k));
    }
    return "";
  }

  // What core makes of the case: a signed URL or cookies (as name/value pairs).
  static absl::StatusOr<std::pair<std::string, Cookies>> Ours(const Case& c) {
    const core::CloudFrontPolicy policy{c.policy_resource, c.conditions};
    const bool custom = !c.policy_resource.empty();
    if (!c.cookies) {
      absl::StatusOr<std::string> url = custom ? signer_->SignUrlWithPolicy(c.url, policy, now_)
                                               : signer_->SignUrl(c.url, c.conditions, now_);
      if (!url.ok()) return url.status();
      return std::make_pair(*url, Cookies());
    }
    auto cookies = custom ? signer_->SignCookiesWithPolicy(policy, now_)
                          : signer_->SignCookies(c.url, c.conditions, now_);
    if (!cookies.ok()) return cookies.status();
    Cookies out;
    for (const auto& cookie : *cookies) out.emplace_back(cookie.name, cookie.value);
    return std::make_pair(std::string(), out);
  }

  // Our verifier on the SDK's output, optionally altered.
  static CloudFrontReason Verify(const Case& c, absl::Time now, absl::string_view client_ip,
                                 const std::string& url, const Cookies& cookies) {
    const std::string header = CookieHeader(cookies);
    const core::CloudFrontRequest request{
        .url = url,
        .cookie_header = c.cookies ? absl::string_view(header) : "",
        .client_ip = client_ip};
    return core::VerifyCloudFrontRequest(request, *keys_, now).reason;
  }
  static CloudFrontReason Verify(const Case& c, absl::Time now, absl::string_view client_ip) {
    return Verify(c, now, client_ip, c.cookies ? c.request_url : c.sdk_url, c.sdk_cookies);
  }

  static std::string* setup_error_;
  static std::vector<Case>* cases_;
  static testing::TempDir* dir_;
  static core::CloudFrontSigner* signer_;
  static core::CloudFrontPublicKeys* keys_;
  static absl::Time now_;
};

std::string* CloudFrontSdkTest::setup_error_ = nullptr;
std::vector<Case>* CloudFrontSdkTest::cases_ = nullptr;
testing::TempDir* CloudFrontSdkTest::dir_ = nullptr;
core::CloudFrontSigner* CloudFrontSdkTest::signer_ = nullptr;
core::CloudFrontPublicKeys* CloudFrontSdkTest::keys_ = nullptr;
absl::Time CloudFrontSdkTest::now_;

TEST_F(CloudFrontSdkTest, SignedUrlsAndCookiesAreByteIdenticalToTheSdk) {
  ASSERT_GE(cases_->size(), 10u);
  for (const Case& c : *cases_) {
    SCOPED_TRACE(c.name);
    ASSERT_EQ(c.sdk_error, "") << "the SDK refused the case";
    auto ours = Ours(c);
    ASSERT_TRUE(ours.ok()) << ours.status();
    if (c.cookies) {
      EXPECT_EQ(ours->second, c.sdk_cookies);
    } else {
      EXPECT_EQ(ours->first, c.sdk_url);
    }
  }
}

TEST_F(CloudFrontSdkTest, VerifierAcceptsTheSdkOutput) {
  int unsafe = 0;
  for (const Case& c : *cases_) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(Verify(c, now_, c.client_ip), c.Unless(CloudFrontReason::kOk));
    unsafe += c.Unless(CloudFrontReason::kOk) == CloudFrontReason::kUnsafePath;
  }
  // Only the case made of encoded '/', malformed escapes and invalid UTF-8.
  EXPECT_EQ(unsafe, 1);
}

TEST_F(CloudFrontSdkTest, VerifierRefusesOnceExpired) {
  for (const Case& c : *cases_) {
    SCOPED_TRACE(c.name);
    const absl::Time expiry = absl::FromUnixSeconds(c.expires_s());
    EXPECT_EQ(Verify(c, expiry - absl::Seconds(1), c.client_ip), c.Unless(CloudFrontReason::kOk));
    EXPECT_EQ(Verify(c, expiry, c.client_ip), c.Unless(CloudFrontReason::kExpired));
  }
}

TEST_F(CloudFrontSdkTest, VerifierRefusesBeforeStartTime) {
  int checked = 0;
  for (const Case& c : *cases_) {
    if (!c.conditions.not_before.has_value()) continue;
    SCOPED_TRACE(c.name);
    const absl::Time start =
        absl::FromUnixSeconds(core::CloudFrontEpochSeconds(*c.conditions.not_before));
    EXPECT_EQ(Verify(c, start - absl::Seconds(1), c.client_ip),
              c.Unless(CloudFrontReason::kNotYetValid));
    EXPECT_EQ(Verify(c, start, c.client_ip), c.Unless(CloudFrontReason::kOk));
    ++checked;
  }
  EXPECT_GE(checked, 3);
}

TEST_F(CloudFrontSdkTest, VerifierRefusesOutsideIpRange) {
  int checked = 0;
  for (const Case& c : *cases_) {
    if (c.conditions.ip_range.empty()) continue;
    SCOPED_TRACE(c.name);
    EXPECT_EQ(Verify(c, now_, kOutsideEveryRange), c.Unless(CloudFrontReason::kIpOutsideRange));
    ++checked;
  }
  EXPECT_GE(checked, 3);
}

TEST_F(CloudFrontSdkTest, VerifierRefusesChangedResource) {
  for (const Case& c : *cases_) {
    SCOPED_TRACE(c.name);
    const std::string url = absl::StrReplaceAll(c.cookies ? c.request_url : c.sdk_url,
                                                {{"d111111abcdef8", "d222222abcdef8"}});
    // A canned policy is rebuilt from the URL, so the signature no longer holds.
    EXPECT_EQ(Verify(c, now_, c.client_ip, url, c.sdk_cookies),
              c.Unless(c.canned() ? CloudFrontReason::kBadSignature
                                  : CloudFrontReason::kResourceMismatch));
  }
}

TEST_F(CloudFrontSdkTest, VerifierRefusesFlippedSignatureByte) {
  for (const Case& c : *cases_) {
    SCOPED_TRACE(c.name);
    if (c.cookies) {
      Cookies cookies = c.sdk_cookies;
      for (auto& [name, value] : cookies) {
        if (name == "CloudFront-Signature") value = FlipSignatureByte(value);
      }
      EXPECT_EQ(Verify(c, now_, c.client_ip, c.request_url, cookies),
                c.Unless(CloudFrontReason::kBadSignature));
    } else {
      auto params = core::SplitCloudFrontUrl(c.sdk_url);
      ASSERT_TRUE(params.ok() && params->signature.has_value());
      const std::string url = absl::StrReplaceAll(
          c.sdk_url, {{*params->signature, FlipSignatureByte(*params->signature)}});
      ASSERT_NE(url, c.sdk_url);
      EXPECT_EQ(Verify(c, now_, c.client_ip, url, {}), c.Unless(CloudFrontReason::kBadSignature));
    }
  }
}

}  // namespace
}  // namespace edgepass
