#include <string>

#include "absl/strings/str_cat.h"
#include "client/analyze/json_log_parser.h"
#include "client/analyze/w3c_parser.h"
#include "gtest/gtest.h"

namespace edgepass::analyze {
namespace {

// A current (33-field) CloudFront line.
std::string CloudFrontLine(absl::string_view time, absl::string_view ip, absl::string_view uri,
                           absl::string_view status = "200", absl::string_view bytes = "500000",
                           absl::string_view referer = "-",
                           absl::string_view ua = "Mozilla/5.0%20(X11;%20Linux)") {
  return absl::StrCat("2026-12-06\t", time, "\tFRA56-P1\t", bytes, "\t", ip, "\tGET\td1.cloudfront.net\t", uri,
                      "\t", status, "\t", referer, "\t", ua,
                      "\t-\t-\tHit\tabc==\td1.example.com\thttps\t300\t0.010\t-\tTLSv1.3\tTLS_AES_128_GCM_SHA256"
                      "\tHit\tHTTP/2.0\t-\t-\t54321\t0.005\tHit\tvideo/MP2T\t500000\t-\t-");
}

TEST(W3cParser, MapsColumnsByFieldsLine) {
  W3cParser parser;
  LogRecord r;
  EXPECT_EQ(parser.Parse("#Version: 1.0", &r), LineError::kHeader);
  EXPECT_EQ(parser.Parse(absl::StrCat("#Fields: ", kCloudFrontFields), &r), LineError::kHeader);
  ASSERT_EQ(parser.Parse(CloudFrontLine("07:40:25", "192.0.2.1", "/s1.a.b.c/v/seg%201.ts", "206", "2048",
                                        "https://example.com/p%3Fq"),
                         &r),
            LineError::kNone);
  EXPECT_EQ(r.time_ms, (20793LL * 86400 + 7 * 3600 + 40 * 60 + 25) * 1000);
  EXPECT_EQ(r.status, 206);
  EXPECT_EQ(r.bytes, 2048u);
  EXPECT_EQ(r.client_ip, "192.0.2.1");
  EXPECT_EQ(r.uri, "/s1.a.b.c/v/seg 1.ts");
  EXPECT_EQ(r.referer, "https://example.com/p?q");
  EXPECT_EQ(r.user_agent, "Mozilla/5.0 (X11; Linux)");
  EXPECT_TRUE(r.session_id.empty());
}

TEST(W3cParser, OlderFilesWithFewerFieldsAndOtherOrder) {
  W3cParser parser;
  LogRecord r;
  parser.Parse("#Fields: time date c-ip sc-status sc-bytes cs-uri-stem", &r);
  ASSERT_EQ(parser.Parse("01:02:03\t2026-12-06\t198.51.100.7\t200\t5000\t/x.a.b.c/1.ts", &r), LineError::kNone);
  EXPECT_EQ(r.client_ip, "198.51.100.7");
  EXPECT_EQ(r.uri, "/x.a.b.c/1.ts");
  EXPECT_TRUE(r.referer.empty());
  EXPECT_TRUE(r.user_agent.empty());
}

TEST(W3cParser, CountsBadLinesByReason) {
  W3cParser parser;
  LogRecord r;
  EXPECT_EQ(parser.Parse(CloudFrontLine("07:40:25", "192.0.2.1", "/a"), &r), LineError::kNoFieldsHeader);
  parser.SetFields(kCloudFrontFields);
  EXPECT_EQ(parser.Parse("2026-12-06\t07:40:25\tonly three", &r), LineError::kWrongColumnCount);
  EXPECT_EQ(parser.Parse(CloudFrontLine("07:40:25", "192.0.2.1", "/a") + "\textra", &r),
            LineError::kWrongColumnCount);
  const std::string line = CloudFrontLine("07:40:25", "192.0.2.1", "/a");
  EXPECT_EQ(parser.Parse(line.substr(0, line.rfind('\t')), &r), LineError::kWrongColumnCount);
  EXPECT_EQ(parser.Parse(line + "\t\t\t\t\t\t\t\t\t", &r), LineError::kWrongColumnCount);
  EXPECT_EQ(parser.Parse(line, &r), LineError::kNone);
  EXPECT_EQ(parser.Parse(CloudFrontLine("7:40", "192.0.2.1", "/a"), &r), LineError::kBadValue);
  EXPECT_EQ(parser.Parse(CloudFrontLine("07:40:25", "192.0.2.1", "/a", "2x0"), &r), LineError::kBadValue);
  EXPECT_EQ(parser.Parse(CloudFrontLine("07:40:25", "192.0.2.1", "/a", "200", "-"), &r), LineError::kBadValue);
  EXPECT_EQ(parser.Parse(CloudFrontLine("07:40:25", "192.0.2.\xff", "/a"), &r), LineError::kNonUtf8);
  EXPECT_EQ(parser.Parse(std::string(kMaxLineBytes + 1, 'x'), &r), LineError::kTooLong);
  parser.SetFields("date time c-ip sc-status");
  EXPECT_EQ(parser.Parse("2026-12-06\t07:40:25\t192.0.2.1\t200", &r), LineError::kMissingField);
  // Still usable after all that.
  parser.SetFields(kCloudFrontFields);
  EXPECT_EQ(parser.Parse(CloudFrontLine("07:40:25", "192.0.2.1", "/a") + "\r", &r), LineError::kNone);
}

TEST(JsonLogParser, ReadsCloudFrontV2Json) {
  JsonLogParser parser;
  LogRecord r;
  ASSERT_EQ(parser.Parse(R"j({"date":"2026-12-06","time":"07:40:25","c-ip":"192.0.2.1",)j"
                         R"j("cs-uri-stem":"/s1.a.b.c/seg%201.ts","sc-status":"200","sc-bytes":"4096",)j"
                         R"j("cs(Referer)":"-","cs(User-Agent)":"curl/8.0%20x","x-edge-location":"FRA56"})j",
                         &r),
            LineError::kNone);
  EXPECT_EQ(r.time_ms, (20793LL * 86400 + 7 * 3600 + 40 * 60 + 25) * 1000);
  EXPECT_EQ(r.uri, "/s1.a.b.c/seg 1.ts");
  EXPECT_EQ(r.referer, "");
  EXPECT_EQ(r.user_agent, "curl/8.0 x");
  EXPECT_EQ(r.bytes, 4096u);
  ASSERT_EQ(parser.Parse(R"j({"timestamp(ms)":1767225600123,"c-ip":"192.0.2.1","cs-uri-stem":"/a",)j"
                         R"j("sc-status":206,"sc-bytes":4096})j",
                         &r),
            LineError::kNone);
  EXPECT_EQ(r.time_ms, 1767225600123);
  EXPECT_EQ(r.status, 206);
}

TEST(JsonLogParser, ReadsNginxFormatWithSessionId) {
  JsonLogParser parser;
  LogRecord r;
  ASSERT_EQ(parser.Parse(R"j({"msec":"1767225600.250","client_ip":"203.0.113.9","uri":"/tok/v/seg%201.ts",)j"
                         R"j("status":"206","bytes":"70000","referer":"","user_agent":"hls.js",)j"
                         R"j("session_id":"sess-1"})j",
                         &r),
            LineError::kNone);
  EXPECT_EQ(r.time_ms, 1767225600250);
  EXPECT_EQ(r.uri, "/tok/v/seg%201.ts");  // nginx's $uri is already decoded: kept as is
  EXPECT_EQ(r.session_id, "sess-1");
  EXPECT_EQ(r.user_agent, "hls.js");
}

TEST(JsonLogParser, CountsBadLinesByReason) {
  JsonLogParser parser;
  LogRecord r;
  EXPECT_EQ(parser.Parse("", &r), LineError::kHeader);
  EXPECT_EQ(parser.Parse("{not json", &r), LineError::kMalformed);
  EXPECT_EQ(parser.Parse("[1,2]", &r), LineError::kMalformed);
  EXPECT_EQ(parser.Parse(R"j({"msec":"1","client_ip":"a","status":200,"bytes":1})j", &r),
            LineError::kMissingField);
  EXPECT_EQ(parser.Parse(R"j({"client_ip":"a","uri":"/","status":200,"bytes":1})j", &r),
            LineError::kMissingField);
  EXPECT_EQ(parser.Parse(R"j({"msec":"x","client_ip":"a","uri":"/","status":200,"bytes":1})j", &r),
            LineError::kBadValue);
  EXPECT_EQ(parser.Parse(R"j({"msec":"1","client_ip":"a","uri":"/","status":-1,"bytes":1})j", &r),
            LineError::kBadValue);
  EXPECT_EQ(parser.Parse(R"j({"msec":"1","client_ip":["a"],"uri":"/","status":200,"bytes":1})j", &r),
            LineError::kBadValue);
  EXPECT_EQ(parser.Parse("{\"msec\":\"1\",\"client_ip\":\"\xff\"}", &r), LineError::kNonUtf8);
}

}  // namespace
}  // namespace edgepass::analyze
