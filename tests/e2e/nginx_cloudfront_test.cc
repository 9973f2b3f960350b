// A real nginx with the shipped deploy/nginx/edgepass.conf in front of a real
// edgepass-validator that checks CloudFront signed URLs and cookies under
// /premium/ (the prefix the shipped config lists) and tokens elsewhere. The
// example origin's access log (logs/origin_access.log) shows what the origin
// was asked for: never a CloudFront parameter. Label: integration.
// With EDGEPASS_E2E_NGINX=module (the module.* runs) nginx runs the shipped
// deploy/nginx/edgepass-module.conf with its CloudFront lines enabled and the
// module checks the same requests itself, from the same keys file: every
// case must get the same status, reason and origin request as through the
// sidecar.
#include <sys/stat.h>

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "core/cloudfront_signer.h"
#include "core/cloudfront_test_keys_internal.h"
#include "core/keyring.h"
#include "core/random.h"
#include "core/token_issuer.h"
#include "core/token_policy.h"
#include "gtest/gtest.h"
#include "http/http_test_client.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/edge_stack.h"
#include "tests/support/test_process.h"

namespace edgepass {
namespace {

using ::edgepass::http::testing::Fetch;
using ::edgepass::http::testing::TestResponse;
using ::edgepass::testing::EdgeNginx;
using ::edgepass::testing::HeaderOr;
using ::edgepass::testing::Nginx;
using ::edgepass::testing::NginxAvailable;
using ::edgepass::testing::RandomBytes;
using ::edgepass::testing::ReadFileOrEmpty;
using ::edgepass::testing::Sidecar;
using ::edgepass::testing::TempDir;
using ::edgepass::testing::StartEdgeNginx;
using ::edgepass::testing::WriteFileOrDie;
using ::edgepass::testing::WriteHlsTree;

constexpr char kUrlBase[] = "https://cdn.example.com";
constexpr char kKeyPairId[] = "K2JCJMDEHXQW5F";
constexpr char kSegment[] = "/premium/show/720p/seg0.ts";

using Headers = std::vector<std::pair<std::string, std::string>>;

class NginxCloudFrontTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!NginxAvailable()) FAIL() << "nginx is not installed (scripts/deps.sh installs it)";
    root_ = dir_.path();
    files_ = WriteHlsTree(root_);
    segment_ = RandomBytes(30000);
    std::filesystem::create_directories(root_ + "/hls/premium/show/720p");
    WriteFileOrDie(root_ + "/hls" + kSegment, segment_);

    absl::StatusOr<core::CloudFrontSigner> signer =
        core::CloudFrontSigner::Create(kKeyPairId, core::testing::RsaPrivateKeyPem());
    ASSERT_TRUE(signer.ok()) << signer.status();
    signer_.emplace(*std::move(signer));
    const std::string keys_path = root_ + "/cloudfront-keys.json";
    WriteFileOrDie(keys_path, nlohmann::json{{kKeyPairId, signer_->PublicKeyPem()}}.dump());

    key_ = core::GenerateSigningKey(absl::Now(), core::KeyState::kPrimary, random_);
    const std::string keyring_path = root_ + "/keyring.json";
    WriteFileOrDie(keyring_path, core::KeyringToJson(*core::Keyring::Create({key_})));
    ::chmod(keyring_path.c_str(), 0600);

    sidecar_ = std::make_unique<Sidecar>(
        root_, std::vector<std::string>{
                   "--keyring", keyring_path, "--listen", "127.0.0.1:0", "--mode", "/=enforce",
                   "--cloudfront-route", "/premium/", "--cloudfront-public-keys", keys_path,
                   "--cloudfront-url-base", kUrlBase});
    const uint16_t sidecar_port = sidecar_->WaitListening();
    ASSERT_NE(sidecar_port, 0) << sidecar_->log();

    absl::StatusOr<EdgeNginx> edge = StartEdgeNginx(root_, sidecar_port);
    ASSERT_TRUE(edge.ok()) << edge.status();
    nginx_ = std::move(edge->nginx);
    edge_port_ = edge->ports.edge;
  }

  // The path and query of a URL signed for kUrlBase + `path_and_query`.
  std::string SignedTarget(const std::string& path_and_query) {
    absl::StatusOr<std::string> url = signer_->SignUrl(
        kUrlBase + path_and_query, {.expires = absl::Now() + absl::Hours(1)}, absl::Now());
    EXPECT_TRUE(url.ok()) << url.status();
    return url.ok() ? url->substr(std::string(kUrlBase).size()) : "";
  }

  TestResponse Get(const std::string& target, const Headers& headers = {}) {
    std::optional<TestResponse> r = Fetch(edge_port_, "GET", target, headers);
    EXPECT_TRUE(r.has_value()) << target;
    return r.value_or(TestResponse{});
  }

  // The request lines the example origin logged, e.g.
  // "GET /premium/show/720p/seg0.ts?cid=7 HTTP/1.1". nginx writes its access
  // log line after the response, so wait briefly for `want` lines.
  std::vector<std::string> OriginRequests(size_t want) {
    std::vector<std::string> lines;
    const absl::Time deadline = absl::Now() + absl::Seconds(5);
    do {
      lines.clear();
      const std::string log = ReadFileOrEmpty(root_ + "/logs/origin_access.log");
      for (size_t pos = log.find("\"GET "); pos != std::string::npos;
           pos = log.find("\"GET ", pos + 1)) {
        lines.push_back(log.substr(pos + 1, log.find('"', pos + 1) - pos - 1));
      }
      if (lines.size() >= want) break;
      absl::SleepFor(absl::Milliseconds(20));
    } while (absl::Now() < deadline);
    return lines;
  }

  core::SecureRandom random_;
  core::SigningKey key_;
  std::optional<core::CloudFrontSigner> signer_;
  TempDir dir_;
  std::string root_, segment_;
  std::map<std::string, std::string> files_;
  std::unique_ptr<Sidecar> sidecar_;
  std::unique_ptr<Nginx> nginx_;
  uint16_t edge_port_ = 0;
};

TEST_F(NginxCloudFrontTest, SignedUrlServesTheBytesAndTheOriginNeverSeesTheSignature) {
  const std::string target = SignedTarget(std::string(kSegment) + "?cid=7");
  ASSERT_TRUE(absl::StrContains(target, "&Signature=")) << target;
  TestResponse r = Get(target);
  EXPECT_EQ(r.status, 200) << HeaderOr(r, "X-Edgepass-Reason");
  EXPECT_TRUE(r.body == segment_) << r.body.size() << " bytes, want " << segment_.size();
  EXPECT_EQ(HeaderOr(r, "Content-Type"), "video/mp2t");

  // Without other parameters the origin gets the bare path.
  TestResponse bare = Get(SignedTarget(kSegment));
  EXPECT_EQ(bare.status, 200) << HeaderOr(bare, "X-Edgepass-Reason");
  EXPECT_TRUE(bare.body == segment_);

  EXPECT_EQ(OriginRequests(2),
            (std::vector<std::string>{absl::StrCat("GET ", kSegment, "?cid=7 HTTP/1.1"),
                                      absl::StrCat("GET ", kSegment, " HTTP/1.1")}));
}

TEST_F(NginxCloudFrontTest, SignedCookiesServeTheBytesAndTheViewersQueryOnly) {
  absl::StatusOr<std::vector<core::CloudFrontCookie>> cookies = signer_->SignCookiesWithPolicy(
      {.resource = absl::StrCat(kUrlBase, "/premium/show/*"),
       .conditions = {.expires = absl::Now() + absl::Hours(1)}},
      absl::Now());
  ASSERT_TRUE(cookies.ok()) << cookies.status();
  std::vector<std::string> pairs = {"theme=dark"};
  for (const core::CloudFrontCookie& c : *cookies) pairs.push_back(c.name + "=" + c.value);
  const Headers cookie = {{"Cookie", absl::StrJoin(pairs, "; ")}};

  TestResponse r = Get(std::string(kSegment) + "?cid=8", cookie);
  EXPECT_EQ(r.status, 200) << HeaderOr(r, "X-Edgepass-Reason");
  EXPECT_TRUE(r.body == segment_) << r.body.size() << " bytes, want " << segment_.size();
  TestResponse bare = Get(kSegment, cookie);
  EXPECT_EQ(bare.status, 200) << HeaderOr(bare, "X-Edgepass-Reason");
  EXPECT_TRUE(bare.body == segment_);

  EXPECT_EQ(OriginRequests(2),
            (std::vector<std::string>{absl::StrCat("GET ", kSegment, "?cid=8 HTTP/1.1"),
                                      absl::StrCat("GET ", kSegment, " HTTP/1.1")}));
}

TEST_F(NginxCloudFrontTest, BadOrMissingSignatureIsRefusedAndNothingReachesTheOrigin) {
  std::string tampered = SignedTarget(kSegment);
  const size_t sig = tampered.find("Signature=") + std::string("Signature=").size();
  ASSERT_LT(sig + 20, tampered.size()) << tampered;
  tampered[sig + 20] = tampered[sig + 20] == 'A' ? 'B' : 'A';
  TestResponse bad = Get(tampered);
  EXPECT_EQ(bad.status, 403);
  EXPECT_EQ(HeaderOr(bad, "X-Edgepass-Reason"), "bad_signature");
  EXPECT_TRUE(bad.body.find(segment_.substr(0, 64)) == std::string::npos);

  TestResponse none = Get(std::string(kSegment) + "?cid=9");
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(HeaderOr(none, "X-Edgepass-Reason"), "missing_signature");

  // A URL signed for another file does not open this one.
  const std::string other = SignedTarget("/premium/show/720p/seg1.ts");
  TestResponse moved = Get(absl::StrCat(kSegment, other.substr(other.find('?'))));
  EXPECT_EQ(moved.status, 403);
  EXPECT_EQ(HeaderOr(moved, "X-Edgepass-Reason"), "bad_signature");

  EXPECT_TRUE(OriginRequests(0).empty());
  const std::string log = sidecar_->log() + ReadFileOrEmpty(root_ + "/logs/error.log");
  EXPECT_FALSE(absl::StrContains(log, tampered.substr(sig, 40))) << "a signature was logged";
}

TEST_F(NginxCloudFrontTest, TokenRouteAlongsideStillForwardsTheViewersQuery) {
  core::TokenPolicy policy;
  policy.paths = {"/vod/demo/"};
  core::ViewerAttributes viewer;
  viewer.ip = "127.0.0.1";
  policy.ip = true;
  absl::StatusOr<core::IssuedToken> token =
      core::IssueToken(policy, viewer, key_, absl::Now(), random_);
  ASSERT_TRUE(token.ok()) << token.status();

  TestResponse r = Get("/" + token->token + "/vod/demo/720p/seg1.ts?cid=viewer1");
  EXPECT_EQ(r.status, 200) << HeaderOr(r, "X-Edgepass-Reason");
  EXPECT_TRUE(r.body == files_["/vod/demo/720p/seg1.ts"]);
  EXPECT_EQ(Get("/vod/demo/720p/seg1.ts").status, 401);
  // A CloudFront-signed URL is no key to a token route.
  TestResponse cf = Get(SignedTarget("/vod/demo/720p/seg1.ts"));
  EXPECT_EQ(cf.status, 401) << HeaderOr(cf, "X-Edgepass-Reason");

  // And a signed /premium/ URL next to it.
  EXPECT_EQ(Get(SignedTarget(kSegment)).status, 200);
  EXPECT_EQ(OriginRequests(2),
            (std::vector<std::string>{"GET /vod/demo/720p/seg1.ts?cid=viewer1 HTTP/1.1",
                                      absl::StrCat("GET ", kSegment, " HTTP/1.1")}));
}

}  // namespace
}  // namespace edgepass
