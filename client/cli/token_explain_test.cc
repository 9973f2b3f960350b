// `edgepass token explain`: what it decodes and shows for a valid, an
// expired, an unknown-kid, a tampered and a viewer-mismatched token, for a
// bare token, a path and a URL; --json for scripts; the same exit codes as
// `token verify` for the same request; garbage never crashes it.
#include "client/explain/token_explain.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "client/cli/commands.h"
#include "core/crypto.h"
#include "core/validator.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/support/temp_dir.h"

namespace edgepass::cli {
namespace {

using ::edgepass::explain::kMaxExplainInputBytes;
using ::edgepass::explain::ReasonHint;
using ::testing::HasSubstr;

constexpr char kKeyId[] = "20260101_aaaaaaaaaaaaaaaaaaaa";
const std::string kKeyValue(128, 'a');
constexpr char kOtherKeyId[] = "20251201_bbbbbbbbbbbbbbbbbbbb";
constexpr int64_t kNow = 1767225600;  // 2026-01-01T00:00:00Z
constexpr char kUserAgent[] = "player/2.1";
constexpr char kViewerIp[] = "203.0.113.9";

class FixedRandom : public core::RandomSource {
 public:
  void Fill(absl::Span<uint8_t> out) override {
    for (uint8_t& b : out) b = next_++;
  }

 private:
  uint8_t next_ = 7;
};

struct Result {
  int code;
  std::string out;
  std::string err;
};

class TokenExplainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    keyring_ = Write(
        "keyring.json",
        nlohmann::json{
            {"keys",
             {{{"id", kKeyId}, {"value", kKeyValue}, {"state", "primary"}}}}}
            .dump());
    other_keyring_ =
        Write("other.json", nlohmann::json{{"keys",
                                            {{{"id", kOtherKeyId},
                                              {"value", std::string(128, 'b')},
                                              {"state", "primary"}}}}}
                                .dump());
    const std::string policy = Write(
        "policy.json",
        R"({"paths":["/v/1/"],"exp":"+1h","ip":true,"ssn":true,"headers":["user-agent"]})");
    const std::string viewer = Write(
        "viewer.json", nlohmann::json{{"ip", kViewerIp},
                                      {"headers", {{"user-agent", kUserAgent}}}}
                           .dump());
    Result r = Run({"token", "issue", "--keyring", keyring_, "--policy", policy,
                    "--viewer", viewer, "--now", std::to_string(kNow)});
    ASSERT_EQ(r.code, 0) << r.err;
    token_ = std::string(absl::StripSuffix(r.out, "\n"));
    session_ = token_.substr(0, token_.find('.'));
  }

  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = tmp_.path() + "/" + name;
    std::ofstream(path) << text;
    return path;
  }

  Result Run(const std::vector<std::string>& args) {
    std::ostringstream out, err;
    CliEnv env{.out = out,
               .err = err,
               .now = absl::FromUnixSeconds(kNow),
               .random = random_};
    const int code = RunCli(args, env);
    return {code, out.str(), err.str()};
  }

  // The request flags both commands take: IP, the user agent, the time.
  std::vector<std::string> Request(const std::string& ip,
                                   int64_t at = kNow + 60) const {
    return {"--ip",     ip,
            "--header", absl::StrCat("User-Agent=", kUserAgent),
            "--now",    std::to_string(at)};
  }

  Result Explain(const std::string& input, std::vector<std::string> extra,
                 const std::string& keyring = "") {
    std::vector<std::string> args = {"token", "explain", "--keyring",
                                     keyring.empty() ? keyring_ : keyring,
                                     input};
    args.insert(args.end(), extra.begin(), extra.end());
    return Run(args);
  }

  nlohmann::json ExplainJson(const std::string& input,
                             std::vector<std::string> extra, int want_code,
                             const std::string& keyring = "") {
    extra.push_back("--json");
    Result r = Explain(input, extra, keyring);
    EXPECT_EQ(r.code, want_code) << r.out << r.err;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
    nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
    EXPECT_TRUE(j.is_object()) << r.out;
    return j;
  }

  std::string Uri(const std::string& token) const {
    return "/" + token + "/v/1/index.m3u8";
  }

  ::edgepass::testing::TempDir tmp_;
  FixedRandom random_;
  std::string keyring_, other_keyring_, token_, session_;
};

TEST_F(TokenExplainTest, ValidTokenShowsHeaderClaimsTimesKeyAndAllows) {
  Result r = Explain(Uri(token_), Request(kViewerIp));
  EXPECT_EQ(r.code, kExitOk) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr(absl::StrCat(R"("kid":")", kKeyId, "\"")));
  EXPECT_THAT(r.out, HasSubstr(R"("paths":["/v/1/"])"));
  EXPECT_THAT(
      r.out,
      HasSubstr("2026-01-01T01:00:00Z  (in 59m)"));  // exp, 60 s after issue
  EXPECT_THAT(r.out, HasSubstr("2026-01-01T00:00:00Z  (1m ago)"));  // iat
  EXPECT_THAT(r.out, HasSubstr(absl::StrCat(kKeyId, "  known, state primary")));
  EXPECT_THAT(r.out, HasSubstr("ip (IPv4), ssn, header:user-agent"));
  EXPECT_THAT(r.out, HasSubstr(absl::StrCat("\"", kViewerIp, ":", session_, ":",
                                            kUserAgent, "\"")));
  EXPECT_THAT(r.out, HasSubstr("ALLOW  origin path /v/1/index.m3u8"));

  nlohmann::json j = ExplainJson(Uri(token_), Request(kViewerIp), kExitOk);
  EXPECT_EQ(j["token"]["session_id"], session_);
  EXPECT_EQ(j["token"]["header"]["alg"], "HS256");
  EXPECT_EQ(j["times"]["exp"]["epoch"], kNow + 3600);
  EXPECT_EQ(j["times"]["exp"]["utc"], "2026-01-01T01:00:00Z");
  EXPECT_EQ(j["key"]["known"], true);
  EXPECT_EQ(j["key"]["state"], "primary");
  EXPECT_EQ(j["bindings"]["request"]["viewer_attributes"],
            absl::StrCat(kViewerIp, ":", session_, ":", kUserAgent));
  EXPECT_EQ(j["bindings"]["request"]["intsig_matches"], true);
  EXPECT_EQ(j["decision"]["allow"], true);
  EXPECT_EQ(j["decision"]["reason"], "ok");
  EXPECT_EQ(j["decision"]["path"], "/v/1/index.m3u8");
}

TEST_F(TokenExplainTest, ExpiredTokenSaysSoInUtc) {
  Result r = Explain(Uri(token_), Request(kViewerIp, kNow + 7200));
  EXPECT_EQ(r.code, kExitDenied) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("2026-01-01T01:00:00Z  (1h ago)"));
  EXPECT_THAT(r.out, HasSubstr("DENY  expired"));
  EXPECT_THAT(
      r.out,
      HasSubstr(
          "not built: the request was refused before the viewer bindings"));
  nlohmann::json j =
      ExplainJson(Uri(token_), Request(kViewerIp, kNow + 7200), kExitDenied);
  EXPECT_EQ(j["decision"]["reason"], "expired");
  EXPECT_EQ(j["times"]["exp"]["from_now_seconds"], -3600);
  EXPECT_TRUE(j["bindings"]["request"]["viewer_attributes"].is_null());
}

TEST_F(TokenExplainTest, UnknownKidListsTheKeyringsKeys) {
  Result r = Explain(Uri(token_), Request(kViewerIp), other_keyring_);
  EXPECT_EQ(r.code, kExitDenied) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr(absl::StrCat(
                         kKeyId, "  NOT in the keyring; it has: ", kOtherKeyId,
                         " (primary)")));
  EXPECT_THAT(r.out, HasSubstr("DENY  unknown_kid"));
  nlohmann::json j =
      ExplainJson(Uri(token_), Request(kViewerIp), kExitDenied, other_keyring_);
  EXPECT_EQ(j["key"]["kid"], kKeyId);
  EXPECT_EQ(j["key"]["known"], false);
  EXPECT_TRUE(j["key"]["state"].is_null());
  EXPECT_EQ(j["decision"]["reason"], "unknown_kid");
}

TEST_F(TokenExplainTest, BindingMismatchShowsBothStringsSideBySide) {
  const std::vector<std::string> moved = Request("198.51.100.7");
  // Without the expected values: the request's string and what is missing.
  Result r = Explain(Uri(token_), moved);
  EXPECT_EQ(r.code, kExitDenied) << r.out;
  EXPECT_THAT(r.out, HasSubstr("DENY  binding_mismatch"));
  EXPECT_THAT(r.out, HasSubstr(absl::StrCat("\"198.51.100.7:", session_, ":",
                                            kUserAgent, "\"")));
  EXPECT_THAT(r.out, HasSubstr("only its HMAC (intsig) is in the token"));

  std::vector<std::string> with_expected = moved;
  with_expected.insert(with_expected.end(), {"--expected-ip", kViewerIp});
  r = Explain(Uri(token_), with_expected);
  EXPECT_EQ(r.code, kExitDenied) << r.out;
  const std::string got =
      absl::StrCat("\"198.51.100.7:", session_, ":", kUserAgent, "\"");
  const std::string want =
      absl::StrCat("\"", kViewerIp, ":", session_, ":", kUserAgent, "\"");
  // One line holds both strings, left the request's, right the bound one.
  bool side_by_side = false;
  for (absl::string_view line : absl::StrSplit(r.out, '\n')) {
    if (absl::StrContains(line, got) && absl::StrContains(line, want) &&
        line.find(got) < line.find(want)) {
      side_by_side = true;
    }
  }
  EXPECT_TRUE(side_by_side) << r.out;
  EXPECT_THAT(r.out, HasSubstr("198.51.100.7"));
  EXPECT_THAT(r.out, HasSubstr("<- differs"));
  EXPECT_THAT(
      r.out,
      HasSubstr(
          "expected: matches (the token was bound to the expected string)"));

  with_expected.push_back("--json");
  nlohmann::json j = ExplainJson(Uri(token_), with_expected, kExitDenied);
  EXPECT_EQ(j["decision"]["reason"], "binding_mismatch");
  EXPECT_EQ(j["bindings"]["request"]["viewer_attributes"],
            got.substr(1, got.size() - 2));
  EXPECT_EQ(j["bindings"]["request"]["intsig_matches"], false);
  EXPECT_EQ(j["bindings"]["expected"]["viewer_attributes"],
            want.substr(1, want.size() - 2));
  EXPECT_EQ(j["bindings"]["expected"]["intsig_matches"], true);
  EXPECT_EQ(j["bindings"]["bound"],
            nlohmann::json({"ip (IPv4)", "ssn", "header:user-agent"}));

  // A wrong guess is reported as such, not as the bound string.
  std::vector<std::string> wrong_guess = moved;
  wrong_guess.insert(wrong_guess.end(), {"--expected-ip", "192.0.2.1",
                                         "--expected-header", "user-agent=x"});
  r = Explain(Uri(token_), wrong_guess);
  EXPECT_THAT(r.out, HasSubstr("does not match either"));
}

TEST_F(TokenExplainTest, TamperedTokenIsBadSignatureButStillDecoded) {
  // Another payload with the original signature: exp pushed a day later.
  const size_t p1 = token_.find('.', token_.find('.') + 1);
  const size_t p2 = token_.find('.', p1 + 1);
  nlohmann::json claims = nlohmann::json::parse([&] {
    std::string bytes;
    EXPECT_TRUE(
        core::Base64UrlDecode(token_.substr(p1 + 1, p2 - p1 - 1), &bytes));
    return bytes;
  }());
  claims["exp"] = kNow + 86400;
  const std::string tampered =
      absl::StrCat(token_.substr(0, p1 + 1),
                   core::Base64UrlEncode(claims.dump()), token_.substr(p2));
  Result r = Explain(Uri(tampered), Request(kViewerIp));
  EXPECT_EQ(r.code, kExitDenied) << r.out;
  EXPECT_THAT(r.out, HasSubstr("DENY  bad_signature"));
  EXPECT_THAT(r.out,
              HasSubstr("2026-01-02T00:00:00Z"));  // the forged exp, decoded
}

TEST_F(TokenExplainTest, AcceptsUrlPathOrBareToken) {
  const std::string url =
      absl::StrCat("https://cdn.example.com", Uri(token_), "?cid=7#t=3");
  nlohmann::json j = ExplainJson(url, Request(kViewerIp), kExitOk);
  EXPECT_EQ(j["input"]["kind"], "url");
  EXPECT_EQ(j["input"]["origin_path"], "/v/1/index.m3u8");
  EXPECT_EQ(j["input"]["query"], nlohmann::json::array({{"cid", "7"}}));

  j = ExplainJson(token_, Request(kViewerIp), kExitOk);
  EXPECT_EQ(j["input"]["kind"], "token");
  EXPECT_EQ(j["input"]["origin_path"], "/v/1/");
  EXPECT_EQ(j["input"]["origin_path_assumed"], true);

  std::vector<std::string> elsewhere = Request(kViewerIp);
  elsewhere.insert(elsewhere.end(), {"--path", "/v/2/index.m3u8"});
  j = ExplainJson(token_, elsewhere, kExitDenied);
  EXPECT_EQ(j["decision"]["reason"], "path_not_allowed");

  // --uri, as token verify takes it.
  std::vector<std::string> args = {"token",  "explain", "--keyring",
                                   keyring_, "--uri",   Uri(token_)};
  for (const std::string& a : Request(kViewerIp)) args.push_back(a);
  EXPECT_EQ(Run(args).code, kExitOk);
}

// For the same request both commands give the same exit code and decision.
TEST_F(TokenExplainTest, ExitCodesAndDecisionEqualTokenVerify) {
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
      {Uri(token_), Request(kViewerIp)},
      {Uri(token_), Request(kViewerIp, kNow + 7200)},
      {Uri(token_), Request("198.51.100.7")},
      {Uri(token_), Request("2001:db8::1")},
      {Uri(token_), {"--now", std::to_string(kNow)}},
      {"/" + token_.substr(session_.size() + 1) + "/v/1/a.ts",
       Request(kViewerIp)},
      {"/" + token_ + "/v/1/../2/a.ts", Request(kViewerIp)},
      {"/" + token_ + "x/v/1/a.ts", Request(kViewerIp)},
      {"/nothing-here/v/1/a.ts", Request(kViewerIp)},
      {"/a.b.c.d.e/v/1/a.ts", Request(kViewerIp)},
      {"", Request(kViewerIp)},
      {"/", Request(kViewerIp)},
      {"/" + token_ + "/v/1/a.ts?x=1", Request(kViewerIp)},
  };
  for (const auto& [uri, request] : cases) {
    for (const std::string& keyring : {keyring_, other_keyring_}) {
      std::vector<std::string> verify = {"token", "verify", "--keyring",
                                         keyring, "--uri",  uri};
      verify.insert(verify.end(), request.begin(), request.end());
      std::vector<std::string> explain = {"token", "explain", "--keyring",
                                          keyring, "--json",  uri};
      explain.insert(explain.end(), request.begin(), request.end());
      const Result v = Run(verify);
      const Result e = Run(explain);
      EXPECT_EQ(e.code, v.code) << uri << "\n" << v.out << e.out << e.err;
      const nlohmann::json vj = nlohmann::json::parse(v.out, nullptr, false);
      const nlohmann::json ej = nlohmann::json::parse(e.out, nullptr, false);
      ASSERT_TRUE(vj.is_object() && ej.is_object()) << v.out << e.out;
      for (const char* field : {"allow", "path", "session_id", "reason"}) {
        EXPECT_EQ(ej["decision"][field], vj[field]) << uri << " " << field;
      }
    }
  }
}

TEST_F(TokenExplainTest, UsageErrorsExitTwoNamingTheProblem) {
  Result r = Run({"token", "explain", Uri(token_)});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_THAT(r.err, HasSubstr("missing required flag --keyring"));
  r = Run({"token", "explain", "--keyring", keyring_});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_THAT(r.err, HasSubstr("missing the token, path or URL"));
  r = Run({"token", "explain", "--keyring", keyring_, "a", "b"});
  EXPECT_EQ(r.code, kExitUsage);
  r = Run(
      {"token", "explain", "--keyring", keyring_, token_, "--path", "v/1/"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_THAT(r.err, HasSubstr("--path 'v/1/': must start with '/'"));
  r = Run(
      {"token", "explain", "--keyring", keyring_, "https://cdn.example.com"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_THAT(r.err, HasSubstr("the URL has no path"));
  r = Run({"token", "explain", "--keyring", keyring_,
           std::string(kMaxExplainInputBytes + 1, 'a')});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_THAT(r.err, HasSubstr("longer than 16384 bytes"));
  r = Run({"token", "explain", "--keyring", keyring_, Uri(token_),
           "--expected-header", "nameonly"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_THAT(r.err, HasSubstr("--expected-header"));
  r = Run({"token", "explain", "--help"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_THAT(r.out, HasSubstr("edgepass token explain --keyring FILE"));
}

TEST(ReasonHint, EveryDenyReasonHasOne) {
  for (size_t i = 1; i < core::kReasonCount; ++i) {
    const absl::string_view name =
        core::ReasonName(static_cast<core::Reason>(i));
    EXPECT_FALSE(ReasonHint(name).empty()) << name;
  }
  EXPECT_TRUE(ReasonHint("ok").empty());
}

TEST_F(TokenExplainTest, GarbageIsReportedNotCrashed) {
  const std::string b64_array = core::Base64UrlEncode(std::string(3000, '['));
  for (const std::string& input :
       {std::string("x"), std::string("/"), std::string("//"),
        std::string("/a.b.c/"), std::string("/....../x"),
        absl::StrCat("/", b64_array, ".", b64_array, ".x/v/1/"),
        absl::StrCat(
            "/e30.",
            core::Base64UrlEncode(R"({"exp":1e400,"iat":-5,"nbf":"x"})"),
            ".x/v/"),
        absl::StrCat("/", core::Base64UrlEncode(R"({"alg":"HS256","kid":7})"),
                     ".e30.x/v/"),
        std::string("https://h/?"), std::string("http://h/%zz%00\xff/x"),
        absl::StrCat("/", std::string(5000, 'a'), "/x")}) {
    Result r = Explain(input, {});
    EXPECT_TRUE(r.code == kExitDenied || r.code == kExitUsage)
        << input << r.out << r.err;
    r = Explain(input, {"--json"});
    if (r.code == kExitDenied) {
      EXPECT_TRUE(nlohmann::json::parse(r.out, nullptr, false).is_object())
          << r.out;
    }
  }
}

}  // namespace
}  // namespace edgepass::cli
