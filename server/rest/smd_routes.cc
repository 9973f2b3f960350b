// SMD's playback API on the REST gateway: GET /tokengenerate?id=ID and
// POST /sessionrevoke?sessionid=ID, answering as SMD's API Lambdas do
// (status codes, the body fields `playback_url` and `token_policy`, the
// revoke confirmation text).
#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "core/token_issuer.h"
#include "core/url_query.h"
#include "server/api/rpc_scopes.h"
#include "server/rest/rest_gateway.h"
#include "server/rest/rest_internal.h"
#include "server/state/catalog_rules.h"
#include "text/json_string.h"

namespace edgepass::server {
http::Response RestGateway::TokenGenerate(const http::Request& request, std::string* session_id) const {
  const auto query = core::ParseQueryString(rest_internal::QueryText(request.target));
  bool present = false;
  const std::string id = rest_internal::QueryValue(query, "id", &present);
  // Any id the catalog can hold (catalog_rules), not only SMD's narrower
  // /^\w{1,200}$/: an asset "movie.1" plays through this route too.
  if (!present) return rest_internal::ErrorResponse(core::FieldError("id", "required"));
  if (absl::Status valid = catalog_rules::CheckAssetId(id, "id"); !valid.ok()) {
    return rest_internal::ErrorResponse(valid);
  }
  v1::IssuePlaybackRequest issue;
  issue.set_asset_id(id);
  absl::StatusOr<std::string> entitlement = AuthorizePlayback(request);
  if (!entitlement.ok()) return rest_internal::ErrorResponse(entitlement.status());
  issue.set_entitlement(*entitlement);

  v1::Viewer* viewer = issue.mutable_viewer();
  if (absl::Status s = ViewerFromConnection(request, query, "id", viewer);
      !s.ok()) {
    return rest_internal::ErrorResponse(s);
  }

  v1::IssuePlaybackResponse reply;
  absl::Status status = services_.playback->IssuePlayback(issue, &reply);
  if (!status.ok()) return rest_internal::ErrorResponse(status);
  *session_id = reply.session_id();

  // SMD's body: the URL and which viewer attributes the token binds.
  auto binds = [&](absl::string_view header) {
    for (const std::string& h : reply.token_policy().headers()) {
      if (absl::EqualsIgnoreCase(h, header)) return 1;
    }
    return 0;
  };
  std::string body = absl::StrCat("{\"playback_url\":", text::JsonString(reply.playback_url()),
                                  ",\"token_policy\":{\"ip\":", reply.token_policy().ip() ? 1 : 0,
                                  ",\"ip_value\":", text::JsonString(viewer->ip()), ",\"ua\":", binds("user-agent"));
  if (const std::string* ua = request.headers.Find("user-agent")) {
    absl::StrAppend(&body, ",\"ua_value\":", text::JsonString(*ua));
  }
  absl::StrAppend(&body, ",\"referer\":", binds("referer"));
  if (const std::string* referer = request.headers.Find("referer")) {
    absl::StrAppend(&body, ",\"referer_value\":", text::JsonString(*referer));
  }
  body += "}}";
  http::Response response = http::Response::Json(200, std::move(body));
  rest_internal::AddSetCookies(reply, &response);
  return response;
}

http::Response RestGateway::SessionRevoke(const http::Request& request, std::string* session_id) const {
  const auto query = core::ParseQueryString(rest_internal::QueryText(request.target));
  bool present = false;
  const std::string id = rest_internal::QueryValue(query, "sessionid", &present);
  // The one session id rule of every API (core): a session this server
  // issued or stores can always be revoked here.
  if (!present) return rest_internal::ErrorResponse(core::FieldError("sessionid", "required"));
  if (absl::Status valid = core::CheckSessionId(id, "sessionid"); !valid.ok()) {
    return rest_internal::ErrorResponse(valid);
  }
  *session_id = id;
  static const Scope revoke_scope = RpcScope(rest_internal::kRevokeSessionRpc).value();
  if (absl::Status allowed = Authorize(request, revoke_scope); !allowed.ok()) {
    return rest_internal::ErrorResponse(allowed);
  }
  v1::RevokeSessionRequest revoke;
  revoke.set_session_id(id);
  revoke.set_reason("sessionrevoke");
  v1::RevokedSession reply;
  absl::Status status = services_.sessions->RevokeSession(revoke, &reply);
  if (!status.ok()) return rest_internal::ErrorResponse(status);
  http::Response response;
  response.status = 200;
  response.headers.Set("Content-Type", "text/plain; charset=utf-8");
  response.body = "Session submitted to the revocation list";
  return response;
}

}  // namespace edgepass::server
