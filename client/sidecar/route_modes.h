// Enforcement modes per route prefix, so operators can roll tokens out
// safely: `enforce` refuses bad requests, `log-only` lets them through but
// counts and logs what would have been refused, `off` checks nothing.
//
//   absl::StatusOr<RouteModes> modes = RouteModes::Create({{"/", kEnforce},
//   {"/free/", kOff}}); EnforcementMode m = modes->ModeFor("/free/a.ts");   //
//   kOff: longest prefix wins auto route = ParseRouteMode("/live/=log-only");
//   // {"/live/", kLogOnly}
#ifndef EDGEPASS_CLIENT_SIDECAR_ROUTE_MODES_H_
#define EDGEPASS_CLIENT_SIDECAR_ROUTE_MODES_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace edgepass::sidecar {

enum class EnforcementMode { kEnforce, kLogOnly, kOff };

// "enforce", "log-only", "off".
absl::string_view EnforcementModeName(EnforcementMode mode);
// INVALID_ARGUMENT for anything but the three names.
absl::StatusOr<EnforcementMode> ParseEnforcementMode(absl::string_view name);

using RouteMode = std::pair<std::string, EnforcementMode>;

// "PREFIX=MODE". INVALID_ARGUMENT naming the problem (no '=', prefix not
// starting with '/' or unsafe, unknown mode).
absl::StatusOr<RouteMode> ParseRouteMode(absl::string_view text);

// Immutable, thread-safe after construction.
class RouteModes {
 public:
  // Prefixes match ORIGIN paths (token stripped) the way token `paths` do
  // (core::PathPrefixMatches): one ending in '/' is a plain prefix, one
  // without matches only at a segment boundary. Paths no prefix matches are
  // enforced. INVALID_ARGUMENT for a bad or repeated prefix.
  static absl::StatusOr<RouteModes> Create(std::vector<RouteMode> routes);

  // The mode of the longest matching prefix; kEnforce when none matches.
  EnforcementMode ModeFor(absl::string_view origin_path) const;

  const std::vector<RouteMode>& routes() const { return routes_; }

 private:
  std::vector<RouteMode> routes_;  // longest prefix first
};

}  // namespace edgepass::sidecar

#endif  // EDGEPASS_CLIENT_SIDECAR_ROUTE_MODES_H_
