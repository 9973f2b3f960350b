// The geo headers a token binds (CloudFront-Viewer-Country, -Country-Region,
// -City) through a real nginx running the shipped deploy/nginx/edgepass.conf
// in front of a real edgepass-validator, on loopback, in the config's three
// set-ups:
//   - as shipped: no geo source, so whatever the viewer sends is dropped;
//   - its "#geoip2# " lines enabled: Debian's ngx_http_geoip2_module with npm's
//     @ip-location-db/geolite2-country-mmdb (installed under the build dir by
//     geolite2_mmdb.sh), looking up a fixed address the database maps to GB,
//     since a loopback viewer has no country (this test's config only);
//   - the switch set to `cloudfront`: the viewer's headers are kept.
// The example origin logs the geo headers it receives (a log format added in
// this test's config only), so each case also shows what reached the origin.
// Label: integration.
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "core/keyring.h"
#include "core/random.h"
#include "core/token_issuer.h"
#include "core/token_policy.h"
#include "gtest/gtest.h"
#include "http/http_test_client.h"
#include "tests/e2e/edge_stack.h"
#include "tests/support/test_process.h"

namespace edgepass {
namespace {

using ::edgepass::http::testing::Fetch;
using ::edgepass::http::testing::TestResponse;
using ::edgepass::testing::EdgeNginx;
using ::edgepass::testing::EdgePorts;
using ::edgepass::testing::HeaderOr;
using ::edgepass::testing::Nginx;
using ::edgepass::testing::NginxAvailable;
using ::edgepass::testing::ReadFileOrEmpty;
using ::edgepass::testing::RunProcess;
using ::edgepass::testing::RunResult;
using ::edgepass::testing::Sidecar;
using ::edgepass::testing::StartNginxOn;
using ::edgepass::testing::TempDir;
using ::edgepass::testing::WriteFileOrDie;
using ::edgepass::testing::WriteHlsTree;
using ::edgepass::testing::WriteNginxConf;

using Headers = std::vector<std::pair<std::string, std::string>>;

constexpr char kGeoip2Module[] = EDGEPASS_NGINX_GEOIP2_MODULE;
// MaxMind's own documentation address; the GeoLite2 data maps it to GB.
constexpr char kViewerAddress[] = "81.2.69.142";
constexpr char kViewerCountry[] = "GB";
constexpr char kSegment[] = "/vod/demo/720p/seg0.ts";

enum class GeoSetup { kShipped, kGeoip2, kCloudFrontTrusted };

// Replaces each `from` (which must occur) in *conf; "" or the missing literal.
std::string Substitute(
    std::string* conf,
    const std::vector<std::pair<std::string, std::string>>& edits) {
  for (const auto& [from, to] : edits) {
    if (!absl::StrContains(*conf, from)) return from;
    *conf = absl::StrReplaceAll(*conf, {{from, to}});
  }
  return "";
}

class NginxGeoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!NginxAvailable())
      FAIL() << "nginx is not installed (scripts/deps.sh installs it)";
    root_ = dir_.path();
    files_ = WriteHlsTree(root_);
    key_ = core::GenerateSigningKey(absl::Now(), core::KeyState::kPrimary,
                                    random_);
    const std::string keyring_path = root_ + "/keyring.json";
    WriteFileOrDie(keyring_path,
                   core::KeyringToJson(*core::Keyring::Create({key_})));
    ::chmod(keyring_path.c_str(), 0600);
    sidecar_ = std::make_unique<Sidecar>(
        root_, std::vector<std::string>{"--keyring", keyring_path, "--listen",
                                        "127.0.0.1:0", "--mode", "/=enforce"});
    sidecar_port_ = sidecar_->WaitListening();
    ASSERT_NE(sidecar_port_, 0) << sidecar_->log();
  }

  // Writes the shipped config set up as `setup` and starts nginx on it.
  void StartNginx(GeoSetup setup) {
    // The origin's access log also records the geo headers it was sent.
    std::vector<std::pair<std::string, std::string>> edits = {
        {"http {\n",
         "http {\n  log_format edgepass_geo '\"$request\" "
         "co=\"$http_cloudfront_viewer_country\" "
         "reg=\"$http_cloudfront_viewer_country_region\" "
         "cty=\"$http_cloudfront_viewer_city\"';\n"},
        {"access_log logs/origin_access.log;",
         "access_log logs/origin_access.log edgepass_geo;"}};
    if (setup == GeoSetup::kGeoip2) {
      ASSERT_TRUE(std::filesystem::exists(kGeoip2Module))
          << kGeoip2Module
          << " is missing: apt-get install libnginx-mod-http-geoip2 "
             "(scripts/deps.sh)";
      const char* version = std::getenv("EDGEPASS_GEOLITE2_MMDB_VERSION");
      RunResult install = RunProcess(
          {"/bin/bash", EDGEPASS_GEOLITE2_MMDB_SCRIPT,
           EDGEPASS_GEOLITE2_NPM_PREFIX,
           version != nullptr ? version : EDGEPASS_GEOLITE2_MMDB_VERSION},
          root_, absl::Minutes(5));
      ASSERT_EQ(install.exit_code, 0) << install.err;
      const std::string db(absl::StripSuffix(install.out, "\n"));
      // The shipped lines, enabled; then this test's database layout
      // (country_code, not MaxMind's country iso_code) and viewer address.
      edits.insert(
          edits.end(),
          {{"#geoip2# ", ""},
           {"/usr/lib/nginx/modules/ngx_http_geoip2_module.so", kGeoip2Module},
           {"/var/lib/GeoIP/GeoLite2-Country.mmdb", db},
           {"source=$remote_addr country iso_code;",
            "source=$edgepass_test_viewer_addr country_code;"},
           {"http {\n",
            absl::StrCat("http {\n  map \"\" $edgepass_test_viewer_addr "
                         "{\n    default ",
                         kViewerAddress, ";\n  }\n")}});
    }
    if (setup == GeoSetup::kCloudFrontTrusted) {
      edits.push_back(
          {"map \"\" $edgepass_geo_source {\n    default lookup;",
           "map \"\" $edgepass_geo_source {\n    default cloudfront;"});
    }
    std::string missing;
    absl::StatusOr<EdgeNginx> edge = StartNginxOn(root_, [&]() -> absl::StatusOr<EdgePorts> {
      absl::StatusOr<EdgePorts> ports = WriteNginxConf(root_, sidecar_port_);
      if (!ports.ok()) return ports;
      const std::string conf_path = root_ + "/nginx.conf";
      std::string conf = ReadFileOrEmpty(conf_path);
      missing = Substitute(&conf, edits);
      if (!missing.empty()) return absl::FailedPreconditionError("the shipped config lost a literal");
      WriteFileOrDie(conf_path, conf);
      return ports;
    });
    ASSERT_EQ(missing, "")
        << "the shipped config lost a literal this test edits";
    ASSERT_TRUE(edge.ok()) << edge.status();
    nginx_ = std::move(edge->nginx);
    edge_port_ = edge->ports.edge;
  }

  // A token for /vod/demo/ bound to the viewer's country `co` (and region and
  // city when given).
  std::string GeoToken(const std::string& co, const std::string& reg = "",
                       const std::string& cty = "") {
    core::TokenPolicy policy;
    policy.paths = {"/vod/demo/"};
    core::ViewerAttributes viewer;
    policy.co = true;
    viewer.co = co;
    policy.reg = !reg.empty();
    viewer.reg = reg;
    policy.cty = !cty.empty();
    viewer.cty = cty;
    absl::StatusOr<core::IssuedToken> t =
        core::IssueToken(policy, viewer, key_, absl::Now(), random_);
    EXPECT_TRUE(t.ok()) << t.status();
    return t.ok() ? t->token : "";
  }

  // A token for /vod/demo/ that binds nothing.
  std::string PlainToken() {
    core::TokenPolicy policy;
    policy.paths = {"/vod/demo/"};
    absl::StatusOr<core::IssuedToken> t = core::IssueToken(
        policy, core::ViewerAttributes{}, key_, absl::Now(), random_);
    EXPECT_TRUE(t.ok()) << t.status();
    return t.ok() ? t->token : "";
  }

  TestResponse Get(const std::string& target, const Headers& headers = {}) {
    std::optional<TestResponse> r = Fetch(edge_port_, "GET", target, headers);
    EXPECT_TRUE(r.has_value()) << target;
    return r.value_or(TestResponse{});
  }

  // The lines the example origin logged ("GET /vod/... HTTP/1.1" co=".."
  // reg=".." cty=".."; nginx logs an empty value as "-"), once there are
  // `want` of them (nginx writes the line after the response).
  std::vector<std::string> OriginLines(size_t want) {
    std::vector<std::string> lines;
    const absl::Time deadline = absl::Now() + absl::Seconds(5);
    do {
      std::vector<std::string> split =
          absl::StrSplit(ReadFileOrEmpty(root_ + "/logs/origin_access.log"),
                         '\n', absl::SkipEmpty());
      lines = std::move(split);
      if (lines.size() >= want) break;
      absl::SleepFor(absl::Milliseconds(20));
    } while (absl::Now() < deadline);
    return lines;
  }

  core::SecureRandom random_;
  core::SigningKey key_;
  TempDir dir_;
  std::string root_;
  std::map<std::string, std::string> files_;
  std::unique_ptr<Sidecar> sidecar_;
  std::unique_ptr<Nginx> nginx_;
  uint16_t sidecar_port_ = 0, edge_port_ = 0;
};

TEST_F(NginxGeoTest, ShippedConfigDropsForgedGeoHeaders) {
  ASSERT_NO_FATAL_FAILURE(StartNginx(GeoSetup::kShipped));
  const std::string us = GeoToken("US");
  const std::string us_wa_seattle = GeoToken("US", "WA", "Seattle");
  for (const auto& [token, headers] :
       std::vector<std::pair<std::string, Headers>>{
           {us, {{"CloudFront-Viewer-Country", "US"}}},
           {us, {{"cloudfront-viewer-country", "US"}}},
           {us,
            {{"CloudFront-Viewer-Country", "US"},
             {"CloudFront-Viewer-Country", "US"}}},
           {us_wa_seattle,
            {{"CloudFront-Viewer-Country", "US"},
             {"CloudFront-Viewer-Country-Region", "WA"},
             {"CloudFront-Viewer-City", "Seattle"}}},
       }) {
    TestResponse r = Get("/" + token + kSegment, headers);
    EXPECT_EQ(r.status, 403)
        << headers.size() << " forged header(s) opened a co=US token";
    EXPECT_EQ(HeaderOr(r, "X-Edgepass-Reason"), "missing_geo");
    EXPECT_TRUE(r.body != files_[kSegment]) << "the segment was served";
  }

  // A token that binds no geo still plays; the origin never sees the
  // viewer's geo headers.
  TestResponse plain = Get("/" + PlainToken() + kSegment,
                           {{"CloudFront-Viewer-Country", "US"},
                            {"CloudFront-Viewer-Country-Region", "WA"},
                            {"CloudFront-Viewer-City", "Seattle"}});
  EXPECT_EQ(plain.status, 200) << HeaderOr(plain, "X-Edgepass-Reason");
  const std::vector<std::string> lines = OriginLines(1);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_TRUE(absl::StrContains(lines[0], absl::StrCat("GET ", kSegment, " ")));
  EXPECT_TRUE(absl::EndsWith(lines[0], "co=\"-\" reg=\"-\" cty=\"-\""))
      << lines[0];
}

TEST_F(NginxGeoTest, Geoip2LookupDecidesTheCountryWhateverTheViewerSends) {
  ASSERT_NO_FATAL_FAILURE(StartNginx(GeoSetup::kGeoip2));
  const std::string gb = GeoToken(kViewerCountry);
  TestResponse r = Get("/" + gb + kSegment);
  EXPECT_EQ(r.status, 200) << HeaderOr(r, "X-Edgepass-Reason");
  EXPECT_TRUE(r.body == files_[kSegment]);
  // A forged header changes nothing, either way.
  r = Get("/" + gb + kSegment, {{"CloudFront-Viewer-Country", "US"}});
  EXPECT_EQ(r.status, 200) << HeaderOr(r, "X-Edgepass-Reason");
  for (const Headers& headers :
       std::vector<Headers>{{},
                            {{"CloudFront-Viewer-Country", "US"}},
                            {{"CloudFront-Viewer-Country", "US"},
                             {"cloudfront-viewer-country", "US"}}}) {
    r = Get("/" + GeoToken("US") + kSegment, headers);
    EXPECT_EQ(r.status, 403) << headers.size() << " forged header(s)";
    EXPECT_EQ(HeaderOr(r, "X-Edgepass-Reason"), "binding_mismatch");
  }
  // The lookup is country only: a token that also binds the region is
  // refused, even with the region forged.
  r = Get("/" + GeoToken(kViewerCountry, "ENG") + kSegment,
          {{"CloudFront-Viewer-Country-Region", "ENG"}});
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(HeaderOr(r, "X-Edgepass-Reason"), "missing_geo");

  // The origin got the looked-up country both times, never "US".
  const std::vector<std::string> lines = OriginLines(2);
  ASSERT_EQ(lines.size(), 2u);
  for (const std::string& line : lines) {
    EXPECT_TRUE(absl::EndsWith(
        line, absl::StrCat("co=\"", kViewerCountry, "\" reg=\"-\" cty=\"-\"")))
        << line;
  }
}

TEST_F(NginxGeoTest, CloudFrontSwitchKeepsTheViewersHeaders) {
  ASSERT_NO_FATAL_FAILURE(StartNginx(GeoSetup::kCloudFrontTrusted));
  const Headers seattle = {{"CloudFront-Viewer-Country", "US"},
                           {"CloudFront-Viewer-Country-Region", "WA"},
                           {"CloudFront-Viewer-City", "Seattle"}};
  TestResponse r =
      Get("/" + GeoToken("US", "WA", "Seattle") + kSegment, seattle);
  EXPECT_EQ(r.status, 200) << HeaderOr(r, "X-Edgepass-Reason");
  EXPECT_TRUE(r.body == files_[kSegment]);
  r = Get("/" + GeoToken("US") + kSegment,
          {{"CloudFront-Viewer-Country", "FR"}});
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(HeaderOr(r, "X-Edgepass-Reason"), "binding_mismatch");
  r = Get("/" + GeoToken("US") + kSegment);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(HeaderOr(r, "X-Edgepass-Reason"), "missing_geo");

  const std::vector<std::string> lines = OriginLines(1);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_TRUE(absl::EndsWith(lines[0], "co=\"US\" reg=\"WA\" cty=\"Seattle\""))
      << lines[0];
}

}  // namespace
}  // namespace edgepass
