// Helpers shared by the REST gateway's v1 routes (rest_gateway.cc) and SMD
// routes (smd_routes.cc). Not part of the gateway's interface.
#ifndef EDGEPASS_SERVER_REST_REST_INTERNAL_H_
#define EDGEPASS_SERVER_REST_REST_INTERNAL_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "edgepass/v1/playback.pb.h"
#include "http/http_message.h"

namespace edgepass::server::rest_internal {

// {"error":{"code":"INVALID_ARGUMENT","message":"...","field":"..."}} with
// the HTTP status of the code; 401s carry WWW-Authenticate: Bearer.
http::Response ErrorResponse(absl::StatusCode code, absl::string_view message);
http::Response ErrorResponse(const absl::Status& status);

// The query of a request-target ("" without '?').
absl::string_view QueryText(absl::string_view target);

// One Set-Cookie header per cookie of an IssuePlayback reply (CloudFront
// signed cookies), and Cache-Control: no-store when there is any.
void AddSetCookies(const v1::IssuePlaybackResponse& reply, http::Response* response);

// The first value of `name` in decoded `query`; *present says whether it was there.
std::string QueryValue(const std::vector<std::pair<std::string, std::string>>& query,
                       absl::string_view name, bool* present);

// SMD's id rule: /^\w+$/ and at most 200 characters.
bool IsSmdId(absl::string_view id);

}  // namespace edgepass::server::rest_internal

#endif  // EDGEPASS_SERVER_REST_REST_INTERNAL_H_
