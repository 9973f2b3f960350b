// Every case of AWS's published SigV4 test suite (../shared/vectors/sigv4/v4,
// read at test time): canonical request, string to sign and signature, in
// the header form and the query (presigned) form.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "aws/sigv4.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace edgepass::aws {
namespace {

namespace fs = std::filesystem;

std::string Slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// request.txt: "METHOD URI HTTP/1.1", header lines (a line starting with
// whitespace continues the previous value), a blank line, the body.
HttpRequest ParseRequest(const std::string& text) {
  HttpRequest request;
  size_t pos = text.find('\n');
  std::string first = text.substr(0, pos);
  size_t sp1 = first.find(' ');
  size_t sp2 = first.rfind(' ');
  request.method = first.substr(0, sp1);
  std::string uri = first.substr(sp1 + 1, sp2 - sp1 - 1);
  size_t q = uri.find('?');
  request.path = uri.substr(0, q);
  if (q != std::string::npos) request.query = uri.substr(q + 1);
  size_t start = pos + 1;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    start = end + 1;
    if (line.empty()) {
      if (start < text.size()) request.body = text.substr(start);
      break;
    }
    if (line[0] == ' ' || line[0] == '\t') {
      request.headers.back().second += " " + std::string(absl::StripAsciiWhitespace(line));
      continue;
    }
    size_t colon = line.find(':');
    request.headers.emplace_back(line.substr(0, colon), line.substr(colon + 1));
  }
  return request;
}

std::string AuthorizationLine(const std::string& signed_request) {
  for (absl::string_view line : absl::StrSplit(signed_request, '\n')) {
    if (absl::ConsumePrefix(&line, "Authorization:")) return std::string(line);
  }
  return "";
}

struct Case {
  std::string name;
  Credentials credentials;
  SigV4Params params;
  HttpRequest request;
};

Case LoadCase(const fs::path& dir) {
  Case c;
  c.name = dir.filename().string();
  nlohmann::json context = nlohmann::json::parse(Slurp(dir / "context.json"));
  c.credentials.access_key_id = context["credentials"]["access_key_id"];
  c.credentials.secret_access_key = context["credentials"]["secret_access_key"];
  c.credentials.session_token = context["credentials"].value("token", "");
  c.params.region = context["region"];
  c.params.service = context["service"];
  std::string err;
  EXPECT_TRUE(absl::ParseTime(absl::RFC3339_full, context["timestamp"].get<std::string>(),
                              &c.params.time, &err))
      << err;
  c.params.normalize_path = context["normalize"];
  c.params.add_content_sha256_header = context["sign_body"];
  c.params.sign_session_token = !context.value("omit_session_token", false);
  c.params.expires = absl::Seconds(context["expiration_in_seconds"].get<int>());
  c.request = ParseRequest(Slurp(dir / "request.txt"));
  return c;
}

std::vector<fs::path> CaseDirs() {
  std::vector<fs::path> dirs;
  for (const auto& entry : fs::directory_iterator(EDGEPASS_SIGV4_VECTORS_DIR)) {
    if (entry.is_directory()) dirs.push_back(entry.path());
  }
  std::sort(dirs.begin(), dirs.end());
  return dirs;
}

TEST(SigV4Vectors, SuiteIsPresent) {
  std::vector<fs::path> dirs = CaseDirs();
  int normalized = 0;
  for (const fs::path& dir : dirs) normalized += LoadCase(dir).params.normalize_path;
  EXPECT_EQ(dirs.size(), 38u);
  EXPECT_EQ(normalized, 31);  // 7 cases keep S3-style paths (normalize: false)
}

TEST(SigV4Vectors, HeaderFormMatchesEveryCase) {
  for (const fs::path& dir : CaseDirs()) {
    Case c = LoadCase(dir);
    SCOPED_TRACE(c.name);
    SigV4Result r = SignRequest(c.credentials, c.params, &c.request);
    EXPECT_EQ(r.canonical_request, Slurp(dir / "header-canonical-request.txt"));
    EXPECT_EQ(r.string_to_sign, Slurp(dir / "header-string-to-sign.txt"));
    EXPECT_EQ(r.signature, Slurp(dir / "header-signature.txt"));
    EXPECT_EQ(r.authorization, AuthorizationLine(Slurp(dir / "header-signed-request.txt")));
    ASSERT_NE(c.request.FindHeader("Authorization"), nullptr);
    EXPECT_EQ(*c.request.FindHeader("Authorization"), r.authorization);
    if (!c.credentials.session_token.empty()) {
      ASSERT_NE(c.request.FindHeader("X-Amz-Security-Token"), nullptr);
    }
  }
}

TEST(SigV4Vectors, QueryFormMatchesEveryCase) {
  for (const fs::path& dir : CaseDirs()) {
    Case c = LoadCase(dir);
    SCOPED_TRACE(c.name);
    SigV4Result r = PresignRequest(c.credentials, c.params, &c.request);
    EXPECT_EQ(r.canonical_request, Slurp(dir / "query-canonical-request.txt"));
    EXPECT_EQ(r.string_to_sign, Slurp(dir / "query-string-to-sign.txt"));
    EXPECT_EQ(r.signature, Slurp(dir / "query-signature.txt"));
    EXPECT_TRUE(absl::EndsWith(c.request.query, "&X-Amz-Signature=" + r.signature));
    std::string signed_request = Slurp(dir / "query-signed-request.txt");
    EXPECT_TRUE(absl::StrContains(signed_request, "X-Amz-Signature=" + r.signature));
  }
}

}  // namespace
}  // namespace edgepass::aws
