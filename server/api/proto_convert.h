// Conversions between the public API messages (edgepass.v1) and core types,
// with input bounds checked before anything is copied. Errors are
// INVALID_ARGUMENT whose message starts with the request field at fault.
//
//   EDGEPASS_ASSIGN_OR_RETURN(core::ViewerAttributes v, ViewerFromProto(req.viewer(), "viewer."));
//   EDGEPASS_ASSIGN_OR_RETURN(core::TokenPolicy p,
//                             TokenPolicyFromProto(req.policy(), absl::Hours(1), "policy."));
#ifndef EDGEPASS_SERVER_API_PROTO_CONVERT_H_
#define EDGEPASS_SERVER_API_PROTO_CONVERT_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "core/token_policy.h"
#include "core/viewer.h"
#include "edgepass/v1/playback.pb.h"
#include "edgepass/v1/policy.pb.h"
#include "google/protobuf/timestamp.pb.h"
#include "server/app/playback_issuer.h"

namespace edgepass::server {

inline constexpr int kMaxViewerHeaders = 64;
inline constexpr int kMaxViewerQuery = 64;
inline constexpr size_t kMaxViewerNameLength = 256;
inline constexpr size_t kMaxViewerIpLength = 64;
inline constexpr size_t kMaxPolicyRepeated = 64;

// Viewer -> core::ViewerAttributes (country -> co, region -> reg, city ->
// cty, query -> qs). Refuses more than kMaxViewerHeaders headers or
// kMaxViewerQuery query parameters, a name over kMaxViewerNameLength, a value
// over core::kMaxViewerValueLength, an IP over kMaxViewerIpLength.
absl::StatusOr<core::ViewerAttributes> ViewerFromProto(const v1::Viewer& viewer,
                                                       absl::string_view field_prefix);

// IssuePlaybackRequest -> PlaybackRequest, the viewer by ViewerFromProto
// under "viewer.".
absl::StatusOr<PlaybackRequest> PlaybackRequestFromProto(const v1::IssuePlaybackRequest& request);

// TokenPolicy -> core::TokenPolicy, validated with core::ValidateTokenPolicy
// under `field_prefix`. An empty `exp` means `default_ttl`; an empty `nbf`
// means none, otherwise it must be epoch seconds.
absl::StatusOr<core::TokenPolicy> TokenPolicyFromProto(const v1::TokenPolicy& policy,
                                                       absl::Duration default_ttl,
                                                       absl::string_view field_prefix);

// `t` as a Timestamp (whole seconds).
void SetTimestamp(absl::Time t, google::protobuf::Timestamp* out);

// Sets the field `mutable_field()` returns to `t`, unless `t` is infinite
// (no limit): then the field stays unset, since asking protobuf for the
// mutable field would make it present at epoch 0.
template <typename MutableField>
void SetTimestampUnlessInfinite(absl::Time t, MutableField mutable_field) {
  if (t != absl::InfiniteFuture()) SetTimestamp(t, mutable_field());
}

// TokenPolicy's exp and nbf fields for `policy`: exp as written (or "+<n>s",
// or epoch seconds when the text is lost), nbf as epoch seconds ("" = none).
std::string PolicyExpText(const core::TokenPolicy& policy);
std::string PolicyNbfText(const core::TokenPolicy& policy);

// core::TokenPolicy -> TokenPolicy (exp as written, nbf as epoch seconds).
// Written into `out` (a reply's field), not copied there.
void TokenPolicyToProto(const core::TokenPolicy& policy, v1::TokenPolicy* out);

}  // namespace edgepass::server

#endif  // EDGEPASS_SERVER_API_PROTO_CONVERT_H_
