// The IssuePlayback request read straight from its protobuf wire bytes, for
// the shape nearly every call has: asset_id, entitlement, and a viewer of
// ip, country, region, city and session_id, all ASCII and within the
// viewer's bounds. Parsing that into a message on an arena and copying it
// into a PlaybackRequest cost ~0.7 µs in process, a sixth of the issuing
// itself; this reads it in one pass, with no message and no arena, in
// ~50 ns (edgepass_service_bench, BM_ReadIssuePlaybackRequest_*).
//
// Anything else (headers or query maps, unknown fields, non-ASCII bytes,
// values over their bounds, malformed bytes) is declined, and the caller
// parses with protobuf and converts with PlaybackRequestFromProto as before,
// which also names whatever is wrong. So an accepted request is exactly what
// that path would have produced: fuzz_playback_request holds the two equal.
//
//   PlaybackRequest request;
//   if (!DecodeCommonIssuePlaybackRequest(wire, &request)) { /* protobuf */ }
#ifndef EDGEPASS_SERVER_API_PLAYBACK_REQUEST_H_
#define EDGEPASS_SERVER_API_PLAYBACK_REQUEST_H_

#include "absl/strings/string_view.h"
#include "server/app/playback_issuer.h"

namespace edgepass::server {

// Fills `out` (a default-constructed request) from `wire` and returns true
// when `wire` is an IssuePlaybackRequest of the common shape; false (and
// `out` unspecified) otherwise.
bool DecodeCommonIssuePlaybackRequest(absl::string_view wire, PlaybackRequest* out);

}  // namespace edgepass::server

#endif  // EDGEPASS_SERVER_API_PLAYBACK_REQUEST_H_
