#include "aws/web_identity.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "aws/aws_error.h"

namespace edgepass::aws {
namespace {

absl::StatusOr<std::string> ReadToken(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::FailedPreconditionError(
        absl::StrCat("web identity token file ", path, ": ", std::strerror(errno)));
  }
  std::string text(kMaxWebIdentityTokenBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  if (text.size() > kMaxWebIdentityTokenBytes) {
    return absl::FailedPreconditionError(absl::StrCat(
        "web identity token file ", path, ": larger than ", kMaxWebIdentityTokenBytes, " bytes"));
  }
  std::string token(absl::StripAsciiWhitespace(text));
  if (token.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("web identity token file ", path, ": empty"));
  }
  return token;
}

}  // namespace

absl::StatusOr<Credentials> ParseAssumeRoleWithWebIdentityResponse(absl::string_view xml,
                                                                   int http_status) {
  if (http_status < 200 || http_status > 299) {
    HttpResponse r;
    r.status = http_status;
    r.body = std::string(xml);
    AwsError e = ParseAwsError(r);
    if (e.code == "IDPCommunicationError") return absl::UnavailableError(e.message);
    if (e.code == "AccessDenied") e.code = "InvalidIdentityToken";  // not a permission we lack
    return AwsErrorStatus("sts.AssumeRoleWithWebIdentity", e);
  }
  std::optional<std::string> block = XmlElementText(xml, "Credentials");
  if (!block) {
    return absl::InvalidArgumentError("sts.AssumeRoleWithWebIdentity: reply has no <Credentials>");
  }
  Credentials c;
  struct Field {
    const char* name;
    std::string* out;
  };
  std::string expiration;
  for (Field f : {Field{"AccessKeyId", &c.access_key_id},
                  Field{"SecretAccessKey", &c.secret_access_key},
                  Field{"SessionToken", &c.session_token}, Field{"Expiration", &expiration}}) {
    std::optional<std::string> v = XmlElementText(*block, f.name);
    if (!v || v->empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("sts.AssumeRoleWithWebIdentity: reply has no Credentials.", f.name));
    }
    *f.out = std::move(*v);
  }
  std::string err;
  if (!absl::ParseTime(absl::RFC3339_full, expiration, &c.expiration, &err)) {
    return absl::InvalidArgumentError(
        "sts.AssumeRoleWithWebIdentity: Credentials.Expiration is not an RFC 3339 time");
  }
  return c;
}

WebIdentityCredentialsProvider::WebIdentityCredentialsProvider(WebIdentityConfig config,
                                                               const HttpClient* http,
                                                               Endpoint sts,
                                                               std::function<absl::Time()> now)
    : config_(std::move(config)), http_(http), sts_(std::move(sts)), now_(std::move(now)) {}

int WebIdentityCredentialsProvider::exchanges() const {
  absl::MutexLock lock(&mu_);
  return exchanges_;
}

absl::StatusOr<Credentials> WebIdentityCredentialsProvider::Get() {
  absl::MutexLock lock(&mu_);  // one exchange at a time; others wait for its result
  absl::Time now = now_();
  if (have_ && now < cached_.expiration - kCredentialsRefreshWindow) return cached_;
  absl::StatusOr<Credentials> fresh = Exchange(now);
  if (fresh.ok()) {
    cached_ = *fresh;
    have_ = true;
    ++exchanges_;
    return cached_;
  }
  if (have_ && now < cached_.expiration) return cached_;  // still valid: retry next time
  return fresh.status();
}

absl::StatusOr<Credentials> WebIdentityCredentialsProvider::Exchange(absl::Time now) {
  absl::StatusOr<std::string> token = ReadToken(config_.token_file);
  if (!token.ok()) return token.status();
  std::string session = config_.session_name.empty()
                            ? absl::StrCat("edgepass-", absl::ToUnixSeconds(now))
                            : config_.session_name;
  HttpRequest request;
  request.method = "POST";
  request.path = "/";
  request.headers = {{"Host", sts_.HostHeader()},
                     {"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}};
  request.body = absl::StrCat(
      "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=",
      UriEncode(config_.role_arn, false), "&RoleSessionName=", UriEncode(session, false),
      "&DurationSeconds=", config_.duration_seconds,
      "&WebIdentityToken=", UriEncode(*token, false));
  absl::StatusOr<HttpResponse> response = http_->Send(sts_, request);
  if (!response.ok()) return response.status();
  return ParseAssumeRoleWithWebIdentityResponse(response->body, response->status);
}

}  // namespace edgepass::aws
