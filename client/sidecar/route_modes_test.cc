#include "client/sidecar/route_modes.h"

#include "gtest/gtest.h"

namespace edgepass::sidecar {
namespace {

TEST(RouteModes, LongestPrefixWinsAtSegmentBoundaries) {
  absl::StatusOr<RouteModes> modes =
      RouteModes::Create({{"/", EnforcementMode::kEnforce},
                          {"/live", EnforcementMode::kLogOnly},
                          {"/live/free/", EnforcementMode::kOff}});
  ASSERT_TRUE(modes.ok()) << modes.status();
  EXPECT_EQ(modes->ModeFor("/vod/a.ts"), EnforcementMode::kEnforce);
  EXPECT_EQ(modes->ModeFor("/live/ch1/a.ts"), EnforcementMode::kLogOnly);
  EXPECT_EQ(modes->ModeFor("/live"), EnforcementMode::kLogOnly);
  EXPECT_EQ(modes->ModeFor("/lives/a.ts"), EnforcementMode::kEnforce);
  EXPECT_EQ(modes->ModeFor("/live/free/a.ts"), EnforcementMode::kOff);
}

TEST(RouteModes, UnmatchedPathsAreEnforced) {
  absl::StatusOr<RouteModes> modes =
      RouteModes::Create({{"/free/", EnforcementMode::kOff}});
  ASSERT_TRUE(modes.ok());
  EXPECT_EQ(modes->ModeFor("/paid/a.ts"), EnforcementMode::kEnforce);
  EXPECT_EQ(RouteModes::Create({})->ModeFor("/x"), EnforcementMode::kEnforce);
}

TEST(RouteModes, RefusesBadAndRepeatedPrefixes) {
  EXPECT_FALSE(RouteModes::Create({{"live", EnforcementMode::kOff}}).ok());
  EXPECT_FALSE(RouteModes::Create({{"/a/../b", EnforcementMode::kOff}}).ok());
  EXPECT_FALSE(RouteModes::Create({{"/a//b", EnforcementMode::kOff}}).ok());
  EXPECT_FALSE(RouteModes::Create({{"/a", EnforcementMode::kOff},
                                   {"/a", EnforcementMode::kEnforce}})
                   .ok());
}

TEST(ParseRouteMode, ReadsPrefixEqualsMode) {
  absl::StatusOr<RouteMode> r = ParseRouteMode("/live/=log-only");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->first, "/live/");
  EXPECT_EQ(r->second, EnforcementMode::kLogOnly);
  EXPECT_EQ(ParseRouteMode("/=off")->second, EnforcementMode::kOff);
  EXPECT_EQ(ParseRouteMode("/x=enforce")->second, EnforcementMode::kEnforce);
  EXPECT_EQ(ParseRouteMode("/x").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseRouteMode("/x=logonly").status().message(),
            "mode 'logonly' must be enforce, log-only or off");
  EXPECT_EQ(EnforcementModeName(EnforcementMode::kLogOnly), "log-only");
}

}  // namespace
}  // namespace edgepass::sidecar
