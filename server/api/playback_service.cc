#include "server/api/playback_service.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "core/token_issuer.h"
#include "core/url_query.h"
#include "server/api/proto_convert.h"
#include "server/api/status_map.h"

namespace edgepass::server {

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
  auto issue = [&]() -> absl::Status {
    const std::string& id = request->asset_id();
    if (id.empty()) return absl::InvalidArgumentError("asset_id: required");
    if (id.size() > kMaxAssetIdBytes) {
      return absl::InvalidArgumentError(absl::StrCat("asset_id: longer than ", kMaxAssetIdBytes, " bytes"));
    }
    std::shared_ptr<const Catalog> catalog = live_->catalog();
    const Asset* asset = catalog->Find(id);
    if (asset == nullptr) {
      return absl::NotFoundError(absl::StrCat("asset_id: unknown asset \"", id, "\""));
    }
    EDGEPASS_ASSIGN_OR_RETURN(core::ViewerAttributes viewer,
                              ViewerFromProto(request->viewer(), "viewer."));
    std::shared_ptr<const core::Keyring> keyring;
    EDGEPASS_ASSIGN_OR_RETURN(const core::SigningKey* key, PrimaryKey(&keyring));
    EDGEPASS_ASSIGN_OR_RETURN(core::IssuedToken token,
                              core::IssueToken(asset->policy, viewer, *key, clock_(), *random_));
    EDGEPASS_ASSIGN_OR_RETURN(
        std::string url,
        core::InsertTokenIntoUrl(absl::StrCat("https://", asset->hostname, asset->url_path), token.token));
    response->set_playback_url(std::move(url));
    response->set_token(std::move(token.token));
    response->set_session_id(std::move(token.session_id));
    SetTimestamp(token.expires_at, response->mutable_expires_at());
    *response->mutable_token_policy() = TokenPolicyToProto(asset->policy);
    return absl::OkStatus();
  };
  return ToGrpcStatus(issue());
}

grpc::Status PlaybackServiceImpl::IssueToken(grpc::ServerContext* /*context*/,
                                             const v1::IssueTokenRequest* request,
                                             v1::IssueTokenResponse* response) {
  auto issue = [&]() -> absl::Status {
    EDGEPASS_ASSIGN_OR_RETURN(
        core::TokenPolicy policy,
        TokenPolicyFromProto(request->policy(), options_.default_token_ttl, "policy."));
    EDGEPASS_ASSIGN_OR_RETURN(core::ViewerAttributes viewer,
                              ViewerFromProto(request->viewer(), "viewer."));
    if (request->url().size() > kMaxIssueUrlBytes) {
      return absl::InvalidArgumentError(absl::StrCat("url: longer than ", kMaxIssueUrlBytes, " bytes"));
    }
    std::shared_ptr<const core::Keyring> keyring;
    EDGEPASS_ASSIGN_OR_RETURN(const core::SigningKey* key, PrimaryKey(&keyring));
    EDGEPASS_ASSIGN_OR_RETURN(
        core::IssuedToken token,
        core::IssueToken(policy, viewer, *key, clock_(), *random_, core::UrlQuery(request->url())));
    if (!request->url().empty()) {
      EDGEPASS_ASSIGN_OR_RETURN(std::string url, core::InsertTokenIntoUrl(request->url(), token.token));
      response->set_url(std::move(url));
    }
    response->set_token(std::move(token.token));
    response->set_session_id(std::move(token.session_id));
    SetTimestamp(token.expires_at, response->mutable_expires_at());
    return absl::OkStatus();
  };
  return ToGrpcStatus(issue());
}

}  // namespace edgepass::server
