#include "client/sidecar/route_modes.h"

#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "core/validator.h"

namespace edgepass::sidecar {

absl::string_view EnforcementModeName(EnforcementMode mode) {
  switch (mode) {
    case EnforcementMode::kEnforce:
      return "enforce";
    case EnforcementMode::kLogOnly:
      return "log-only";
    case EnforcementMode::kOff:
      return "off";
  }
  return "enforce";
}

absl::StatusOr<EnforcementMode> ParseEnforcementMode(absl::string_view name) {
  if (name == "enforce") return EnforcementMode::kEnforce;
  if (name == "log-only") return EnforcementMode::kLogOnly;
  if (name == "off") return EnforcementMode::kOff;
  return absl::InvalidArgumentError(
      absl::StrCat("mode '", name, "' must be enforce, log-only or off"));
}

absl::StatusOr<RouteMode> ParseRouteMode(absl::string_view text) {
  const size_t eq = text.rfind('=');
  if (eq == absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", text, "' must be PREFIX=MODE"));
  }
  absl::StatusOr<EnforcementMode> mode =
      ParseEnforcementMode(text.substr(eq + 1));
  if (!mode.ok()) return mode.status();
  return RouteMode(std::string(text.substr(0, eq)), *mode);
}

absl::StatusOr<RouteModes> RouteModes::Create(std::vector<RouteMode> routes) {
  absl::flat_hash_set<std::string> seen;
  for (const auto& [prefix, mode] : routes) {
    if (prefix.empty() || prefix[0] != '/' || prefix.size() > 1024 ||
        (prefix != "/" && !core::IsSafePath(prefix))) {
      return absl::InvalidArgumentError(
          absl::StrCat("route prefix '", prefix,
                       "' must be a path starting with '/' (no dot segments, "
                       "'//' or escapes)"));
    }
    if (!seen.insert(prefix).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("route prefix '", prefix, "' given twice"));
    }
  }
  std::stable_sort(routes.begin(), routes.end(),
                   [](const RouteMode& a, const RouteMode& b) {
                     return a.first.size() > b.first.size();
                   });
  RouteModes out;
  out.routes_ = std::move(routes);
  return out;
}

EnforcementMode RouteModes::ModeFor(absl::string_view origin_path) const {
  for (const auto& [prefix, mode] : routes_) {
    if (core::PathPrefixMatches(prefix, origin_path)) return mode;
  }
  return EnforcementMode::kEnforce;
}

}  // namespace edgepass::sidecar
