#include "client/sidecar/sidecar_service.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "client/sidecar/auth_mapping.h"
#include "text/json_string.h"

namespace edgepass::sidecar {
namespace {

using text::JsonString;

// One line for a request log-only let through: never the token (the path is
// the stripped one), its signature or any key.
std::string WouldDenyLine(const AuthSubrequest& sub, core::Reason reason) {
  return absl::StrCat(
      "{\"event\":\"would_deny\",\"mode\":\"log-only\",\"reason\":\"",
      core::ReasonName(reason),
      "\",\"path\":", JsonString(sub.unchecked_origin_path()),
      ",\"session_id\":", JsonString(sub.claimed_session_id()),
      ",\"client_ip\":", JsonString(sub.client_ip()), "}");
}

}  // namespace

SidecarService::SidecarService(const client::EdgeValidator* validator,
                               const StateSink* sink, RouteModes modes,
                               SidecarStats* stats, LogSink log)
    : validator_(validator),
      sink_(sink),
      modes_(std::move(modes)),
      stats_(stats),
      log_(std::move(log)) {}

http::Response SidecarService::Handle(const http::Request& request,
                                      absl::Time now) const {
  SidecarEndpoint endpoint = SidecarEndpoint::kAuth;
  http::Response response = Route(request, now, &endpoint);
  stats_->RecordResponse(endpoint, response.status);
  return response;
}

http::Response SidecarService::Route(const http::Request& request,
                                     absl::Time now,
                                     SidecarEndpoint* endpoint) const {
  const absl::string_view path = http::TargetPath(request.target);
  if (path == "/healthz") {
    *endpoint = SidecarEndpoint::kHealthz;
    const std::string state =
        absl::StrCat(",\"version\":", sink_->version(),
                     ",\"revoked\":", sink_->revoked_count(), "}");
    if (!sink_->ready()) {
      const char* status = sink_->key_count() == 0 ? "no keyring" : "no module state";
      return http::Response::Json(503, absl::StrCat("{\"status\":\"", status, "\"", state));
    }
    return http::Response::Json(200, "{\"status\":\"ok\"" + state);
  }
  if (path == "/stats") {
    *endpoint = SidecarEndpoint::kStats;
    return http::Response::Json(
        200, absl::StrCat("{\"version\":", sink_->version(),
                          ",\"revoked\":", sink_->revoked_count(),
                          ",\"decisions\":", stats_->ToJson(), "}"));
  }
  return Auth(request, now);
}

http::Response SidecarService::Auth(const http::Request& request,
                                    absl::Time now) const {
  AuthSubrequest sub;
  if (absl::Status parsed = AuthSubrequest::Parse(request, &sub);
      !parsed.ok()) {
    stats_->RecordBadRequest();
    return http::Response::Error(HttpStatusFor(parsed), parsed.message());
  }
  if (!core::IsSafePath(sub.path())) {
    stats_->RecordDenied(core::Reason::kUnsafePath);
    return DeniedResponse(core::Reason::kUnsafePath);
  }

  const EnforcementMode mode = modes_.ModeFor(sub.unchecked_origin_path());
  if (cloudfront_ != nullptr && cloudfront_->Covers(sub.path())) {
    return cloudfront_->Handle(sub, request, mode, now, stats_, log_);
  }
  if (mode == EnforcementMode::kOff) {
    stats_->RecordUnchecked();
    return AllowedResponse(sub.unchecked_origin_path(), {});
  }

  // A first segment without a token's shape: nothing to validate.
  const core::Decision decision =
      sub.has_token_segment()
          ? validator_->Check(sub.edge_request(), now)
          : core::Decision{.allow = false,
                           .reason = core::Reason::kMissingToken};
  if (decision.allow) {
    stats_->RecordAllowed();
    return AllowedResponse(decision.path, decision.session_id);
  }
  if (mode == EnforcementMode::kLogOnly) {
    stats_->RecordWouldDeny(decision.reason);
    if (log_) log_(WouldDenyLine(sub, decision.reason));
    return WouldDenyResponse(sub.unchecked_origin_path(), decision.reason);
  }
  stats_->RecordDenied(decision.reason);
  return DeniedResponse(decision.reason);
}

}  // namespace edgepass::sidecar
