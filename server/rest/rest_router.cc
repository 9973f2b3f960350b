// The route table: each v1 route's method, path pattern, RPC (and so scope),
// body field, and the Api method it calls; and the matching of a request's
// method and path against it.
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_split.h"
#include "core/url_query.h"
#include "server/api/rpc_scopes.h"
#include "server/rest/rest_gateway.h"
#include "server/rest/rest_internal.h"

namespace edgepass::server {
namespace rest_internal {
namespace {

namespace pb = google::protobuf;

template <typename Api, typename Req, typename Resp>
std::unique_ptr<Route> MakeRoute(
    std::string method, std::string pattern, std::string rpc, std::string body, const Api* api,
    absl::Status (Api::*fn)(const Req&, Resp*) const) {
  auto route = std::make_unique<Route>();
  route->method = std::move(method);
  route->pattern = pattern;
  route->segments = absl::StrSplit(absl::string_view(pattern).substr(1), '/');
  route->scope = RpcScope(rpc).value();  // every RPC has a row (RpcScopes test)
  route->waits = RpcMayWait(rpc);
  route->rpc = std::move(rpc);
  route->body = std::move(body);
  route->new_request = [](pb::Arena* arena) -> pb::Message* { return pb::Arena::CreateMessage<Req>(arena); };
  route->new_response = [](pb::Arena* arena) -> pb::Message* { return pb::Arena::CreateMessage<Resp>(arena); };
  route->call = [api, fn](const pb::Message& q, pb::Message* r) {
    if (api == nullptr) return absl::UnimplementedError("not served here");
    return (api->*fn)(static_cast<const Req&>(q), static_cast<Resp*>(r));
  };
  return route;
}

}  // namespace

std::vector<std::unique_ptr<Route>> BuildRoutes(const RestServices& s) {
  using Playback = PlaybackApi;
  using Catalog = CatalogApi;
  using Sessions = SessionApi;
  using EdgeSync = EdgeSyncApi;
  using Keys = KeyApi;
  const std::string p = "/edgepass.v1.PlaybackService/", c = "/edgepass.v1.CatalogService/",
                    ss = "/edgepass.v1.SessionService/", e = "/edgepass.v1.EdgeSyncService/",
                    k = "/edgepass.v1.KeyService/";
  std::vector<std::unique_ptr<Route>> r;
  r.push_back(MakeRoute("POST", "/v1/assets/{asset_id}/playback", p + "IssuePlayback", "*", s.playback,
                        &Playback::IssuePlayback));
  r.push_back(MakeRoute("POST", "/v1/tokens", p + "IssueToken", "*", s.playback, &Playback::IssueToken));
  r.push_back(MakeRoute("PUT", "/v1/assets/{asset.id}", c + "PutAsset", "asset", s.catalog, &Catalog::PutAsset));
  r.push_back(MakeRoute("GET", "/v1/assets/{id}", c + "GetAsset", "", s.catalog, &Catalog::GetAsset));
  r.push_back(MakeRoute("GET", "/v1/assets", c + "ListAssets", "", s.catalog, &Catalog::ListAssets));
  r.push_back(MakeRoute("DELETE", "/v1/assets/{id}", c + "DeleteAsset", "", s.catalog, &Catalog::DeleteAsset));
  r.push_back(MakeRoute("PUT", "/v1/policies/{policy.name}", c + "PutPolicy", "policy", s.catalog,
                        &Catalog::PutPolicy));
  r.push_back(MakeRoute("GET", "/v1/policies/{name}", c + "GetPolicy", "", s.catalog, &Catalog::GetPolicy));
  r.push_back(MakeRoute("GET", "/v1/policies", c + "ListPolicies", "", s.catalog, &Catalog::ListPolicies));
  r.push_back(MakeRoute("DELETE", "/v1/policies/{name}", c + "DeletePolicy", "", s.catalog,
                        &Catalog::DeletePolicy));
  r.push_back(MakeRoute("POST", "/v1/sessions/{session_id}/revoke", ss + "RevokeSession", "*", s.sessions,
                        &Sessions::RevokeSession));
  r.push_back(MakeRoute("POST", "/v1/sessions/{session_id}/report", ss + "ReportSession", "*", s.sessions,
                        &Sessions::ReportSession));
  r.push_back(MakeRoute("POST", "/v1/sessions:report", ss + "ReportSessions", "*", s.sessions,
                        &Sessions::ReportSessions));
  r.push_back(MakeRoute("POST", "/v1/sessions/{session_id}/restore", ss + "RestoreSession", "*", s.sessions,
                        &Sessions::RestoreSession));
  r.push_back(MakeRoute("GET", "/v1/revoked-sessions", ss + "ListRevokedSessions", "", s.sessions,
                        &Sessions::ListRevokedSessions));
  r.push_back(MakeRoute("POST", "/v1/validators/{validator_id}/ack", e + "Acknowledge", "*", s.edge_sync,
                        &EdgeSync::Acknowledge));
  r.push_back(MakeRoute("GET", "/v1/validators", e + "ListValidators", "", s.edge_sync,
                        &EdgeSync::ListValidators));
  r.push_back(MakeRoute("PUT", "/v1/cloudfront-keys/{key_pair_id}", k + "PutCloudFrontKey", "*", s.keys,
                        &Keys::PutCloudFrontKey));
  r.push_back(MakeRoute("POST", "/v1/keys/rotate", k + "RotateKeys", "*", s.keys, &Keys::RotateKeys));
  r.push_back(MakeRoute("GET", "/v1/keys", k + "GetKeyStatus", "", s.keys, &Keys::GetKeyStatus));
  r.push_back(MakeRoute("POST", "/v1/keys/{key_id}/revoke", k + "RevokeKey", "*", s.keys, &Keys::RevokeKey));
  return r;
}

RouteMatch MatchRoute(const std::vector<std::unique_ptr<Route>>& routes, absl::string_view method,
                      absl::string_view path) {
  RouteMatch match;
  std::vector<absl::string_view> segments = absl::StrSplit(path.substr(1), '/');
  for (const auto& route : routes) {
    if (route->segments.size() != segments.size()) continue;
    std::vector<std::pair<std::string, std::string>> found;
    bool ok = true;
    for (size_t i = 0; i < segments.size() && ok; ++i) {
      const std::string& want = route->segments[i];
      if (want.size() > 2 && want.front() == '{') {
        std::string value = core::PercentDecode(segments[i]);
        // Decoded parameters never carry path structure (no traversal).
        if (value.empty() || value == "." || value == ".." || value.find('/') != std::string::npos) {
          ok = false;
        } else {
          found.emplace_back(want.substr(1, want.size() - 2), std::move(value));
        }
      } else {
        ok = want == segments[i];
      }
    }
    if (!ok) continue;
    match.path_matched = true;
    if (route->method != method) continue;
    match.route = route.get();
    match.params = std::move(found);
    break;
  }
  return match;
}

}  // namespace rest_internal

std::vector<RestRouteInfo> RestRoutes() {
  std::vector<RestRouteInfo> out;
  for (const auto& r : rest_internal::BuildRoutes(RestServices{})) {
    out.push_back({r->method, r->pattern, r->rpc, std::string(ScopeName(r->scope))});
  }
  // SMD's two routes call IssuePlayback and RevokeSession, under their scopes.
  out.push_back({"GET", "/tokengenerate?id={asset_id}", "",
                 std::string(ScopeName(*RpcScope(rest_internal::kIssuePlaybackRpc)))});
  out.push_back({"POST", "/sessionrevoke?sessionid={session_id}", "",
                 std::string(ScopeName(*RpcScope(rest_internal::kRevokeSessionRpc)))});
  return out;
}

}  // namespace edgepass::server
