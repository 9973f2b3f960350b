#include "client/validator/cloudfront_check.h"

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "core/cloudfront_cookie.h"
#include "core/cloudfront_url.h"
#include "core/validator.h"

namespace edgepass::client {
namespace {

bool AnyUrlParam(const core::CloudFrontUrlParams& p) {
  return p.expires || p.policy || p.signature || p.key_pair_id || p.hash_algorithm;
}

bool AnyCookie(const core::CloudFrontCookieJar& j) {
  return j.policy || j.expires || j.signature || j.key_pair_id || j.hash_algorithm;
}

}  // namespace

CloudFrontCheck CheckCloudFrontRequest(const CloudFrontEdgeRequest& request,
                                       const core::CloudFrontPublicKeys& keys, absl::Time now,
                                       bool verify) {
  CloudFrontCheck out;
  out.decision = {.allow = false, .reason = core::CloudFrontReason::kOk};
  const std::string url = absl::StrCat(request.url_base, request.uri);
  const absl::StatusOr<core::CloudFrontUrlParams> split = core::SplitCloudFrontUrl(url);
  out.origin = split.ok() ? split->unsigned_url.substr(request.url_base.size())
                          : std::string(request.path);
  if (!verify) return out;
  const absl::StatusOr<core::CloudFrontCookieJar> jar =
      core::ParseCloudFrontCookies(request.cookie_header);
  if (split.ok() && !AnyUrlParam(*split) && jar.ok() && !AnyCookie(*jar)) return out;
  out.decision = core::VerifyCloudFrontRequest(
      {.url = url, .cookie_header = request.cookie_header, .client_ip = request.client_ip}, keys,
      now);
  return out;
}

absl::StatusOr<std::string> CloudFrontUrlBase(absl::string_view url_base) {
  absl::string_view base = url_base;
  absl::ConsumeSuffix(&base, "/");
  absl::string_view host = base;
  if (!absl::ConsumePrefix(&host, "https://") && !absl::ConsumePrefix(&host, "http://")) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cloudfront-url-base: '", url_base,
        "' must be https://HOST[:PORT] (or http://), e.g. https://cdn.example.com"));
  }
  if (host.empty() || host.find_first_of("/?#@") != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("cloudfront-url-base: '", url_base,
                     "' must hold a scheme and host only, no path or query"));
  }
  if (absl::Status s = core::ValidateCloudFrontUrl(absl::StrCat(base, "/"), "cloudfront-url-base");
      !s.ok()) {
    return s;
  }
  return std::string(base);
}

absl::string_view CloudFrontRefusalName(core::CloudFrontReason reason) {
  return reason == core::CloudFrontReason::kOk ? kCloudFrontMissingSignature
                                               : core::CloudFrontReasonName(reason);
}

bool CloudFrontCovers(const std::vector<std::string>& prefixes, absl::string_view path) {
  for (const std::string& prefix : prefixes) {
    if (core::PathPrefixMatches(prefix, path)) return true;
  }
  return false;
}

}  // namespace edgepass::client
