// The edgepass.v1 messages over the service layer (server/app/): each method
// converts the request (bounds checked, errors naming the request's field),
// calls the app, and converts the reply. The transports call these: the gRPC
// callback services (grpc_services.h) and the REST routes (server/rest/), so
// neither holds any logic of its own.
//
//   PlaybackApi playback(&issuer, {.default_token_ttl = absl::Hours(1)});
//   absl::Status s = playback.IssuePlayback(request, &response);
#ifndef EDGEPASS_SERVER_API_PROTO_API_H_
#define EDGEPASS_SERVER_API_PROTO_API_H_

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "edgepass/v1/catalog.pb.h"
#include "edgepass/v1/edge_sync.pb.h"
#include "edgepass/v1/keys.pb.h"
#include "edgepass/v1/playback.pb.h"
#include "edgepass/v1/session.pb.h"
#include "google/protobuf/empty.pb.h"
#include "server/app/catalog_editor.h"
#include "server/app/edge_sync_hub.h"
#include "server/app/key_desk.h"
#include "server/app/key_rotator.h"
#include "server/app/playback_issuer.h"
#include "server/app/revocation_desk.h"

namespace edgepass::server {

// Each class is thread-safe and keeps a pointer to its app object, which
// must outlive it.
class PlaybackApi {
 public:
  // `default_token_ttl`: the lifetime of IssueToken tokens whose policy has no exp.
  PlaybackApi(const PlaybackIssuer* issuer, absl::Duration default_token_ttl)
      : issuer_(issuer), default_token_ttl_(default_token_ttl) {}
  absl::Status IssuePlayback(const v1::IssuePlaybackRequest& q, v1::IssuePlaybackResponse* r) const;
  // The same before it becomes a reply (see playback_reply.h).
  absl::StatusOr<IssuedPlayback> IssuePlayback(const v1::IssuePlaybackRequest& q) const;
  // A request already read and bounded (see playback_request.h).
  absl::StatusOr<IssuedPlayback> IssuePlayback(const PlaybackRequest& request) const {
    return issuer_->IssuePlayback(request);
  }
  absl::Status IssueToken(const v1::IssueTokenRequest& q, v1::IssueTokenResponse* r) const;

 private:
  const PlaybackIssuer* const issuer_;
  const absl::Duration default_token_ttl_;
};

class CatalogApi {
 public:
  explicit CatalogApi(const CatalogEditor* editor) : editor_(editor) {}
  absl::Status PutAsset(const v1::PutAssetRequest& q, v1::Asset* r) const;
  absl::Status GetAsset(const v1::GetAssetRequest& q, v1::Asset* r) const;
  absl::Status ListAssets(const v1::ListAssetsRequest& q, v1::ListAssetsResponse* r) const;
  absl::Status DeleteAsset(const v1::DeleteAssetRequest& q, google::protobuf::Empty* r) const;
  absl::Status PutPolicy(const v1::PutPolicyRequest& q, v1::NamedPolicy* r) const;
  absl::Status GetPolicy(const v1::GetPolicyRequest& q, v1::NamedPolicy* r) const;
  absl::Status ListPolicies(const v1::ListPoliciesRequest& q, v1::ListPoliciesResponse* r) const;
  absl::Status DeletePolicy(const v1::DeletePolicyRequest& q, google::protobuf::Empty* r) const;

 private:
  const CatalogEditor* const editor_;
};

class SessionApi {
 public:
  explicit SessionApi(const RevocationDesk* desk) : desk_(desk) {}
  absl::Status RevokeSession(const v1::RevokeSessionRequest& q, v1::RevokedSession* r) const;
  absl::Status ReportSession(const v1::ReportSessionRequest& q, v1::RevokedSession* r) const;
  absl::Status ReportSessions(const v1::ReportSessionsRequest& q, v1::ReportSessionsResponse* r) const;
  absl::Status ListRevokedSessions(const v1::ListRevokedSessionsRequest& q,
                                   v1::ListRevokedSessionsResponse* r) const;
  absl::Status RestoreSession(const v1::RestoreSessionRequest& q, google::protobuf::Empty* r) const;

 private:
  const RevocationDesk* const desk_;
};

// The unary half of EdgeSyncService (the stream is grpc_edge_sync.h's).
class EdgeSyncApi {
 public:
  explicit EdgeSyncApi(EdgeSyncHub* hub) : hub_(hub) {}
  absl::Status Acknowledge(const v1::AcknowledgeRequest& q, v1::AcknowledgeResponse* r) const;
  absl::Status ListValidators(const v1::ListValidatorsRequest& q, v1::ListValidatorsResponse* r) const;

 private:
  EdgeSyncHub* const hub_;
};

class KeyApi {
 public:
  KeyApi(const KeyDesk* desk, KeyRotator* rotator) : desk_(desk), rotator_(rotator) {}
  absl::Status PutCloudFrontKey(const v1::PutCloudFrontKeyRequest& q, v1::CloudFrontKey* r) const;
  absl::Status RotateKeys(const v1::RotateKeysRequest& q, v1::RotateKeysResponse* r) const;
  absl::Status GetKeyStatus(const v1::GetKeyStatusRequest& q, v1::KeyStatus* r) const;
  absl::Status RevokeKey(const v1::RevokeKeyRequest& q, v1::KeyStatus* r) const;

 private:
  const KeyDesk* const desk_;
  KeyRotator* const rotator_;
};

// One stream message as the wire carries it.
void EdgeMessageToProto(const EdgeMessage& m, v1::EdgeUpdate* out);

}  // namespace edgepass::server

#endif  // EDGEPASS_SERVER_API_PROTO_API_H_
