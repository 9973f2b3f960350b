#include "server/app/playback_issuer.h"

#include <chrono>
#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/cloudfront_cookie.h"
#include "core/cloudfront_policy.h"
#include "core/cloudfront_signer.h"
#include "core/status_macros.h"
#include "core/token_issuer.h"
#include "core/url_query.h"
#include "server/app/server_metrics.h"

namespace edgepass::server {
namespace {

constexpr absl::string_view kNoSuchKey = "cloudfront_key_pair_id: no such key in the secrets store";

// Measures one issue call and records it (when metrics are on).
class IssueRecorder {
 public:
  explicit IssueRecorder(ServerMetrics* metrics)
      : metrics_(metrics),
        start_(metrics != nullptr ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point()) {}
  void Record(absl::string_view asset, absl::string_view scheme, const absl::Status& outcome) {
    if (metrics_ == nullptr) return;
    metrics_->RecordTokenIssue(asset, scheme, outcome, absl::FromChrono(std::chrono::steady_clock::now() - start_));
  }

 private:
  ServerMetrics* const metrics_;
  const std::chrono::steady_clock::time_point start_;
};

// core names CloudFront policy fields ("policy.expires: ..."); the caller
// knows them as the token policy's and the viewer's.
absl::Status AsPolicyField(const absl::Status& status) {
  static constexpr std::pair<absl::string_view, absl::string_view> kFields[] = {
      {"policy.expires:", "token_policy.exp:"},
      {"policy.not_before:", "token_policy.nbf:"},
      {"policy.ip_range:", "viewer.ip:"},
      {"policy.resource:", "url_path:"},
      {"url:", "url_path:"}};
  for (const auto& [core_name, api_name] : kFields) {
    if (absl::StartsWith(status.message(), core_name)) {
      return absl::Status(status.code(), absl::StrCat(api_name, status.message().substr(core_name.size())));
    }
  }
  return status;
}

// INVALID_ARGUMENT "<field>: ..." when a token issued at `now` under `policy`
// would live longer than `max`.
absl::Status CheckLifetime(const core::TokenPolicy& policy, absl::Time now, absl::Duration max,
                           absl::string_view field) {
  const absl::Duration lifetime = policy.exp.relative ? policy.exp.after : policy.exp.at - now;
  if (lifetime <= max) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", policy.exp.text, " is more than the server's ",
                                                 absl::FormatDuration(max), " maximum token lifetime"));
}

absl::Status CheckLength(absl::string_view field, absl::string_view value, size_t max) {
  if (value.size() <= max) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(field, ": longer than ", max, " bytes"));
}

// A token signed with the primary key of `keys`' current keyring, through
// the key's precomputed HMAC state.
absl::StatusOr<core::IssuedToken> SignWithPrimary(KeyringSource& keys, const core::TokenPolicy& policy,
                                                  const core::ViewerAttributes& viewer, absl::Time now,
                                                  core::RandomSource& random, absl::string_view url_query = "") {
  EDGEPASS_ASSIGN_OR_RETURN(std::shared_ptr<const core::Keyring> keyring, keys.Current());
  const core::SigningKey* key = keyring->Primary();
  if (key == nullptr) return absl::FailedPreconditionError("keyring: no primary key");
  return core::IssueToken(policy, viewer, *key, *keyring->MacKeyOf(key), now, random, url_query);
}

}  // namespace

PlaybackIssuer::PlaybackIssuer(CatalogView catalog, KeyringSource* keys, core::RandomSource* random,
                               Clock clock, PlaybackIssuerOptions options)
    : catalog_(std::move(catalog)), keys_(keys), random_(random), clock_(std::move(clock)), options_(options) {}

absl::StatusOr<IssuedPlayback> PlaybackIssuer::IssuePlayback(const PlaybackRequest& request) const {
  IssueRecorder recorder(options_.metrics);
  // Label values from the catalog only: an unknown id never becomes a label.
  MetricLabels labels{.asset = std::string(kUnknownAsset), .scheme = std::string(kSmdTokenScheme)};
  absl::StatusOr<IssuedPlayback> issued = Issue(request, &labels);
  recorder.Record(labels.asset, labels.scheme, issued.status());
  return issued;
}

absl::StatusOr<IssuedPlayback> PlaybackIssuer::Issue(const PlaybackRequest& request, MetricLabels* labels) const {
  if (request.asset_id.empty()) return absl::InvalidArgumentError("asset_id: required");
  EDGEPASS_RETURN_IF_ERROR(CheckLength("asset_id", request.asset_id, kMaxAssetIdLength));
  EDGEPASS_RETURN_IF_ERROR(CheckLength("entitlement", request.entitlement, kMaxAssetIdLength));
  std::shared_ptr<const Catalog> catalog = catalog_();
  if (const Asset* asked = catalog->Find(request.asset_id); asked != nullptr) {
    labels->asset = asked->id;
    labels->scheme = asked->scheme;
  }
  EDGEPASS_ASSIGN_OR_RETURN(Playable served, catalog->Resolve(request.asset_id, request.entitlement));
  const absl::Time now = clock_();
  EDGEPASS_RETURN_IF_ERROR(CheckLifetime(*served.policy, now, options_.max_token_ttl, "token_policy.exp"));
  IssuedPlayback out;
  if (served.asset->is_cloudfront()) {
    EDGEPASS_RETURN_IF_ERROR(IssueCloudFront(served, request.viewer, now, &out));
  } else {
    EDGEPASS_ASSIGN_OR_RETURN(core::IssuedToken token,
                              SignWithPrimary(*keys_, *served.policy, request.viewer, now, *random_));
    EDGEPASS_ASSIGN_OR_RETURN(
        out.playback_url,
        core::InsertTokenIntoUrl(absl::StrCat("https://", served.asset->hostname, served.url_path), token.token));
    out.token = std::move(token.token);
    out.session_id = std::move(token.session_id);
    out.expires_at = token.expires_at;
  }
  out.scheme = served.asset->scheme;
  out.policy = served.policy;
  out.catalog = std::move(catalog);  // moved, not copied: no second count on the shared catalog
  out.asset_id = served.asset->id;
  out.variant = std::move(served.variant);
  return out;
}

absl::Status PlaybackIssuer::IssueCloudFront(const Playable& served, const core::ViewerAttributes& viewer,
                                             absl::Time now, IssuedPlayback* out) const {
  const Asset& asset = *served.asset;
  const core::TokenPolicy& policy = *served.policy;
  if (options_.cloudfront_keys == nullptr) return absl::FailedPreconditionError(kNoSuchKey);
  EDGEPASS_ASSIGN_OR_RETURN(core::CloudFrontSigner signer, options_.cloudfront_keys->Signer(asset.cloudfront_key_pair_id));
  // The token policy as CloudFront conditions (the catalog refused the
  // bindings CloudFront cannot check).
  core::CloudFrontConditions conditions;
  conditions.expires = policy.exp.relative ? now + policy.exp.after : policy.exp.at;
  if (conditions.expires <= now) {
    return absl::FailedPreconditionError(
        absl::StrCat("token_policy.exp: the expiry ", policy.exp.text, " is in the past"));
  }
  conditions.not_before = policy.nbf;
  if (policy.ip) {
    if (!core::ParseIpv4(viewer.ip).has_value()) {
      return absl::InvalidArgumentError(
          "viewer.ip: the policy binds the viewer's address and CloudFront policies take an IPv4 address only");
    }
    conditions.ip_range = absl::StrCat(viewer.ip, "/32");
  }
  const std::string url = absl::StrCat("https://", asset.hostname, served.url_path);
  if (asset.scheme == kCloudFrontUrlScheme) {
    absl::StatusOr<std::string> signed_url = signer.SignUrl(url, conditions, now);
    if (!signed_url.ok()) return AsPolicyField(signed_url.status());
    out->playback_url = *std::move(signed_url);
  } else {
    // One path (the catalog checks it): the cookies open everything under it.
    const std::string& path = policy.paths.front();
    const core::CloudFrontPolicy cf_policy{.resource = absl::StrCat("https://", asset.hostname, path, "*"),
                                           .conditions = conditions};
    absl::StatusOr<std::vector<core::CloudFrontCookie>> cookies = signer.SignCookiesWithPolicy(cf_policy, now);
    if (!cookies.ok()) return AsPolicyField(cookies.status());
    core::CloudFrontCookieAttributes attributes{.domain = asset.cookie_domain,
                                                .path = path,
                                                .expires = conditions.expires,
                                                .secure = true,
                                                .http_only = true};
    EDGEPASS_ASSIGN_OR_RETURN(attributes.same_site, ParseCookieSameSite(asset.cookie_same_site));
    EDGEPASS_ASSIGN_OR_RETURN(std::vector<std::string> headers, core::FormatSetCookieHeaders(*cookies, attributes));
    for (size_t i = 0; i < cookies->size(); ++i) {
      out->cookies.push_back({.name = (*cookies)[i].name, .value = (*cookies)[i].value, .set_cookie = headers[i]});
    }
    out->playback_url = url;
  }
  out->expires_at = absl::FromUnixSeconds(core::CloudFrontEpochSeconds(conditions.expires));
  return absl::OkStatus();
}

absl::StatusOr<IssuedToken> PlaybackIssuer::IssueToken(const TokenRequest& request) const {
  IssueRecorder recorder(options_.metrics);
  auto issue = [&]() -> absl::StatusOr<IssuedToken> {
    EDGEPASS_RETURN_IF_ERROR(CheckLength("url", request.url, kMaxIssueUrlBytes));
    const absl::Time now = clock_();
    EDGEPASS_RETURN_IF_ERROR(CheckLifetime(request.policy, now, options_.max_token_ttl, "policy.exp"));
    EDGEPASS_ASSIGN_OR_RETURN(core::IssuedToken token, SignWithPrimary(*keys_, request.policy, request.viewer, now,
                                                                       *random_, core::UrlQuery(request.url)));
    IssuedToken out;
    if (!request.url.empty()) {
      EDGEPASS_ASSIGN_OR_RETURN(out.url, core::InsertTokenIntoUrl(request.url, token.token));
    }
    out.token = std::move(token.token);
    out.session_id = std::move(token.session_id);
    out.expires_at = token.expires_at;
    return out;
  };
  absl::StatusOr<IssuedToken> issued = issue();
  recorder.Record(kInlinePolicyAsset, kSmdTokenScheme, issued.status());
  return issued;
}

}  // namespace edgepass::server
