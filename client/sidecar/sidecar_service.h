// The sidecar's HTTP endpoints, as an edgepass::http handler:
//   GET /healthz  200 {"status":"ok",...} once ready (StateSink::ready), 503 before
//   GET /stats    decision counters (SidecarStats) and the state version
//   anything else the nginx auth_request check (contract: auth_mapping.h),
//                 conventionally GET /auth
//
//   SidecarService service(&validator, &sink, *RouteModes::Create(routes),
//   &stats, LogEvent); auto server = http::Server::Start(opts, [&](const
//   http::Request& r) { return service.Handle(r); });
#ifndef EDGEPASS_CLIENT_SIDECAR_SIDECAR_SERVICE_H_
#define EDGEPASS_CLIENT_SIDECAR_SIDECAR_SERVICE_H_

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "client/sidecar/cloudfront_auth.h"
#include "client/sidecar/event_log.h"
#include "client/sidecar/route_modes.h"
#include "client/sidecar/sidecar_stats.h"
#include "client/sidecar/state_sink.h"
#include "client/validator/edge_validator.h"
#include "http/http_message.h"

namespace edgepass::sidecar {

// Thread-safe; all pointers must outlive it.
class SidecarService {
 public:
  SidecarService(const client::EdgeValidator* validator, const StateSink* sink,
                 RouteModes modes, SidecarStats* stats, LogSink log);

  http::Response Handle(const http::Request& request) const {
    return Handle(request, absl::Now());
  }
  http::Response Handle(const http::Request& request, absl::Time now) const;

  // Requests under `cloudfront`'s prefixes are checked as CloudFront signed
  // URLs or cookies (cloudfront_auth.h), in their route's mode, instead of as
  // tokens. nullptr (the default): none. Call before serving; it must
  // outlive this service.
  void set_cloudfront(const CloudFrontAuth* cloudfront) {
    cloudfront_ = cloudfront;
  }

 private:
  // The response to `request`; sets `endpoint` to the one that answered.
  http::Response Route(const http::Request& request, absl::Time now,
                       SidecarEndpoint* endpoint) const;

  // The auth check. Per mode of the route (RouteModes on the origin path):
  // enforce -> allow or deny; log-only -> allow, with X-Edgepass-Would-Deny,
  // a counter and a log line when it would have denied; off -> allow
  // unchecked. A path that is not safe (core::IsSafePath) is denied as
  // unsafe_path in every mode: its route cannot be told reliably.
  http::Response Auth(const http::Request& request, absl::Time now) const;

  const client::EdgeValidator* const validator_;
  const StateSink* const sink_;
  const RouteModes modes_;
  SidecarStats* const stats_;
  const LogSink log_;
  const CloudFrontAuth* cloudfront_ = nullptr;
};

}  // namespace edgepass::sidecar

#endif  // EDGEPASS_CLIENT_SIDECAR_SIDECAR_SERVICE_H_
