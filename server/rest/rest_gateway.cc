#include "server/rest/rest_gateway.h"

#include <arpa/inet.h>

#include <array>
#include <cstring>
#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "core/crypto.h"
#include "core/random.h"
#include "core/status_macros.h"
#include "core/url_query.h"
#include "google/protobuf/arena.h"
#include "google/protobuf/util/json_util.h"
#include "logging/json_log.h"
#include "server/api/rpc_scopes.h"
#include "server/rest/rest_internal.h"

namespace edgepass::server {

namespace pb = google::protobuf;

namespace {

constexpr size_t kMaxRequestIdBytes = 64;

// SMD's playback API routes.
constexpr absl::string_view kTokenGenerate = "/tokengenerate";
constexpr absl::string_view kSessionRevoke = "/sessionrevoke";

// Headers never handed to the issuer as viewer attributes: credentials.
bool IsCredentialHeader(absl::string_view name) {
  return absl::EqualsIgnoreCase(name, "authorization") ||
         absl::EqualsIgnoreCase(name, "cookie") ||
         absl::EqualsIgnoreCase(name, "proxy-authorization");
}

// INVALID_ARGUMENT naming the first viewer attribute (or the entitlement)
// an IssuePlayback body sets: in viewer mode the viewer chooses none of them.
absl::Status RefuseViewerChosenBindings(
    const v1::IssuePlaybackRequest& request) {
  const v1::Viewer& v = request.viewer();
  const std::pair<bool, absl::string_view> fields[] = {
      {!v.ip().empty(), "viewer.ip"},
      {!v.country().empty(), "viewer.country"},
      {!v.region().empty(), "viewer.region"},
      {!v.city().empty(), "viewer.city"},
      {!v.session_id().empty(), "viewer.session_id"},
      {!v.headers().empty(), "viewer.headers"},
      {!v.query().empty(), "viewer.query"},
      {!request.entitlement().empty(), "entitlement"},
  };
  for (const auto& [set, field] : fields) {
    if (set) {
      return absl::InvalidArgumentError(
          absl::StrCat(field,
                       ": set by the server in viewer mode (from the "
                       "connection, trusted proxies and the ID token), "
                       "not by the request"));
    }
  }
  return absl::OkStatus();
}

// A caller-supplied X-Request-Id when it is short and plain, else a new one.
std::string RequestId(const http::Request& request) {
  if (const std::string* given = request.headers.Find("x-request-id");
      given != nullptr && !given->empty() && given->size() <= kMaxRequestIdBytes) {
    bool plain = true;
    for (char c : *given) plain = plain && (absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.');
    if (plain) return *given;
  }
  static core::SecureRandom random;
  std::array<uint8_t, 8> bytes;
  random.Fill(absl::MakeSpan(bytes));
  return core::HexEncode(absl::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

// The ID token of "Authorization: Bearer <id token>", or nullopt.
std::optional<absl::string_view> BearerToken(const http::Request& request) {
  const std::string* authorization = request.headers.Find("authorization");
  constexpr absl::string_view kBearer = "Bearer ";
  if (authorization == nullptr || !absl::StartsWithIgnoreCase(*authorization, kBearer)) return std::nullopt;
  return absl::string_view(*authorization).substr(kBearer.size());
}

}  // namespace

namespace rest_internal {

std::string QueryValue(const std::vector<std::pair<std::string, std::string>>& query, absl::string_view name,
                       bool* present) {
  for (const auto& [k, v] : query) {
    if (k == name) {
      *present = true;
      return v;
    }
  }
  *present = false;
  return "";
}

void AddSetCookies(const v1::IssuePlaybackResponse& reply, http::Response* response) {
  for (const v1::Cookie& cookie : reply.cookies()) response->headers.Add("Set-Cookie", cookie.set_cookie());
  if (reply.cookies_size() > 0) response->headers.Set("Cache-Control", "no-store");
}

absl::string_view QueryText(absl::string_view target) {
  const size_t q = target.find('?');
  return q == absl::string_view::npos ? absl::string_view() : target.substr(q + 1);
}

}  // namespace rest_internal

using rest_internal::ErrorResponse;


RestGateway::RestGateway(const AccessPolicy* access, RestGatewayOptions options)
    : access_(access), options_(std::move(options)) {}

RestGateway::~RestGateway() = default;

absl::StatusOr<std::unique_ptr<RestGateway>> RestGateway::Create(RestServices services,
                                                                 const AccessPolicy* access,
                                                                 RestGatewayOptions options) {
  std::unique_ptr<RestGateway> g(new RestGateway(access, std::move(options)));
  EDGEPASS_ASSIGN_OR_RETURN(g->trusted_, TrustedProxies::Parse(g->options_.trusted_proxies));
  g->services_ = services;
  g->routes_ = rest_internal::BuildRoutes(services);
  return g;
}

absl::Status RestGateway::ViewerFromConnection(
    const http::Request& request,
    const std::vector<std::pair<std::string, std::string>>& query,
    absl::string_view skip_query, v1::Viewer* viewer) const {
  bool trusted = false;
  EDGEPASS_ASSIGN_OR_RETURN(std::string ip, trusted_.ViewerIp(request, options_.trust_cloudfront_headers, &trusted));
  viewer->set_ip(std::move(ip));
  if (trusted && options_.trust_cloudfront_headers) {  // geo only from CloudFront
    if (const std::string* v =
            request.headers.Find("cloudfront-viewer-country"))
      viewer->set_country(*v);
    if (const std::string* v =
            request.headers.Find("cloudfront-viewer-country-region"))
      viewer->set_region(*v);
    if (const std::string* v = request.headers.Find("cloudfront-viewer-city"))
      viewer->set_city(*v);
  }
  for (const auto& [name, value] : request.headers.fields()) {
    if (!IsCredentialHeader(name))
      (*viewer->mutable_headers())[absl::AsciiStrToLower(name)] = value;
  }
  for (const auto& [name, value] : query) {
    if (name != skip_query) (*viewer->mutable_query())[name] = value;
  }
  return absl::OkStatus();
}

absl::Status RestGateway::Authorize(const http::Request& request, Scope scope) const {
  const std::string* authorization = request.headers.Find("authorization");
  EDGEPASS_ASSIGN_OR_RETURN(
      Caller caller, access_->Authenticate(authorization == nullptr ? "" : *authorization, request.peer_identity));
  return AccessPolicy::Authorize(caller, scope);
}

absl::StatusOr<std::string> RestGateway::AuthorizePlayback(const http::Request& request) const {
  if (options_.viewer_tokens == nullptr) {
    static const Scope issue = RpcScope(rest_internal::kIssuePlaybackRpc).value();
    EDGEPASS_RETURN_IF_ERROR(Authorize(request, issue));
    return std::string();
  }
  const std::optional<absl::string_view> id_token = BearerToken(request);
  if (!id_token.has_value()) {
    return absl::UnauthenticatedError("authorization: expected \"Bearer <id token>\"");
  }
  EDGEPASS_ASSIGN_OR_RETURN(
      OidcIdentity viewer,
      options_.viewer_tokens->Verify(*id_token, request.off_loop ? JwksWait::kAllowed : JwksWait::kNever));
  for (const std::string& entitlement : options_.entitlements) {
    for (const std::string& group : viewer.groups) {
      if (group == entitlement) return entitlement;
    }
  }
  return std::string();  // no entitlement: the asset's fallback, if any
}

bool RestGateway::MayWait(const http::Request& request) const {
  const absl::string_view path = http::TargetPath(request.target);
  const bool playback = request.method == "GET"    ? path == kTokenGenerate
                        : request.method == "POST" ? absl::StartsWith(path, "/v1/assets/") &&
                                                         absl::EndsWith(path, "/playback") &&
                                                         absl::StrContains(path.substr(11), '/')
                                                   : false;
  if (!playback) {
    // As the call's row in the rule table says (gRPC follows it too); what
    // no route serves is answered at once. IssueToken, on the hot path, and
    // SMD's revoke without matching the route table.
    static const bool token_waits = RpcMayWait(rest_internal::kIssueTokenRpc);
    static const bool revoke_waits = RpcMayWait(rest_internal::kRevokeSessionRpc);
    if (request.method == "POST" && path == "/v1/tokens") return token_waits;
    if (path == kSessionRevoke) return revoke_waits;
    if (path.empty() || path[0] != '/') return false;
    const rest_internal::Route* route = rest_internal::MatchRoute(routes_, request.method, path).route;
    return route != nullptr && route->waits;
  }
  // Playback waits only for the viewer-token verifier's JWKS.
  if (options_.viewer_tokens == nullptr) return false;
  const std::optional<absl::string_view> id_token = BearerToken(request);
  return id_token.has_value() && options_.viewer_tokens->MayWait(*id_token);
}

http::Response RestGateway::Handle(const http::Request& request) const {
  const absl::Time start = absl::Now();
  const std::string request_id = RequestId(request);
  std::string route = "(unmatched)";
  std::string session_id;
  http::Response response = Dispatch(request, &route, &session_id);
  response.headers.Set("X-Request-Id", request_id);
  const absl::Duration elapsed = absl::Now() - start;
  if (options_.on_request) options_.on_request(route, response.status, elapsed);
  // Errors and control-plane writes are logged; issuing (the data plane, at
  // thousands per second) is counted in metrics only.
  const bool issuing = route == "/v1/assets/{asset_id}/playback" || route == "/v1/tokens";
  if (response.status >= 400 || (request.method != "GET" && !issuing)) {
    logging::Line line = response.status >= 500 ? logging::Error("http_request") : logging::Info("http_request");
    line.Str("request_id", request_id).Str("method", request.method).Str("route", route).Int(
        "status", response.status).Double("ms", absl::ToDoubleMilliseconds(elapsed));
    if (!session_id.empty()) line.Str("session_id", session_id);
  }
  return response;
}

http::Response RestGateway::Dispatch(const http::Request& request, std::string* route_name, std::string* session_id) const {
  absl::string_view path = http::TargetPath(request.target);
  absl::string_view query_text = rest_internal::QueryText(request.target);
  if (path == kTokenGenerate || path == kSessionRevoke) {
    *route_name = std::string(path);
    const bool generate = path == kTokenGenerate;
    if (request.method != (generate ? "GET" : "POST")) {
      http::Response r = ErrorResponse(absl::StatusCode::kUnimplemented,
                                       absl::StrCat("method ", request.method, " not allowed on ", path));
      r.status = 405;
      r.headers.Set("Allow", generate ? "GET" : "POST");
      return r;
    }
    return generate ? TokenGenerate(request, session_id) : SessionRevoke(request, session_id);
  }
  if (path.empty() || path[0] != '/') {
    return ErrorResponse(absl::StatusCode::kInvalidArgument, "path: must start with '/'");
  }
  rest_internal::RouteMatch match = rest_internal::MatchRoute(routes_, request.method, path);
  const rest_internal::Route* matched = match.route;
  if (matched == nullptr) {
    if (match.path_matched) {
      http::Response r = ErrorResponse(absl::StatusCode::kUnimplemented,
                                       absl::StrCat("method ", request.method, " not allowed here"));
      r.status = 405;
      return r;
    }
    return ErrorResponse(absl::StatusCode::kNotFound, "no such route");
  }
  *route_name = matched->pattern;

  // Authentication and scope, exactly as for gRPC (or the viewer's ID token).
  const bool is_playback = matched->rpc == rest_internal::kIssuePlaybackRpc;
  std::string entitlement;
  if (is_playback) {
    absl::StatusOr<std::string> e = AuthorizePlayback(request);
    if (!e.ok()) return ErrorResponse(e.status());
    entitlement = *std::move(e);
  } else if (absl::Status allowed = Authorize(request, matched->scope); !allowed.ok()) {
    return ErrorResponse(allowed);
  }

  // The call's messages on one arena whose first block is on the stack:
  // the usual call allocates nothing for them.
  alignas(8) char first_block[4096];
  pb::ArenaOptions arena_options;
  arena_options.initial_block = first_block;
  arena_options.initial_block_size = sizeof(first_block);
  pb::Arena arena(arena_options);
  pb::Message* message = matched->new_request(&arena);
  if (std::optional<http::Response> bad =
          rest_internal::FillRequest(*matched, request, query_text, match.params, message)) {
    return *std::move(bad);
  }
  for (const auto& [field, value] : match.params) {
    if (field == "session_id") *session_id = value;
  }

  if (is_playback && options_.viewer_tokens != nullptr) {
    // Viewer mode: what the token binds comes from the connection and the
    // ID token, never from the viewer's body; the issuer makes the session id.
    auto* issue = static_cast<v1::IssuePlaybackRequest*>(message);
    if (absl::Status s = RefuseViewerChosenBindings(*issue); !s.ok())
      return ErrorResponse(s);
    issue->set_entitlement(entitlement);
    if (absl::Status s =
            ViewerFromConnection(request, {}, "", issue->mutable_viewer());
        !s.ok()) {
      return ErrorResponse(s);
    }
  }

  pb::Message* reply = matched->new_response(&arena);
  absl::Status status = matched->call(*message, reply);
  if (!status.ok()) return ErrorResponse(status);
  if (const pb::FieldDescriptor* f = reply->GetDescriptor()->FindFieldByName("session_id");
      f != nullptr && f->cpp_type() == pb::FieldDescriptor::CPPTYPE_STRING && !f->is_repeated()) {
    *session_id = reply->GetReflection()->GetString(*reply, f);
  }
  http::Response response = rest_internal::ReplyResponse(*reply);
  if (is_playback) rest_internal::AddSetCookies(*static_cast<v1::IssuePlaybackResponse*>(reply), &response);
  return response;
}

}  // namespace edgepass::server
