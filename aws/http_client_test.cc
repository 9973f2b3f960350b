#include "aws/http_client.h"

#include "absl/strings/match.h"
#include "aws/aws_error.h"
#include "gtest/gtest.h"

namespace edgepass::aws {
namespace {

TEST(ParseEndpoint, HttpsAnywhereHttpOnlyOnLoopback) {
  auto a = ParseEndpoint("https://secretsmanager.eu-west-1.amazonaws.com");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->HostHeader(), "secretsmanager.eu-west-1.amazonaws.com");
  auto b = ParseEndpoint("http://127.0.0.1:4566/");
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->HostHeader(), "127.0.0.1:4566");
  EXPECT_EQ(b->BaseUrl(), "http://127.0.0.1:4566");
  auto v6 = ParseEndpoint("http://[::1]:8080");
  ASSERT_TRUE(v6.ok()) << v6.status();
  EXPECT_EQ(v6->HostHeader(), "[::1]:8080");
  EXPECT_EQ(ParseEndpoint("https://h:443")->HostHeader(), "h");

  auto plain = ParseEndpoint("http://secretsmanager.example.com", "--aws-endpoint");
  EXPECT_EQ(plain.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(plain.status().message(), "--aws-endpoint"));
  EXPECT_TRUE(absl::StrContains(plain.status().message(), "loopback"));
  EXPECT_FALSE(ParseEndpoint("http://127.0.0.1.evil.com").ok());
  EXPECT_FALSE(ParseEndpoint("ftp://h").ok());
  EXPECT_FALSE(ParseEndpoint("https://h/path").ok());
  EXPECT_FALSE(ParseEndpoint("https://user@h").ok());
  EXPECT_FALSE(ParseEndpoint("https://h:0").ok());
  EXPECT_FALSE(ParseEndpoint("https://h:99999").ok());
  EXPECT_FALSE(ParseEndpoint("https://").ok());
}

TEST(HttpClient, RefusedConnectionIsUnavailable) {
  HttpClient http({.connect_timeout = absl::Seconds(1), .timeout = absl::Seconds(2)});
  HttpRequest r{.method = "GET", .path = "/", .headers = {{"Host", "127.0.0.1:9"}}};
  auto response = http.Send(Endpoint{.scheme = "http", .host = "127.0.0.1", .port = 9}, r);
  EXPECT_EQ(response.status().code(), absl::StatusCode::kUnavailable);
}

HttpResponse Reply(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

TEST(AwsError, JsonXmlAndHeaderForms) {
  AwsError j = ParseAwsError(Reply(
      400, R"({"__type":"com.amazonaws.secretsmanager#ResourceNotFoundException","message":"no"})"));
  EXPECT_EQ(j.code, "ResourceNotFoundException");
  EXPECT_EQ(AwsErrorStatus("secretsmanager.GetSecretValue", j).code(), absl::StatusCode::kNotFound);
  AwsError x = ParseAwsError(Reply(
      403, "<ErrorResponse><Error><Code>SignatureDoesNotMatch</Code><Message>m</Message></Error></ErrorResponse>"));
  EXPECT_EQ(x.code, "SignatureDoesNotMatch");
  absl::Status s = AwsErrorStatus("secretsmanager.GetSecretValue", x);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(s.message(), "secretsmanager.GetSecretValue: HTTP 403 SignatureDoesNotMatch: m");
  HttpResponse h = Reply(400, "");
  h.headers.emplace_back("x-amzn-ErrorType", "ThrottlingException:http://internal");
  AwsError t = ParseAwsError(h);
  EXPECT_EQ(t.code, "ThrottlingException");
  EXPECT_TRUE(IsRetryable(t));
  EXPECT_EQ(AwsErrorStatus("op", t).code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(IsRetryable(ParseAwsError(Reply(503, "busy"))));
  EXPECT_TRUE(IsRetryable(ParseAwsError(Reply(429, ""))));
  EXPECT_FALSE(IsRetryable(j));
  EXPECT_EQ(AwsErrorStatus("op", ParseAwsError(Reply(400, R"({"__type":"AccessDeniedException"})"))).code(),
            absl::StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace edgepass::aws
