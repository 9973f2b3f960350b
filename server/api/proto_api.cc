#include "server/api/proto_api.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "server/api/playback_reply.h"
#include "server/api/proto_convert.h"

namespace edgepass::server {
namespace {

constexpr int64_t kMaxEpochSeconds = int64_t{1} << 40;

// --- catalog ---

// A catalog policy must state its expiry; the data plane's default TTL is
// only for IssueToken's inline policies.
absl::StatusOr<core::TokenPolicy> CatalogPolicyFromProto(const v1::TokenPolicy& policy, absl::string_view prefix) {
  if (policy.exp().empty()) return absl::InvalidArgumentError(absl::StrCat(prefix, "exp: required"));
  return TokenPolicyFromProto(policy, absl::ZeroDuration(), prefix);
}

// An asset's or variant's token policy: by name, or inline.
template <typename Message>
absl::Status PolicyRefFromProto(const Message& m, const std::string& prefix, std::string* name,
                                core::TokenPolicy* policy) {
  if (m.has_inline_policy()) {
    EDGEPASS_ASSIGN_OR_RETURN(*policy, CatalogPolicyFromProto(m.inline_policy(), prefix + "inline_policy."));
    return absl::OkStatus();
  }
  if (!m.policy_name().empty()) {
    EDGEPASS_RETURN_IF_ERROR(CheckCatalogName(prefix + "policy_name", m.policy_name()));
    *name = m.policy_name();
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat(prefix, "token_policy: policy_name or inline_policy required"));
}

template <typename Message>
void PolicyRefToProto(const std::string& policy_name, const core::TokenPolicy& policy, Message* out) {
  if (!policy_name.empty()) {
    out->set_policy_name(policy_name);
  } else {
    TokenPolicyToProto(policy, out->mutable_inline_policy());
  }
}

absl::StatusOr<Asset> AssetFromProto(const v1::Asset& in) {
  EDGEPASS_RETURN_IF_ERROR(CheckCatalogName("asset.id", in.id()));
  Asset asset{.id = in.id(),
              .hostname = in.hostname(),
              .scheme = in.scheme().empty() ? std::string(kSmdTokenScheme) : in.scheme(),
              .url_path = in.url_path()};
  EDGEPASS_RETURN_IF_ERROR(PolicyRefFromProto(in, "asset.", &asset.policy_name, &asset.policy));
  if (in.variants_size() > static_cast<int>(kMaxAssetVariants)) {
    return absl::InvalidArgumentError(absl::StrCat("asset.variants: more than ", kMaxAssetVariants));
  }
  for (const auto& [entitlement, variant] : in.variants()) {
    const std::string prefix =
        absl::StrCat("asset.variants[\"", entitlement.substr(0, kMaxAssetIdLength), "\"].");
    EDGEPASS_RETURN_IF_ERROR(CheckCatalogName(prefix + "entitlement", entitlement));
    AssetVariant& v = asset.variants[entitlement];
    v.url_path = variant.url_path();
    EDGEPASS_RETURN_IF_ERROR(PolicyRefFromProto(variant, prefix, &v.policy_name, &v.policy));
  }
  if (!in.fallback_asset_id().empty()) {
    EDGEPASS_RETURN_IF_ERROR(CheckCatalogName("asset.fallback_asset_id", in.fallback_asset_id()));
    asset.fallback_asset = in.fallback_asset_id();
  }
  asset.cloudfront_key_pair_id = in.cloudfront_key_pair_id();
  asset.cookie_domain = in.cookie_domain();
  asset.cookie_same_site = in.cookie_same_site();
  return asset;
}

void AssetToProto(const Asset& asset, v1::Asset* out) {
  out->set_id(asset.id);
  out->set_hostname(asset.hostname);
  out->set_url_path(asset.url_path);
  out->set_scheme(asset.scheme);
  PolicyRefToProto(asset.policy_name, asset.policy, out);
  for (const auto& [entitlement, variant] : asset.variants) {
    v1::AssetVariant& v = (*out->mutable_variants())[entitlement];
    v.set_url_path(variant.url_path);
    PolicyRefToProto(variant.policy_name, variant.policy, &v);
  }
  out->set_fallback_asset_id(asset.fallback_asset);
  out->set_cloudfront_key_pair_id(asset.cloudfront_key_pair_id);
  out->set_cookie_domain(asset.cookie_domain);
  out->set_cookie_same_site(asset.cookie_same_site);
}

void PolicyToProto(absl::string_view name, const NamedPolicy& policy, v1::NamedPolicy* out) {
  out->set_name(std::string(name));
  TokenPolicyToProto(policy.policy, out->mutable_policy());
}

// --- sessions ---

absl::StatusOr<std::optional<absl::Time>> ExpiryFromProto(bool has, const google::protobuf::Timestamp& ts) {
  if (!has) return std::nullopt;
  if (ts.seconds() <= 0 || ts.seconds() > kMaxEpochSeconds || ts.nanos() < 0 || ts.nanos() >= 1000000000) {
    return absl::InvalidArgumentError("expires_at: not a valid timestamp");
  }
  return absl::FromUnixSeconds(ts.seconds());
}

void EntryToProto(const core::RevocationEntry& e, v1::RevokedSession* out) {
  out->set_session_id(e.session_id);
  out->set_type(e.type == core::RevocationType::kAuto ? v1::AUTO : v1::MANUAL);
  out->set_reason(e.reason);
  out->set_score(e.score);
  for (const auto& [name, value] : e.score_components) (*out->mutable_score_components())[name] = value;
  SetTimestamp(e.added_at, out->mutable_added_at());
  SetTimestampUnlessInfinite(e.expires_at, [&] { return out->mutable_expires_at(); });
}

absl::Status Revoke(const RevocationDesk& desk, RevocationRequest request, v1::RevokedSession* r) {
  EDGEPASS_ASSIGN_OR_RETURN(core::RevocationEntry entry, desk.Revoke(request));
  EntryToProto(entry, r);
  return absl::OkStatus();
}

// --- edge sync ---

v1::KeyState KeyStateToProto(core::KeyState state) {
  switch (state) {
    case core::KeyState::kPending: return v1::PENDING;
    case core::KeyState::kDistributed: return v1::DISTRIBUTED;
    case core::KeyState::kPrimary: return v1::PRIMARY;
    case core::KeyState::kSecondary: return v1::SECONDARY;
    case core::KeyState::kRetired: return v1::RETIRED;
  }
  return v1::KEY_STATE_UNSPECIFIED;
}

}  // namespace

absl::StatusOr<IssuedPlayback> PlaybackApi::IssuePlayback(const v1::IssuePlaybackRequest& q) const {
  EDGEPASS_ASSIGN_OR_RETURN(const PlaybackRequest request, PlaybackRequestFromProto(q));
  return issuer_->IssuePlayback(request);
}

absl::Status PlaybackApi::IssuePlayback(const v1::IssuePlaybackRequest& q, v1::IssuePlaybackResponse* r) const {
  EDGEPASS_ASSIGN_OR_RETURN(IssuedPlayback issued, IssuePlayback(q));
  PlaybackToProto(std::move(issued), r);
  return absl::OkStatus();
}

absl::Status PlaybackApi::IssueToken(const v1::IssueTokenRequest& q, v1::IssueTokenResponse* r) const {
  TokenRequest request{.url = q.url()};
  EDGEPASS_ASSIGN_OR_RETURN(request.policy, TokenPolicyFromProto(q.policy(), default_token_ttl_, "policy."));
  EDGEPASS_ASSIGN_OR_RETURN(request.viewer, ViewerFromProto(q.viewer(), "viewer."));
  EDGEPASS_ASSIGN_OR_RETURN(IssuedToken token, issuer_->IssueToken(request));
  r->set_url(std::move(token.url));
  r->set_token(std::move(token.token));
  r->set_session_id(std::move(token.session_id));
  SetTimestamp(token.expires_at, r->mutable_expires_at());
  return absl::OkStatus();
}

absl::Status CatalogApi::PutAsset(const v1::PutAssetRequest& q, v1::Asset* r) const {
  EDGEPASS_ASSIGN_OR_RETURN(Asset asset, AssetFromProto(q.asset()));
  EDGEPASS_ASSIGN_OR_RETURN(Asset stored, editor_->PutAsset(std::move(asset)));
  AssetToProto(stored, r);
  return absl::OkStatus();
}

absl::Status CatalogApi::GetAsset(const v1::GetAssetRequest& q, v1::Asset* r) const {
  EDGEPASS_ASSIGN_OR_RETURN(Asset asset, editor_->GetAsset(q.id()));
  AssetToProto(asset, r);
  return absl::OkStatus();
}

absl::Status CatalogApi::ListAssets(const v1::ListAssetsRequest& q, v1::ListAssetsResponse* r) const {
  EDGEPASS_ASSIGN_OR_RETURN(AssetPage page, editor_->ListAssets(q.page_size(), q.page_token()));
  for (const Asset& a : page.assets) AssetToProto(a, r->add_assets());
  r->set_next_page_token(std::move(page.next_page_token));
  return absl::OkStatus();
}

absl::Status CatalogApi::DeleteAsset(const v1::DeleteAssetRequest& q, google::protobuf::Empty*) const {
  return editor_->DeleteAsset(q.id());
}

absl::Status CatalogApi::PutPolicy(const v1::PutPolicyRequest& q, v1::NamedPolicy* r) const {
  const v1::NamedPolicy& named = q.policy();
  EDGEPASS_RETURN_IF_ERROR(CheckCatalogName("policy.name", named.name()));
  EDGEPASS_ASSIGN_OR_RETURN(core::TokenPolicy policy, CatalogPolicyFromProto(named.policy(), "policy.policy."));
  EDGEPASS_ASSIGN_OR_RETURN(NamedPolicy stored, editor_->PutPolicy(named.name(), policy));
  PolicyToProto(named.name(), stored, r);
  return absl::OkStatus();
}

absl::Status CatalogApi::GetPolicy(const v1::GetPolicyRequest& q, v1::NamedPolicy* r) const {
  EDGEPASS_ASSIGN_OR_RETURN(NamedPolicy policy, editor_->GetPolicy(q.name()));
  PolicyToProto(q.name(), policy, r);
  return absl::OkStatus();
}

absl::Status CatalogApi::ListPolicies(const v1::ListPoliciesRequest&, v1::ListPoliciesResponse* r) const {
  EDGEPASS_ASSIGN_OR_RETURN(auto policies, editor_->ListPolicies());
  for (const auto& [name, policy] : policies) PolicyToProto(name, policy, r->add_policies());
  return absl::OkStatus();
}

absl::Status CatalogApi::DeletePolicy(const v1::DeletePolicyRequest& q, google::protobuf::Empty*) const {
  return editor_->DeletePolicy(q.name());
}

absl::Status SessionApi::RevokeSession(const v1::RevokeSessionRequest& q, v1::RevokedSession* r) const {
  RevocationRequest request{.session_id = q.session_id(), .type = core::RevocationType::kManual, .reason = q.reason()};
  EDGEPASS_ASSIGN_OR_RETURN(request.expires_at, ExpiryFromProto(q.has_expires_at(), q.expires_at()));
  return Revoke(*desk_, std::move(request), r);
}

namespace {

// A report as a desk request; errors name the field after `prefix`.
absl::StatusOr<RevocationRequest> ReportFromProto(const v1::ReportSessionRequest& q, absl::string_view prefix) {
  RevocationRequest request{
      .session_id = q.session_id(), .type = core::RevocationType::kAuto, .reason = q.reason(), .score = q.score()};
  if (q.score_components_size() > static_cast<int>(core::kMaxScoreComponents)) {
    return absl::InvalidArgumentError(
        absl::StrCat(prefix, "score_components: at most ", core::kMaxScoreComponents, " components"));
  }
  for (const auto& [name, value] : q.score_components()) request.score_components[name] = value;
  absl::StatusOr<std::optional<absl::Time>> expires = ExpiryFromProto(q.has_expires_at(), q.expires_at());
  if (!expires.ok()) return absl::Status(expires.status().code(), absl::StrCat(prefix, expires.status().message()));
  request.expires_at = *expires;
  return request;
}

v1::ReportOutcome ReportOutcomeToProto(ReportOutcome outcome) {
  switch (outcome) {
    case ReportOutcome::kStored: return v1::REPORT_STORED;
    case ReportOutcome::kAlreadyManual: return v1::REPORT_ALREADY_MANUAL;
    case ReportOutcome::kAlreadyAuto: return v1::REPORT_ALREADY_AUTO;
  }
  return v1::REPORT_OUTCOME_UNSPECIFIED;
}

}  // namespace

absl::Status SessionApi::ReportSession(const v1::ReportSessionRequest& q, v1::RevokedSession* r) const {
  EDGEPASS_ASSIGN_OR_RETURN(RevocationRequest request, ReportFromProto(q, ""));
  return Revoke(*desk_, std::move(request), r);
}

absl::Status SessionApi::ReportSessions(const v1::ReportSessionsRequest& q, v1::ReportSessionsResponse* r) const {
  if (q.sessions_size() > static_cast<int>(kMaxReportBatch)) {
    return absl::InvalidArgumentError(
        absl::StrCat("sessions: at most ", kMaxReportBatch, " per call (got ", q.sessions_size(), ")"));
  }
  std::vector<RevocationRequest> requests;
  requests.reserve(q.sessions_size());
  for (int i = 0; i < q.sessions_size(); ++i) {
    EDGEPASS_ASSIGN_OR_RETURN(RevocationRequest request,
                              ReportFromProto(q.sessions(i), absl::StrCat("sessions[", i, "].")));
    requests.push_back(std::move(request));
  }
  EDGEPASS_ASSIGN_OR_RETURN(ReportedSessions reported, desk_->Report(requests));
  for (const core::RevocationEntry& e : reported.sessions) EntryToProto(e, r->add_sessions());
  for (ReportOutcome o : reported.outcomes) r->add_outcomes(ReportOutcomeToProto(o));
  r->set_version(reported.version);
  return absl::OkStatus();
}

absl::Status SessionApi::ListRevokedSessions(const v1::ListRevokedSessionsRequest& q,
                                             v1::ListRevokedSessionsResponse* r) const {
  if (q.limit() < 0) return absl::InvalidArgumentError("limit: must be >= 0");
  // `limit` is the deprecated name of page_size.
  const int page_size = q.page_size() != 0 ? q.page_size() : q.limit();
  EDGEPASS_ASSIGN_OR_RETURN(RevokedSessions list, desk_->List(q.compiled(), page_size, q.page_token()));
  for (const core::RevocationEntry& e : list.sessions) EntryToProto(e, r->add_sessions());
  r->set_version(list.version);
  r->set_next_page_token(std::move(list.next_page_token));
  return absl::OkStatus();
}

absl::Status SessionApi::RestoreSession(const v1::RestoreSessionRequest& q, google::protobuf::Empty*) const {
  return desk_->Restore(q.session_id());
}

absl::Status EdgeSyncApi::Acknowledge(const v1::AcknowledgeRequest& q, v1::AcknowledgeResponse*) const {
  return hub_->Acknowledge(q.validator_id(), q.version(), q.keyring_fingerprint());
}

absl::Status EdgeSyncApi::ListValidators(const v1::ListValidatorsRequest&, v1::ListValidatorsResponse* r) const {
  r->set_current_version(hub_->current_version());
  for (const ValidatorInfo& v : hub_->ListValidators()) {
    v1::ValidatorInfo* info = r->add_validators();
    info->set_validator_id(v.validator_id);
    info->set_peer(v.peer);
    SetTimestampUnlessInfinite(v.connected_at, [&] { return info->mutable_connected_at(); });
    info->set_sent_version(v.sent_version);
    info->set_acked_version(v.acked_version);
    info->set_acked_keyring_fingerprint(v.acked_fingerprint);
    info->set_connected(v.connected);
  }
  return absl::OkStatus();
}

absl::Status KeyApi::PutCloudFrontKey(const v1::PutCloudFrontKeyRequest& q, v1::CloudFrontKey* r) const {
  EDGEPASS_ASSIGN_OR_RETURN(CloudFrontPublicKey key, desk_->PutCloudFrontKey(q.key_pair_id(), q.private_key_pem()));
  r->set_key_pair_id(std::move(key.key_pair_id));
  r->set_public_key_pem(std::move(key.public_key_pem));
  return absl::OkStatus();
}

namespace {

void KeyringStatusToProto(const KeyringStatus& s, v1::KeyStatus* out) {
  for (const KeyInfo& k : s.keys) {
    v1::SigningKeyInfo* key = out->add_keys();
    key->set_id(k.id);
    key->set_state(KeyStateToProto(k.state));
    SetTimestampUnlessInfinite(k.created_at, [&] { return key->mutable_created_at(); });
    SetTimestampUnlessInfinite(k.not_after, [&] { return key->mutable_not_after(); });
    key->set_foreign(k.foreign);
  }
  v1::RotationStatus* r = out->mutable_rotation();
  r->set_in_progress(s.rotation.in_progress);
  r->set_last_outcome(s.rotation.last_outcome);
  r->set_last_message(s.rotation.last_message);
  if (s.rotation.last_attempt != absl::InfinitePast()) SetTimestamp(s.rotation.last_attempt, r->mutable_last_attempt());
  if (s.rotation.last_success != absl::InfinitePast()) SetTimestamp(s.rotation.last_success, r->mutable_last_success());
  r->set_stalled(s.rotation.stalled);
  for (const std::string& id : s.rotation.unacknowledged) r->add_unacknowledged_validators(id);
  r->set_schedule(s.schedule);
}

}  // namespace

absl::Status KeyApi::RotateKeys(const v1::RotateKeysRequest&, v1::RotateKeysResponse* r) const {
  EDGEPASS_ASSIGN_OR_RETURN(RotationReport report, rotator_->Rotate());
  r->set_new_primary(report.new_primary);
  r->set_previous_primary(report.previous_primary);
  r->set_resumed(report.resumed);
  r->set_validators(static_cast<uint32_t>(report.validators));
  const int64_t nanos = absl::ToInt64Nanoseconds(report.waited_for_acks);
  r->mutable_acknowledgement_wait()->set_seconds(nanos / 1000000000);
  r->mutable_acknowledgement_wait()->set_nanos(static_cast<int32_t>(nanos % 1000000000));
  if (absl::StatusOr<KeyringStatus> status = rotator_->Status(); status.ok()) {
    KeyringStatusToProto(*status, r->mutable_status());
  }
  return absl::OkStatus();
}

absl::Status KeyApi::GetKeyStatus(const v1::GetKeyStatusRequest&, v1::KeyStatus* r) const {
  EDGEPASS_ASSIGN_OR_RETURN(KeyringStatus status, rotator_->Status());
  KeyringStatusToProto(status, r);
  return absl::OkStatus();
}

absl::Status KeyApi::RevokeKey(const v1::RevokeKeyRequest& q, v1::KeyStatus* r) const {
  if (!core::IsValidKeyId(q.key_id())) {
    return absl::InvalidArgumentError("key_id: 1 to 64 characters of [A-Za-z0-9_-]");
  }
  EDGEPASS_ASSIGN_OR_RETURN(KeyringStatus status, rotator_->RevokeKey(q.key_id(), q.confirm_tokens_refused()));
  KeyringStatusToProto(status, r);
  return absl::OkStatus();
}

void EdgeMessageToProto(const EdgeMessage& m, v1::EdgeUpdate* out) {
  out->set_version(m.version);
  out->set_snapshot(m.snapshot);
  out->set_complete(m.complete);
  out->set_keyring_fingerprint(m.keyring_fingerprint);
  if (m.keyring != nullptr) {
    out->set_keyring_changed(true);
    for (const core::SigningKey& k : m.keyring->keys()) {
      v1::EdgeKey* key = out->add_keys();
      key->set_id(k.id);
      key->set_value(k.value);
      key->set_state(KeyStateToProto(k.state));
      SetTimestampUnlessInfinite(k.created_at, [&] { return key->mutable_created_at(); });
      SetTimestampUnlessInfinite(k.not_after, [&] { return key->mutable_not_after(); });
    }
  }
  if (m.snapshot_revoked_count.has_value()) out->set_snapshot_revoked_count(*m.snapshot_revoked_count);
  out->mutable_revoked_add()->Reserve(static_cast<int>(m.revoked_add.size()));
  for (const EdgeRevoked& r : m.revoked_add) {
    v1::RevokedId* id = out->add_revoked_add();
    id->set_session_id(r.session_id);
    SetTimestampUnlessInfinite(r.expires_at, [&] { return id->mutable_expires_at(); });
  }
  for (const std::string& id : m.revoked_remove) out->add_revoked_remove(id);
}

}  // namespace edgepass::server
