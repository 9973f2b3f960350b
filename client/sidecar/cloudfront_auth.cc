#include "client/sidecar/cloudfront_auth.h"

#include <optional>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "client/sidecar/cloudfront_keys_file.h"
#include "client/validator/cloudfront_check.h"
#include "core/cloudfront_url.h"
#include "text/json_string.h"

namespace edgepass::sidecar {
namespace {

http::Response Allowed(absl::string_view origin) {
  return AllowedResponse(origin, {});
}

http::Response Denied(core::CloudFrontReason reason) {
  http::Response r;
  r.status = reason == core::CloudFrontReason::kOk ? 401 : 403;
  r.headers.Add(std::string(kReasonHeader),
                std::string(CloudFrontDenialName(reason)));
  return r;
}

http::Response WouldDeny(absl::string_view origin,
                         core::CloudFrontReason reason) {
  http::Response r = Allowed(origin);
  r.headers.Add(std::string(kWouldDenyHeader),
                std::string(CloudFrontDenialName(reason)));
  return r;
}

}  // namespace

absl::StatusOr<CloudFrontAuth> CloudFrontAuth::Create(
    core::CloudFrontPublicKeys keys, absl::string_view url_base,
    std::vector<std::string> prefixes) {
  if (keys.size() == 0) {
    return absl::InvalidArgumentError("cloudfront-public-keys: no keys");
  }
  absl::StatusOr<std::string> base = client::CloudFrontUrlBase(url_base);
  if (!base.ok()) return base.status();
  if (prefixes.empty()) {
    return absl::InvalidArgumentError("cloudfront-route: no prefix given");
  }
  std::vector<RouteMode> as_routes;
  for (const std::string& p : prefixes) {
    as_routes.emplace_back(p, EnforcementMode::kEnforce);
  }
  if (absl::StatusOr<RouteModes> checked = RouteModes::Create(as_routes);
      !checked.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("cloudfront-route: ", checked.status().message()));
  }
  CloudFrontAuth auth;
  auth.keys_ = std::move(keys);
  auth.url_base_ = *std::move(base);
  auth.prefixes_ = std::move(prefixes);
  return auth;
}

bool CloudFrontAuth::Covers(absl::string_view path) const {
  return client::CloudFrontCovers(prefixes_, path);
}

http::Response CloudFrontAuth::Handle(
    const AuthSubrequest& sub, const http::Request& request,
    EnforcementMode mode, absl::Time now, SidecarStats* stats,
    const std::function<void(absl::string_view)>& log) const {
  // AuthSubrequest::Parse checked the header is there.
  const std::string* uri = request.headers.Find(kOriginalUriHeader);
  const std::string* cookie_header = request.headers.Find("Cookie");
  // The check the nginx module makes too (client/validator/cloudfront_check.h).
  const client::CloudFrontCheck check = client::CheckCloudFrontRequest(
      {.url_base = url_base_,
       .uri = uri ? absl::string_view(*uri) : absl::string_view(),
       .path = sub.path(),
       .cookie_header = cookie_header ? absl::string_view(*cookie_header) : absl::string_view(),
       .client_ip = sub.client_ip()},
      keys_, now, /*verify=*/mode != EnforcementMode::kOff);
  const absl::string_view origin = check.origin;
  if (mode == EnforcementMode::kOff) {
    stats->RecordUnchecked();
    return Allowed(origin);
  }
  const core::CloudFrontDecision& decision = check.decision;
  if (decision.allow) {
    stats->RecordCloudFrontAllowed();
    return Allowed(origin);
  }
  if (mode == EnforcementMode::kLogOnly) {
    stats->RecordCloudFrontWouldDeny(decision.reason);
    if (log) {
      log(absl::StrCat(
          "{\"event\":\"would_deny\",\"mode\":\"log-only\",\"scheme\":"
          "\"cloudfront\",\"reason\":\"",
          CloudFrontDenialName(decision.reason),
          "\",\"path\":", text::JsonString(sub.path()),
          ",\"client_ip\":", text::JsonString(sub.client_ip()), "}"));
    }
    return WouldDeny(origin, decision.reason);
  }
  stats->RecordCloudFrontDenied(decision.reason);
  return Denied(decision.reason);
}

absl::StatusOr<std::unique_ptr<CloudFrontAuth>> CloudFrontAuthFromOptions(
    const SidecarOptions& options) {
  if (options.cloudfront_routes.empty() &&
      options.cloudfront_public_keys_file.empty()) {
    return nullptr;
  }
  absl::StatusOr<core::CloudFrontPublicKeys> keys =
      LoadCloudFrontPublicKeysFile(options.cloudfront_public_keys_file);
  if (!keys.ok()) {
    return absl::Status(
        keys.status().code(),
        absl::StrCat("--cloudfront-public-keys: ", keys.status().message()));
  }
  absl::StatusOr<CloudFrontAuth> auth =
      CloudFrontAuth::Create(*std::move(keys), options.cloudfront_url_base,
                             options.cloudfront_routes);
  if (!auth.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", auth.status().message()));
  }
  return std::make_unique<CloudFrontAuth>(*std::move(auth));
}

}  // namespace edgepass::sidecar
