// The REST gateway: edgepass.v1 over HTTP/1.1 + JSON on its own port, plus
// SMD's playback API routes (`GET /tokengenerate?id=`, `POST
// /sessionrevoke?sessionid=`), so an SMD client or demo page works unchanged.
//
// Requests and responses use protobuf's canonical JSON mapping; path
// parameters and (for GET) query parameters fill request fields. Each route
// calls the same service implementation as gRPC, after the same
// authentication (Authorization: Bearer <api key>, or the TLS client
// certificate) and the same scope table (RpcScope). Errors are
//   {"error": {"code": "INVALID_ARGUMENT", "message": "...", "field": "asset.url_path"}}
// with the HTTP status of the gRPC code. The route table is RestRoutes().
//
//   auto gateway = RestGateway::Create(services, &access, options);  // StatusOr
//   auto server = http::Server::Start(http_options,
//                                     [&](const http::Request& r) { return (*gateway)->Handle(r); });
#ifndef EDGEPASS_SERVER_REST_REST_GATEWAY_H_
#define EDGEPASS_SERVER_REST_REST_GATEWAY_H_

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "http/http_message.h"
#include "server/api/proto_api.h"
#include "server/rest/trusted_proxies.h"
#include "server/auth/access.h"
#include "server/auth/oidc_verifier.h"

namespace edgepass::server {

namespace rest_internal {
struct Route;
}  // namespace rest_internal

// What the routes call: the same Api objects as gRPC (the gateway checks
// access itself). All must outlive the gateway; a null one answers 501.
struct RestServices {
  const PlaybackApi* playback = nullptr;
  const CatalogApi* catalog = nullptr;
  const SessionApi* sessions = nullptr;
  const EdgeSyncApi* edge_sync = nullptr;
  const KeyApi* keys = nullptr;
};

struct RestGatewayOptions {
  // Peers whose X-Forwarded-For is believed; from anyone else the
  // connection's address is the viewer's and geo headers are ignored.
  // CIDR ranges ("10.0.0.0/8", "::1/128"; a bare address is one host).
  std::vector<std::string> trusted_proxies;
  // Also believe CloudFront-Viewer-Address and the CloudFront geo headers from
  // trusted proxies (they are CloudFront, or strip the viewer's copies).
  bool trust_cloudfront_headers = false;
  // Viewer-facing mode: the playback routes require an end-user ID token
  // (Authorization: Bearer <id token>) instead of an API key with scope
  // `issue`, checked by `viewer_tokens` (outlives the gateway); the first of
  // `entitlements` the viewer's groups hold becomes the entitlement. A
  // request that is not off the loop (http::Request::off_loop) never waits
  // for the verifier's JWKS: MayWait() sends those that would elsewhere.
  // Null: mode off.
  const OidcVerifier* viewer_tokens = nullptr;
  std::vector<std::string> entitlements = {"premium", "standard"};
  // Called once per request with the route template ("/v1/assets/{id}", or
  // "(unmatched)"; never the raw path), the status and the time spent (metrics).
  std::function<void(absl::string_view route, int status, absl::Duration elapsed)> on_request;
};

// One REST route, for the table in docs/rest.md and the tests.
struct RestRouteInfo {
  std::string method;    // "GET"
  std::string pattern;   // "/v1/assets/{id}"
  std::string rpc;       // "/edgepass.v1.CatalogService/GetAsset", or "" for SMD routes
  std::string scope;     // "catalog"
};
std::vector<RestRouteInfo> RestRoutes();

// Thread-safe.
class RestGateway {
 public:
  // INVALID_ARGUMENT naming a malformed trusted proxy range.
  static absl::StatusOr<std::unique_ptr<RestGateway>> Create(RestServices services,
                                                             const AccessPolicy* access,
                                                             RestGatewayOptions options);
  ~RestGateway();
  http::Response Handle(const http::Request& request) const;

  // False for the issuing routes (IssuePlayback, IssueToken, SMD's
  // /tokengenerate), served from memory, unless in viewer mode their ID
  // token would have the verifier read its JWKS (OidcVerifier::MayWait);
  // every other call may wait on a store or on other replicas (RotateKeys
  // waits for the validators), so the HTTP server runs it off the
  // connection's event loop (http::ServerOptions::off_loop), as gRPC runs
  // those calls on its blocking pool.
  bool MayWait(const http::Request& request) const;

 private:
  RestGateway(const AccessPolicy* access, RestGatewayOptions options);
  http::Response Dispatch(const http::Request& request, std::string* route_name, std::string* session_id) const;
  http::Response TokenGenerate(const http::Request& request, std::string* session_id) const;
  http::Response SessionRevoke(const http::Request& request, std::string* session_id) const;
  // Authenticates the caller and checks `scope`.
  absl::Status Authorize(const http::Request& request, Scope scope) const;
  // The playback routes' check: an API key with scope `issue`, or in viewer
  // mode the viewer's ID token; returns the viewer's entitlement ("" = none).
  absl::StatusOr<std::string> AuthorizePlayback(const http::Request& request) const;
  // Every viewer attribute from the connection alone: ViewerIp(), the
  // CloudFront geo headers when the peer is a trusted proxy, the request's
  // headers (credentials left out) and `query` but `skip_query`. Never a
  // session id (the issuer generates it). INVALID_ARGUMENT from ViewerIp().
  absl::Status ViewerFromConnection(
      const http::Request& request,
      const std::vector<std::pair<std::string, std::string>>& query,
      absl::string_view skip_query, v1::Viewer* viewer) const;
  RestServices services_;
  std::vector<std::unique_ptr<rest_internal::Route>> routes_;
  TrustedProxies trusted_;
  const AccessPolicy* access_;
  RestGatewayOptions options_;
};

// HTTP status of a gRPC status code (400, 401, 403, 404, 409, 412, 429, 499,
// 500, 501, 503, 504).
int HttpStatusOf(int grpc_code);

}  // namespace edgepass::server

#endif  // EDGEPASS_SERVER_REST_REST_GATEWAY_H_
