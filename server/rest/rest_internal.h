// The REST gateway's parts, not part of its interface: the route table and
// matching (rest_router.cc), the JSON <-> message transcoding and error
// bodies (rest_transcoder.cc), and helpers of the SMD routes (smd_routes.cc).
#ifndef EDGEPASS_SERVER_REST_REST_INTERNAL_H_
#define EDGEPASS_SERVER_REST_REST_INTERNAL_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "edgepass/v1/playback.pb.h"
#include "google/protobuf/arena.h"
#include "google/protobuf/message.h"
#include "http/http_message.h"
#include "server/auth/access.h"

namespace edgepass::server {
struct RestServices;
}  // namespace edgepass::server

namespace edgepass::server::rest_internal {

// The RPCs the playback routes and SMD's two routes call: their scope and
// whether they wait are those rows' of the rule table (rpc_scopes.h).
inline constexpr absl::string_view kIssuePlaybackRpc = "/edgepass.v1.PlaybackService/IssuePlayback";
inline constexpr absl::string_view kIssueTokenRpc = "/edgepass.v1.PlaybackService/IssueToken";
inline constexpr absl::string_view kRevokeSessionRpc = "/edgepass.v1.SessionService/RevokeSession";

// One v1 route: METHOD + pattern, the RPC it calls, where the body goes.
struct Route {
  std::string method;
  std::vector<std::string> segments;  // "v1", "assets", "{id}"
  std::string pattern;
  std::string rpc;
  Scope scope;
  bool waits;        // RpcMayWait(rpc): answered off the event loop
  std::string body;  // "*" (whole request), a field name, or "" (no body)
  // The request and reply messages of one call, on `arena`.
  std::function<google::protobuf::Message*(google::protobuf::Arena* arena)> new_request;
  std::function<google::protobuf::Message*(google::protobuf::Arena* arena)> new_response;
  std::function<absl::Status(const google::protobuf::Message&, google::protobuf::Message*)> call;
};

// Every v1 route, calling `services` (a null Api answers UNIMPLEMENTED).
std::vector<std::unique_ptr<Route>> BuildRoutes(const RestServices& services);

struct RouteMatch {
  const Route* route = nullptr;  // null: no route for this method and path
  bool path_matched = false;     // some route has this path (405, not 404)
  std::vector<std::pair<std::string, std::string>> params;  // decoded {name} values
};
// `path` starts with '/'. A parameter never matches a segment that decodes
// to "", ".", ".." or contains '/'.
RouteMatch MatchRoute(const std::vector<std::unique_ptr<Route>>& routes, absl::string_view method,
                      absl::string_view path);

// Fills `message` from the request: the JSON body (into route.body), GET
// query parameters, path parameters. The error response (400, or 415 for a
// body that is not application/json) or nullopt.
std::optional<http::Response> FillRequest(const Route& route, const http::Request& request,
                                          absl::string_view query_text,
                                          const std::vector<std::pair<std::string, std::string>>& params,
                                          google::protobuf::Message* message);
// 200 with the reply as JSON.
http::Response ReplyResponse(const google::protobuf::Message& reply);

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

}  // namespace edgepass::server::rest_internal

#endif  // EDGEPASS_SERVER_REST_REST_INTERNAL_H_
