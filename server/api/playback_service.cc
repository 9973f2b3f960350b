#include "server/api/playback_service.h"

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
#include "server/api/proto_convert.h"
#include "server/api/status_map.h"
#include "server/server_metrics.h"

namespace edgepass::server {
namespace {

// Measures one issue call and records it when it goes out of scope.
class IssueRecorder {
 public:
  explicit IssueRecorder(ServerMetrics* metrics)
      : metrics_(metrics), start_(std::chrono::steady_clock::now()) {}
  void Record(absl::string_view asset, absl::string_view scheme, const absl::Status& outcome) {
    if (metrics_ == nullptr) return;
    metrics_->RecordTokenIssue(asset, scheme, outcome,
                               absl::FromChrono(std::chrono::steady_clock::now() - start_));
  }

 private:
  ServerMetrics* const metrics_;
  const std::chrono::steady_clock::time_point start_;
};

constexpr absl::string_view kNoSuchKey = "cloudfront_key_pair_id: no such key in the secrets store";

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
      return absl::Status(status.code(),
                          absl::StrCat(api_name, status.message().substr(core_name.size())));
    }
  }
  return status;
}

// INVALID_ARGUMENT "<field>: ..." when a token issued at `now` under `policy`
// would live longer than `max`.
absl::Status CheckLifetime(const core::TokenPolicy& policy, absl::Time now,
                           absl::Duration max, absl::string_view field) {
  const absl::Duration lifetime =
      policy.exp.relative ? policy.exp.after : policy.exp.at - now;
  if (lifetime <= max) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(field, ": ", policy.exp.text, " is more than the server's ",
                   absl::FormatDuration(max), " maximum token lifetime"));
}

}  // namespace

PlaybackServiceImpl::PlaybackServiceImpl(LiveState* live, KeyringSource* keys,
                                         core::RandomSource* random, Clock clock,
                                         PlaybackServiceOptions options)
    : live_(live),
      keys_(keys),
      random_(random),
      clock_(std::move(clock)),
      options_(options) {}

absl::StatusOr<const core::SigningKey*> PlaybackServiceImpl::PrimaryKey(
    std::shared_ptr<const core::Keyring>* holder) {
  EDGEPASS_ASSIGN_OR_RETURN(*holder, keys_->Current());
  const core::SigningKey* key = (*holder)->Primary();
  if (key == nullptr) return absl::FailedPreconditionError("keyring: no primary key");
  return key;
}

grpc::Status PlaybackServiceImpl::IssuePlayback(grpc::ServerContext* /*context*/,
                                                const v1::IssuePlaybackRequest* request,
                                                v1::IssuePlaybackResponse* response) {
  IssueRecorder recorder(options_.metrics);
  std::shared_ptr<const Catalog> catalog;
  const Asset* asset = nullptr;  // in `catalog`
  auto issue = [&]() -> absl::Status {
    const std::string& id = request->asset_id();
    if (id.empty()) return absl::InvalidArgumentError("asset_id: required");
    if (id.size() > kMaxAssetIdBytes) {
      return absl::InvalidArgumentError(absl::StrCat("asset_id: longer than ", kMaxAssetIdBytes, " bytes"));
    }
    if (request->entitlement().size() > kMaxAssetIdBytes) {
      return absl::InvalidArgumentError(absl::StrCat("entitlement: longer than ", kMaxAssetIdBytes, " bytes"));
    }
    catalog = live_->catalog();
    asset = catalog->Find(id);
    EDGEPASS_ASSIGN_OR_RETURN(Playable served, catalog->Resolve(id, request->entitlement()));
    EDGEPASS_ASSIGN_OR_RETURN(core::ViewerAttributes viewer,
                              ViewerFromProto(request->viewer(), "viewer."));
    const absl::Time now = clock_();
    EDGEPASS_RETURN_IF_ERROR(CheckLifetime(
        *served.policy, now, options_.max_token_ttl, "token_policy.exp"));
    if (served.asset->is_cloudfront()) {
      EDGEPASS_RETURN_IF_ERROR(IssueCloudFront(served, viewer, now, response));
    } else {
      std::shared_ptr<const core::Keyring> keyring;
      EDGEPASS_ASSIGN_OR_RETURN(const core::SigningKey* key, PrimaryKey(&keyring));
      EDGEPASS_ASSIGN_OR_RETURN(
          core::IssuedToken token,
          core::IssueToken(*served.policy, viewer, *key, now, *random_));
      EDGEPASS_ASSIGN_OR_RETURN(
          std::string url,
          core::InsertTokenIntoUrl(absl::StrCat("https://", served.asset->hostname, served.url_path), token.token));
      response->set_playback_url(std::move(url));
      response->set_token(std::move(token.token));
      response->set_session_id(std::move(token.session_id));
      SetTimestamp(token.expires_at, response->mutable_expires_at());
    }
    response->set_scheme(served.asset->scheme);
    *response->mutable_token_policy() = TokenPolicyToProto(*served.policy);
    response->set_asset_id(served.asset->id);
    response->set_variant(served.variant);
    return absl::OkStatus();
  };
  const absl::Status status = issue();
  // Label values from the catalog only: an unknown id never becomes a label.
  recorder.Record(asset != nullptr ? absl::string_view(asset->id) : kUnknownAsset,
                  asset != nullptr ? absl::string_view(asset->scheme) : kSmdTokenScheme, status);
  return ToGrpcStatus(status);
}

absl::Status PlaybackServiceImpl::IssueCloudFront(
    const Playable& served, const core::ViewerAttributes& viewer,
    absl::Time now, v1::IssuePlaybackResponse* response) {
  const Asset& asset = *served.asset;
  const core::TokenPolicy& policy = *served.policy;
  if (options_.cloudfront_keys == nullptr) return absl::FailedPreconditionError(kNoSuchKey);
  EDGEPASS_ASSIGN_OR_RETURN(
      core::CloudFrontSigner signer,
      options_.cloudfront_keys->Signer(asset.cloudfront_key_pair_id));
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
    response->set_playback_url(*std::move(signed_url));
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
      v1::Cookie* c = response->add_cookies();
      c->set_name((*cookies)[i].name);
      c->set_value((*cookies)[i].value);
      c->set_set_cookie(headers[i]);
    }
    response->set_playback_url(url);
  }
  SetTimestamp(absl::FromUnixSeconds(core::CloudFrontEpochSeconds(conditions.expires)),
               response->mutable_expires_at());
  return absl::OkStatus();
}

grpc::Status PlaybackServiceImpl::IssueToken(grpc::ServerContext* /*context*/,
                                             const v1::IssueTokenRequest* request,
                                             v1::IssueTokenResponse* response) {
  IssueRecorder recorder(options_.metrics);
  auto issue = [&]() -> absl::Status {
    EDGEPASS_ASSIGN_OR_RETURN(
        core::TokenPolicy policy,
        TokenPolicyFromProto(request->policy(), options_.default_token_ttl, "policy."));
    EDGEPASS_ASSIGN_OR_RETURN(core::ViewerAttributes viewer,
                              ViewerFromProto(request->viewer(), "viewer."));
    if (request->url().size() > kMaxIssueUrlBytes) {
      return absl::InvalidArgumentError(absl::StrCat("url: longer than ", kMaxIssueUrlBytes, " bytes"));
    }
    const absl::Time now = clock_();
    EDGEPASS_RETURN_IF_ERROR(
        CheckLifetime(policy, now, options_.max_token_ttl, "policy.exp"));
    std::shared_ptr<const core::Keyring> keyring;
    EDGEPASS_ASSIGN_OR_RETURN(const core::SigningKey* key, PrimaryKey(&keyring));
    EDGEPASS_ASSIGN_OR_RETURN(
        core::IssuedToken token,
        core::IssueToken(policy, viewer, *key, now, *random_,
                         core::UrlQuery(request->url())));
    if (!request->url().empty()) {
      EDGEPASS_ASSIGN_OR_RETURN(std::string url, core::InsertTokenIntoUrl(request->url(), token.token));
      response->set_url(std::move(url));
    }
    response->set_token(std::move(token.token));
    response->set_session_id(std::move(token.session_id));
    SetTimestamp(token.expires_at, response->mutable_expires_at());
    return absl::OkStatus();
  };
  const absl::Status status = issue();
  recorder.Record(kInlinePolicyAsset, kSmdTokenScheme, status);
  return ToGrpcStatus(status);
}

}  // namespace edgepass::server
