#include "server/api/playback_service.h"

#include <chrono>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
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
    std::shared_ptr<const core::Keyring> keyring;
    EDGEPASS_ASSIGN_OR_RETURN(const core::SigningKey* key, PrimaryKey(&keyring));
    EDGEPASS_ASSIGN_OR_RETURN(core::IssuedToken token,
                              core::IssueToken(*served.policy, viewer, *key, clock_(), *random_));
    EDGEPASS_ASSIGN_OR_RETURN(
        std::string url,
        core::InsertTokenIntoUrl(absl::StrCat("https://", served.asset->hostname, served.url_path), token.token));
    response->set_playback_url(std::move(url));
    response->set_token(std::move(token.token));
    response->set_session_id(std::move(token.session_id));
    SetTimestamp(token.expires_at, response->mutable_expires_at());
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
  const absl::Status status = issue();
  recorder.Record(kInlinePolicyAsset, kSmdTokenScheme, status);
  return ToGrpcStatus(status);
}

}  // namespace edgepass::server
