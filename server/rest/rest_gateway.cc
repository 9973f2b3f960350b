#include "server/rest/rest_gateway.h"

#include <arpa/inet.h>

#include <array>
#include <cstring>
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
#include "google/protobuf/util/json_util.h"
#include "logging/json_log.h"
#include "server/api/rpc_scopes.h"
#include "server/rest/rest_internal.h"

namespace edgepass::server {

namespace pb = google::protobuf;

// One v1 route: METHOD + pattern, the RPC it calls, where the body goes.
struct RestGateway::Route {
  std::string method;
  std::vector<std::string> segments;  // "v1", "assets", "{id}"
  std::string pattern;
  std::string rpc;
  Scope scope;
  std::string body;  // "*" (whole request), a field name, or "" (no body)
  std::function<std::unique_ptr<pb::Message>()> new_request;
  std::function<std::unique_ptr<pb::Message>()> new_response;
  std::function<absl::Status(const pb::Message&, pb::Message*)> call;
};

// An address range: 16 bytes (IPv4 as ::ffff:a.b.c.d) and a prefix length.
struct RestGateway::Network {
  std::array<uint8_t, 16> bytes{};
  int prefix = 0;
};

namespace {

constexpr size_t kMaxRequestIdBytes = 64;
constexpr size_t kMaxSmdIdBytes = 200;

// SMD's playback API routes.
constexpr absl::string_view kTokenGenerate = "/tokengenerate";
constexpr absl::string_view kSessionRevoke = "/sessionrevoke";

bool ParseAddress(absl::string_view text, std::array<uint8_t, 16>* out) {
  std::string s(text);
  in_addr v4;
  if (inet_pton(AF_INET, s.c_str(), &v4) == 1) {
    out->fill(0);
    (*out)[10] = (*out)[11] = 0xff;
    std::memcpy(out->data() + 12, &v4, 4);
    return true;
  }
  in6_addr v6;
  if (inet_pton(AF_INET6, s.c_str(), &v6) == 1) {
    std::memcpy(out->data(), &v6, 16);
    return true;
  }
  return false;
}

template <typename Api, typename Req, typename Resp>
std::unique_ptr<RestGateway::Route> MakeRoute(
    std::string method, std::string pattern, std::string rpc, std::string body, const Api* api,
    absl::Status (Api::*fn)(const Req&, Resp*) const) {
  auto route = std::make_unique<RestGateway::Route>();
  route->method = std::move(method);
  route->pattern = pattern;
  route->segments = absl::StrSplit(absl::string_view(pattern).substr(1), '/');
  route->scope = *RpcScope(rpc);
  route->rpc = std::move(rpc);
  route->body = std::move(body);
  route->new_request = [] { return std::make_unique<Req>(); };
  route->new_response = [] { return std::make_unique<Resp>(); };
  route->call = [api, fn](const pb::Message& q, pb::Message* r) {
    if (api == nullptr) return absl::UnimplementedError("not served here");
    return (api->*fn)(static_cast<const Req&>(q), static_cast<Resp*>(r));
  };
  return route;
}

std::vector<std::unique_ptr<RestGateway::Route>> BuildRoutes(const RestServices& s) {
  using Playback = PlaybackApi;
  using Catalog = CatalogApi;
  using Sessions = SessionApi;
  using EdgeSync = EdgeSyncApi;
  using Keys = KeyApi;
  const std::string p = "/edgepass.v1.PlaybackService/", c = "/edgepass.v1.CatalogService/",
                    ss = "/edgepass.v1.SessionService/", e = "/edgepass.v1.EdgeSyncService/",
                    k = "/edgepass.v1.KeyService/";
  std::vector<std::unique_ptr<RestGateway::Route>> r;
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
  return r;
}

// Sets the string field at dotted `path` of `message`.
absl::Status SetPathField(pb::Message* message, absl::string_view path, const std::string& value) {
  std::vector<absl::string_view> parts = absl::StrSplit(path, '.');
  for (size_t i = 0; i < parts.size(); ++i) {
    const pb::FieldDescriptor* f = message->GetDescriptor()->FindFieldByName(std::string(parts[i]));
    if (f == nullptr || f->is_repeated()) return absl::InternalError(absl::StrCat("bad route field ", path));
    if (i + 1 < parts.size()) {
      if (f->cpp_type() != pb::FieldDescriptor::CPPTYPE_MESSAGE) {
        return absl::InternalError(absl::StrCat("bad route field ", path));
      }
      message = message->GetReflection()->MutableMessage(message, f);
    } else if (f->cpp_type() == pb::FieldDescriptor::CPPTYPE_STRING) {
      message->GetReflection()->SetString(message, f, value);
    } else {
      return absl::InternalError(absl::StrCat("bad route field ", path));
    }
  }
  return absl::OkStatus();
}

// Sets a top-level scalar field from a query parameter (by proto or JSON name).
absl::Status SetQueryField(pb::Message* message, const std::string& name, const std::string& value) {
  const pb::Descriptor* d = message->GetDescriptor();
  const pb::FieldDescriptor* f = d->FindFieldByName(name);
  if (f == nullptr) f = d->FindFieldByCamelcaseName(name);
  if (f == nullptr || f->is_repeated() || f->cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE) {
    return absl::InvalidArgumentError(absl::StrCat(name, ": unknown query parameter"));
  }
  const pb::Reflection* r = message->GetReflection();
  auto bad = [&] { return absl::InvalidArgumentError(absl::StrCat(name, ": bad value")); };
  switch (f->cpp_type()) {
    case pb::FieldDescriptor::CPPTYPE_STRING: r->SetString(message, f, value); break;
    case pb::FieldDescriptor::CPPTYPE_BOOL:
      if (value == "true" || value == "1" || value.empty()) {
        r->SetBool(message, f, true);
      } else if (value == "false" || value == "0") {
        r->SetBool(message, f, false);
      } else {
        return bad();
      }
      break;
    case pb::FieldDescriptor::CPPTYPE_INT32: {
      int32_t v;
      if (!absl::SimpleAtoi(value, &v)) return bad();
      r->SetInt32(message, f, v);
      break;
    }
    case pb::FieldDescriptor::CPPTYPE_UINT64: {
      uint64_t v;
      if (!absl::SimpleAtoi(value, &v)) return bad();
      r->SetUInt64(message, f, v);
      break;
    }
    default: return bad();
  }
  return absl::OkStatus();
}

bool IsJsonContentType(const http::Request& request) {
  const std::string* type = request.headers.Find("content-type");
  if (type == nullptr) return false;
  absl::string_view media = absl::StripAsciiWhitespace(absl::string_view(*type).substr(0, type->find(';')));
  return absl::EqualsIgnoreCase(media, "application/json");
}

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

}  // namespace

namespace rest_internal {
namespace {

const char* CodeName(absl::StatusCode code) {
  static constexpr const char* kNames[] = {
      "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
      "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",
      "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"};
  const int i = static_cast<int>(code);
  return i >= 0 && i <= 16 ? kNames[i] : "UNKNOWN";
}

// The field a service error names: the message's leading "a.b[0].c:" if any.
std::string FieldOf(absl::string_view message) {
  const size_t colon = message.find(": ");
  if (colon == absl::string_view::npos || colon == 0) return "";
  absl::string_view head = message.substr(0, colon);
  for (char ch : head) {
    // '-' for header names ("x-forwarded-for").
    if (!absl::ascii_isalnum(ch) && ch != '_' && ch != '.' && ch != '[' &&
        ch != ']' && ch != '-')
      return "";
  }
  return std::string(head);
}

}  // namespace

http::Response ErrorResponse(absl::StatusCode code, absl::string_view message) {
  std::string body = absl::StrCat("{\"error\":{\"code\":\"", CodeName(code),
                                  "\",\"message\":", logging::JsonString(message));
  if (std::string field = FieldOf(message); !field.empty()) {
    absl::StrAppend(&body, ",\"field\":", logging::JsonString(field));
  }
  body += "}}";
  http::Response response = http::Response::Json(HttpStatusOf(static_cast<int>(code)), std::move(body));
  if (code == absl::StatusCode::kUnauthenticated) response.headers.Set("WWW-Authenticate", "Bearer");
  return response;
}

http::Response ErrorResponse(const absl::Status& status) {
  return ErrorResponse(status.code(), status.message());
}

bool IsSmdId(absl::string_view id) {
  if (id.empty() || id.size() > kMaxSmdIdBytes) return false;
  for (char c : id) {
    if (!absl::ascii_isalnum(c) && c != '_') return false;
  }
  return true;
}

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

int HttpStatusOf(int grpc_code) {
  switch (static_cast<absl::StatusCode>(grpc_code)) {
    case absl::StatusCode::kOk: return 200;
    case absl::StatusCode::kCancelled: return 499;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange: return 400;
    case absl::StatusCode::kDeadlineExceeded: return 504;
    case absl::StatusCode::kNotFound: return 404;
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kAborted: return 409;
    case absl::StatusCode::kPermissionDenied: return 403;
    case absl::StatusCode::kUnauthenticated: return 401;
    case absl::StatusCode::kResourceExhausted: return 429;
    case absl::StatusCode::kFailedPrecondition: return 412;
    case absl::StatusCode::kUnimplemented: return 501;
    case absl::StatusCode::kUnavailable: return 503;
    default: return 500;
  }
}

std::vector<RestRouteInfo> RestRoutes() {
  std::vector<RestRouteInfo> out;
  for (const auto& r : BuildRoutes(RestServices{})) {
    out.push_back({r->method, r->pattern, r->rpc, std::string(ScopeName(r->scope))});
  }
  out.push_back({"GET", "/tokengenerate?id={asset_id}", "", "issue"});
  out.push_back({"POST", "/sessionrevoke?sessionid={session_id}", "", "revoke"});
  return out;
}

RestGateway::RestGateway(const AccessPolicy* access, RestGatewayOptions options)
    : access_(access), options_(std::move(options)) {}

RestGateway::~RestGateway() = default;

absl::StatusOr<std::unique_ptr<RestGateway>> RestGateway::Create(RestServices services,
                                                                 const AccessPolicy* access,
                                                                 RestGatewayOptions options) {
  std::unique_ptr<RestGateway> g(new RestGateway(access, std::move(options)));
  for (const std::string& cidr : g->options_.trusted_proxies) {
    std::pair<std::string, std::string> parts = absl::StrSplit(cidr, absl::MaxSplits('/', 1));
    Network n;
    const bool v4 = parts.first.find(':') == std::string::npos;
    int prefix = v4 ? 32 : 128;
    if (!ParseAddress(parts.first, &n.bytes) ||
        (!parts.second.empty() && (!absl::SimpleAtoi(parts.second, &prefix) || prefix < 0 ||
                                   prefix > (v4 ? 32 : 128))) ||
        (cidr.find('/') != std::string::npos && parts.second.empty())) {
      return absl::InvalidArgumentError(
          absl::StrCat("--trusted-proxies: \"", cidr, "\" is not an address or CIDR range"));
    }
    n.prefix = v4 ? prefix + 96 : prefix;
    g->trusted_.push_back(n);
  }
  g->services_ = services;
  g->routes_ = BuildRoutes(services);
  return g;
}

bool RestGateway::IsTrustedProxy(const std::array<uint8_t, 16>& address) const {
  for (const Network& n : trusted_) {
    bool match = true;
    for (int bit = 0; bit < n.prefix && match; ++bit) {
      const uint8_t mask = static_cast<uint8_t>(0x80 >> (bit % 8));
      match = (address[bit / 8] & mask) == (n.bytes[bit / 8] & mask);
    }
    if (match) return true;
  }
  return false;
}

absl::StatusOr<std::string> RestGateway::ViewerIp(const http::Request& request,
                                                  bool* trusted) const {
  std::array<uint8_t, 16> peer;
  *trusted =
      ParseAddress(request.remote_address, &peer) && IsTrustedProxy(peer);
  if (!*trusted) return request.remote_address;
  // As SMD: CloudFront-Viewer-Address is "ip:port", set by CloudFront itself;
  // only believed when the operator says the trusted proxies are CloudFront
  // (a plain proxy passes the viewer's own copy along).
  if (const std::string* cf = request.headers.Find("cloudfront-viewer-address");
      cf != nullptr && options_.trust_cloudfront_headers) {
    const size_t colon = cf->rfind(':');
    std::array<uint8_t, 16> address;
    if (colon == std::string::npos || !ParseAddress(absl::string_view(*cf).substr(0, colon), &address)) {
      return absl::InvalidArgumentError("cloudfront-viewer-address: not IP:PORT");
    }
    return cf->substr(0, colon);
  }
  // X-Forwarded-For (every field, in order, as one list): each trusted hop
  // appends the address it was connected from, so the entries are walked
  // from the right; the first one that is not a trusted proxy is the
  // viewer. Entries left of it are the viewer's own text and never read.
  // An entry reached in the walk that is not an address (a port, brackets,
  // "unknown") means the chain cannot be followed: refused, never guessed.
  std::vector<absl::string_view> entries;
  for (const auto& [name, value] : request.headers.fields()) {
    if (!absl::EqualsIgnoreCase(name, "x-forwarded-for")) continue;
    for (absl::string_view entry : absl::StrSplit(value, ',')) {
      entry = absl::StripAsciiWhitespace(entry);
      // Empty list elements are allowed (RFC 9110 5.6.1) and skipped.
      if (!entry.empty()) entries.push_back(entry);
    }
  }
  std::string viewer = request.remote_address;
  for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
    std::array<uint8_t, 16> address;
    if (!ParseAddress(*it, &address)) {
      return absl::InvalidArgumentError(
          "x-forwarded-for: an entry appended by a trusted proxy is not an IP "
          "address");
    }
    viewer = std::string(*it);
    // When every entry is a trusted hop, the left-most is the viewer.
    if (!IsTrustedProxy(address)) break;
  }
  return viewer;
}

absl::Status RestGateway::ViewerFromConnection(
    const http::Request& request,
    const std::vector<std::pair<std::string, std::string>>& query,
    absl::string_view skip_query, v1::Viewer* viewer) const {
  bool trusted = false;
  EDGEPASS_ASSIGN_OR_RETURN(std::string ip, ViewerIp(request, &trusted));
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
  if (!options_.verify_id_token) {
    EDGEPASS_RETURN_IF_ERROR(Authorize(request, Scope::kIssue));
    return std::string();
  }
  const std::string* authorization = request.headers.Find("authorization");
  constexpr absl::string_view kBearer = "Bearer ";
  if (authorization == nullptr || !absl::StartsWithIgnoreCase(*authorization, kBearer)) {
    return absl::UnauthenticatedError("authorization: expected \"Bearer <id token>\"");
  }
  EDGEPASS_ASSIGN_OR_RETURN(std::vector<std::string> groups,
                            options_.verify_id_token(absl::string_view(*authorization).substr(kBearer.size())));
  for (const std::string& entitlement : options_.entitlements) {
    for (const std::string& group : groups) {
      if (group == entitlement) return entitlement;
    }
  }
  return std::string();  // no entitlement: the asset's fallback, if any
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
  if (response.status >= 400 || request.method != "GET") {
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
  std::vector<absl::string_view> segments = absl::StrSplit(path.substr(1), '/');
  const Route* matched = nullptr;
  std::vector<std::pair<std::string, std::string>> params;
  bool path_matched = false;
  for (const auto& route : routes_) {
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
    path_matched = true;
    if (route->method != request.method) continue;
    matched = route.get();
    params = std::move(found);
    break;
  }
  if (matched == nullptr) {
    if (path_matched) {
      http::Response r = ErrorResponse(absl::StatusCode::kUnimplemented,
                                       absl::StrCat("method ", request.method, " not allowed here"));
      r.status = 405;
      return r;
    }
    return ErrorResponse(absl::StatusCode::kNotFound, "no such route");
  }
  *route_name = matched->pattern;

  // Authentication and scope, exactly as for gRPC (or the viewer's ID token).
  const bool is_playback = matched->rpc == "/edgepass.v1.PlaybackService/IssuePlayback";
  std::string entitlement;
  if (is_playback) {
    absl::StatusOr<std::string> e = AuthorizePlayback(request);
    if (!e.ok()) return ErrorResponse(e.status());
    entitlement = *std::move(e);
  } else if (absl::Status allowed = Authorize(request, matched->scope); !allowed.ok()) {
    return ErrorResponse(allowed);
  }

  std::unique_ptr<pb::Message> message = matched->new_request();
  if (!matched->body.empty() && !request.body.empty()) {
    if (!IsJsonContentType(request)) {
      http::Response r = ErrorResponse(absl::StatusCode::kInvalidArgument,
                                       "content-type: must be application/json");
      r.status = 415;
      return r;
    }
    pb::Message* target = message.get();
    if (matched->body != "*") {
      const pb::FieldDescriptor* f = message->GetDescriptor()->FindFieldByName(matched->body);
      target = message->GetReflection()->MutableMessage(message.get(), f);
    }
    pb::util::JsonParseOptions parse;
    if (pb::util::Status s = pb::util::JsonStringToMessage(request.body, target, parse); !s.ok()) {
      return ErrorResponse(absl::StatusCode::kInvalidArgument,
                           absl::StrCat("body: ", std::string(s.message())));
    }
  } else if (!request.body.empty()) {
    return ErrorResponse(absl::StatusCode::kInvalidArgument, "body: this route takes none");
  }
  for (const auto& [name, value] : core::ParseQueryString(query_text)) {
    if (request.method != "GET") {
      return ErrorResponse(absl::StatusCode::kInvalidArgument,
                           absl::StrCat(name, ": query parameters only on GET routes"));
    }
    if (absl::Status s = SetQueryField(message.get(), name, value); !s.ok()) return ErrorResponse(s);
  }
  for (const auto& [field, value] : params) {
    if (absl::Status s = SetPathField(message.get(), field, value); !s.ok()) return ErrorResponse(s);
    if (field == "session_id") *session_id = value;
  }

  if (is_playback && options_.verify_id_token) {
    // Viewer mode: what the token binds comes from the connection and the
    // ID token, never from the viewer's body; the issuer makes the session id.
    auto* issue = static_cast<v1::IssuePlaybackRequest*>(message.get());
    if (absl::Status s = RefuseViewerChosenBindings(*issue); !s.ok())
      return ErrorResponse(s);
    issue->set_entitlement(entitlement);
    if (absl::Status s =
            ViewerFromConnection(request, {}, "", issue->mutable_viewer());
        !s.ok()) {
      return ErrorResponse(s);
    }
  }

  std::unique_ptr<pb::Message> reply = matched->new_response();
  absl::Status status = matched->call(*message, reply.get());
  if (!status.ok()) return ErrorResponse(status);
  if (const pb::FieldDescriptor* f = reply->GetDescriptor()->FindFieldByName("session_id");
      f != nullptr && f->cpp_type() == pb::FieldDescriptor::CPPTYPE_STRING && !f->is_repeated()) {
    *session_id = reply->GetReflection()->GetString(*reply, f);
  }
  std::string json;
  pb::util::JsonPrintOptions print;
  if (pb::util::Status s = pb::util::MessageToJsonString(*reply, &json, print); !s.ok()) {
    return ErrorResponse(absl::StatusCode::kInternal, "internal error");
  }
  http::Response response = http::Response::Json(200, std::move(json));
  if (is_playback) rest_internal::AddSetCookies(*static_cast<v1::IssuePlaybackResponse*>(reply.get()), &response);
  return response;
}

}  // namespace edgepass::server
