// The C API's CloudFront routes against the sidecar's: the same requests
// (signed URLs, signed cookies, bad and missing signatures, unsafe paths) in
// each mode get the same status, reason and origin request from
// edgepass_check as from the sidecar's /auth (client/sidecar/cloudfront_auth.h).
// tests/e2e/nginx_cloudfront_test.cc runs the same through nginx.
#include <fstream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/nginx/edgepass_nginx.h"
#include "client/sidecar/cloudfront_auth.h"
#include "client/sidecar/cloudfront_keys_file.h"
#include "client/sidecar/sidecar_service.h"
#include "client/sidecar/sidecar_test_util.h"
#include "core/cloudfront_signer.h"
#include "core/cloudfront_test_keys_internal.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/support/temp_dir.h"

namespace edgepass::sidecar {
namespace {

using testing::kNow;

constexpr absl::string_view kBase = "https://cdn.example.com";
constexpr absl::string_view kKeyPairId = "K2JCJMDEHXQW5F";
constexpr char kViewerIp[] = "192.0.2.7";

edgepass_str Str(absl::string_view s) { return {s.data(), s.size()}; }
std::string AsString(edgepass_str s) { return std::string(s.data == nullptr ? "" : s.data, s.len); }

// What a viewer gets, in the terms both sides share.
struct Outcome {
  int status = 0;           // 200 when forwarded
  std::string reason;       // X-Edgepass-Reason, or X-Edgepass-Would-Deny in log-only
  std::string origin;       // X-Edgepass-Path when forwarded
  bool operator==(const Outcome& o) const {
    return status == o.status && reason == o.reason && origin == o.origin;
  }
};

std::ostream& operator<<(std::ostream& os, const Outcome& o) {
  return os << o.status << " reason=" << o.reason << " origin=" << o.origin;
}

class NginxApiCloudFrontTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<core::CloudFrontSigner> signer =
        core::CloudFrontSigner::Create(kKeyPairId, core::testing::RsaPrivateKeyPem());
    ASSERT_TRUE(signer.ok()) << signer.status();
    signer_ = std::make_unique<core::CloudFrontSigner>(*std::move(signer));
    keys_path_ = dir_.path() + "/cloudfront-keys.json";
    std::ofstream(keys_path_)
        << nlohmann::json{{std::string(kKeyPairId), signer_->PublicKeyPem()}}.dump();

    absl::StatusOr<core::CloudFrontPublicKeys> keys = LoadCloudFrontPublicKeysFile(keys_path_);
    ASSERT_TRUE(keys.ok()) << keys.status();
    absl::StatusOr<CloudFrontAuth> cf =
        CloudFrontAuth::Create(*std::move(keys), kBase, {"/premium/", "/live/ch1"});
    ASSERT_TRUE(cf.ok()) << cf.status();
    sidecar_cf_ = std::make_unique<CloudFrontAuth>(*std::move(cf));

    const edgepass_str prefixes[] = {Str("/premium/"), Str("/live/ch1")};
    char err[512] = "";
    module_cf_ = edgepass_cloudfront_open(keys_path_.c_str(), Str(kBase), prefixes, 2, err,
                                          sizeof err);
    ASSERT_NE(module_cf_, nullptr) << err;
    EXPECT_EQ(edgepass_cloudfront_key_count(module_cf_), 1u);
  }
  void TearDown() override { edgepass_cloudfront_close(module_cf_); }

  std::string SignUrl(const std::string& path, core::CloudFrontConditions c,
                      absl::Time signed_at = kNow) {
    absl::StatusOr<std::string> url = signer_->SignUrl(absl::StrCat(kBase, path), c, signed_at);
    EXPECT_TRUE(url.ok()) << url.status();
    return url.ok() ? url->substr(kBase.size()) : "";
  }
  std::string SignCookies(const std::string& resource, core::CloudFrontConditions c) {
    absl::StatusOr<std::vector<core::CloudFrontCookie>> cookies = signer_->SignCookiesWithPolicy(
        {.resource = absl::StrCat(kBase, resource), .conditions = std::move(c)}, kNow);
    EXPECT_TRUE(cookies.ok()) << cookies.status();
    std::vector<std::string> pairs = {"theme=dark"};
    if (cookies.ok()) {
      for (const auto& k : *cookies) pairs.push_back(k.name + "=" + k.value);
    }
    return absl::StrJoin(pairs, "; ");
  }

  Outcome Sidecar(EnforcementMode mode, const std::string& target, const std::string& cookie) {
    client::EdgeValidator validator{core::Keyring{}};
    StateSink sink{&validator, nullptr};
    SidecarStats stats;
    SidecarService service(&validator, &sink, *RouteModes::Create({{"/", mode}}), &stats, {});
    service.set_cloudfront(sidecar_cf_.get());
    http::Request r;
    r.method = "GET";
    r.target = "/auth";
    r.headers.Add("X-Original-URI", target);
    r.headers.Add("X-Real-IP", kViewerIp);
    if (!cookie.empty()) r.headers.Add("Cookie", cookie);
    const http::Response resp = service.Handle(r, kNow);
    auto header = [&](absl::string_view name) {
      const std::string* v = resp.headers.Find(name);
      return v ? *v : "";
    };
    Outcome o{.status = resp.status};
    o.reason = header(kReasonHeader) + header(kWouldDenyHeader);
    if (resp.status == 200) o.origin = header(kPathHeader);
    return o;
  }

  Outcome Module(edgepass_mode mode, const std::string& target, const std::string& cookie) {
    std::vector<edgepass_header> headers = {{Str("Host"), Str("edge.example")}};
    if (!cookie.empty()) headers.push_back({Str("cookie"), Str(cookie)});
    std::string buf(target.size(), '\0');
    edgepass_request req{};
    req.uri = Str(target);
    req.client_ip = Str(kViewerIp);
    req.headers = headers.data();
    req.header_count = headers.size();
    req.now_ms = absl::ToUnixMillis(kNow);
    req.mode = mode;
    req.cloudfront = module_cf_;
    req.path_buf = buf.data();
    req.path_buf_len = buf.size();
    edgepass_decision d;
    edgepass_check(nullptr, &req, &d);  // CloudFront routes need no token state
    EXPECT_EQ(d.cloudfront, 1) << target;
    Outcome o;
    o.status = d.verdict == EDGEPASS_DENIED ? d.http_status : 200;
    if (d.verdict == EDGEPASS_DENIED || d.verdict == EDGEPASS_WOULD_DENY) o.reason = AsString(d.reason);
    if (o.status == 200) o.origin = AsString(d.path);
    return o;
  }

  ::edgepass::testing::TempDir dir_;
  std::string keys_path_;
  std::unique_ptr<core::CloudFrontSigner> signer_;
  std::unique_ptr<CloudFrontAuth> sidecar_cf_;
  edgepass_cloudfront* module_cf_ = nullptr;
};

TEST_F(NginxApiCloudFrontTest, SameOutcomeAsTheSidecarInEveryMode) {
  const core::CloudFrontConditions hour{.expires = kNow + absl::Hours(1)};
  core::CloudFrontConditions expired{.expires = kNow - absl::Seconds(1)};
  core::CloudFrontConditions later = hour;
  later.not_before = kNow + absl::Minutes(10);
  core::CloudFrontConditions elsewhere = hour;
  elsewhere.ip_range = "198.51.100.0/24";
  core::CloudFrontConditions here = hour;
  here.ip_range = "192.0.2.0/24";

  std::string tampered = SignUrl("/premium/v/a.ts", hour);
  const size_t sig = tampered.find("Signature=") + 10;
  tampered[sig + 5] = tampered[sig + 5] == 'A' ? 'B' : 'A';
  const std::string other = SignUrl("/premium/v/b.ts", hour);
  const std::string cookies = SignCookies("/premium/v/*", hour);
  const std::string signed_url = SignUrl("/premium/v/a.ts?quality=hd&x=1", hour);

  const std::vector<std::pair<std::string, std::string>> cases = {
      {signed_url, ""},
      {SignUrl("/premium/v/a.ts", hour), ""},
      {SignUrl("/premium/v/a.ts", here), ""},
      {SignUrl("/premium/v/a.ts", elsewhere), ""},
      {SignUrl("/premium/v/a.ts", expired, kNow - absl::Hours(2)), ""},
      {SignUrl("/premium/v/a.ts", later), ""},
      {SignUrl("/live/ch1/seg.ts", hour), ""},
      {tampered, ""},
      {"/premium/v/a.ts" + other.substr(other.find('?')), ""},
      {"/premium/v/a.ts?cid=9", ""},
      {"/premium/v/a.ts", ""},
      {"/premium/v/seg-1.ts?x=2", cookies},
      {"/premium/other/seg-1.ts", cookies},
      {"/premium/v/seg-1.ts", "CloudFront-Policy=%%%; theme=dark"},
      {"/premium/v/a.ts?Expires=1&Expires=2", ""},
      {"/premium/v/a.ts?Key-Pair-Id=" + std::string(kKeyPairId), ""},
      {signed_url + "&Signature=AAAA", ""},
      {"/premium/v/../x.ts", ""},
      {"/premium/v/%2e%2e/x.ts" + other.substr(other.find('?')), cookies},
      {"/premium/v/a.ts#frag", ""},
  };
  const std::pair<EnforcementMode, edgepass_mode> modes[] = {
      {EnforcementMode::kEnforce, EDGEPASS_ENFORCE},
      {EnforcementMode::kLogOnly, EDGEPASS_LOG_ONLY},
      {EnforcementMode::kOff, EDGEPASS_OFF}};
  int allowed = 0, refused = 0;
  for (const auto& [sidecar_mode, module_mode] : modes) {
    for (const auto& [target, cookie] : cases) {
      const Outcome want = Sidecar(sidecar_mode, target, cookie);
      const Outcome got = Module(module_mode, target, cookie);
      EXPECT_EQ(got, want) << EnforcementModeName(sidecar_mode) << " " << target
                           << (cookie.empty() ? "" : " with cookies");
      if (sidecar_mode == EnforcementMode::kEnforce) (want.status == 200 ? allowed : refused)++;
    }
  }
  // The cases cover both outcomes.
  EXPECT_EQ(allowed, 5);
  EXPECT_EQ(refused, static_cast<int>(cases.size()) - 5);
}

TEST_F(NginxApiCloudFrontTest, PathsOutsideTheRoutesAreTokenRequests) {
  edgepass_request req{};
  const std::string target = SignUrl("/live/ch10/seg.ts", {.expires = kNow + absl::Hours(1)});
  std::string buf(target.size(), '\0');
  req.uri = Str(target);
  req.client_ip = Str(kViewerIp);
  req.now_ms = absl::ToUnixMillis(kNow);
  req.cloudfront = module_cf_;
  req.path_buf = buf.data();
  req.path_buf_len = buf.size();
  edgepass_decision d;
  edgepass_check(nullptr, &req, &d);
  EXPECT_EQ(d.cloudfront, 0);
  EXPECT_EQ(d.verdict, EDGEPASS_DENIED);
  EXPECT_EQ(AsString(d.reason), "no_state");
}

TEST_F(NginxApiCloudFrontTest, BadSettingsNameTheSettingAndNeverTheKey) {
  const edgepass_str premium[] = {Str("/premium/")};
  char err[512] = "";
  EXPECT_EQ(edgepass_cloudfront_open((dir_.path() + "/none.json").c_str(), Str(kBase), premium, 1,
                                     err, sizeof err),
            nullptr);
  EXPECT_NE(std::string(err).find("none.json\": No such file"), std::string::npos) << err;

  const std::string bad = dir_.path() + "/bad.json";
  std::ofstream(bad) << R"({"K2JCJMDEHXQW5F": "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"})";
  EXPECT_EQ(edgepass_cloudfront_open(bad.c_str(), Str(kBase), premium, 1, err, sizeof err), nullptr);
  EXPECT_NE(std::string(err).find("key 'K2JCJMDEHXQW5F': "), std::string::npos) << err;
  EXPECT_EQ(std::string(err).find("AAAA"), std::string::npos) << err;

  EXPECT_EQ(edgepass_cloudfront_open(keys_path_.c_str(), Str("cdn.example.com"), premium, 1, err,
                                     sizeof err),
            nullptr);
  EXPECT_NE(std::string(err).find("edgepass_cloudfront_url_base: "), std::string::npos) << err;

  const edgepass_str unsafe[] = {Str("/premium/../")};
  EXPECT_EQ(edgepass_cloudfront_open(keys_path_.c_str(), Str(kBase), unsafe, 1, err, sizeof err),
            nullptr);
  EXPECT_NE(std::string(err).find("edgepass_cloudfront_route: '/premium/../'"), std::string::npos)
      << err;
  EXPECT_EQ(edgepass_cloudfront_open(keys_path_.c_str(), Str(kBase), premium, 0, err, sizeof err),
            nullptr);
}

}  // namespace
}  // namespace edgepass::sidecar
