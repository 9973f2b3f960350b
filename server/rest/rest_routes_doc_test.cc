// docs/rest.md's REST table lists every route the gateway serves, with its
// scope.
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "server/api/rpc_scopes.h"
#include "server/rest/rest_gateway.h"
#include "tests/fakes/test_clock.h"
#include "tests/support/oidc_test_tokens.h"
#include "tests/support/temp_dir.h"

namespace edgepass::server {
namespace {

using testing::IdTokenClaims;
using testing::OidcTestKey;
using testing::WriteJwksFile;

TEST(RestRoutesDoc, DocListsEveryRouteAndScope) {
  std::ifstream in(EDGEPASS_REST_DOC_PATH);
  std::stringstream text;
  text << in.rdbuf();
  const std::string doc = text.str();
  ASSERT_FALSE(doc.empty()) << EDGEPASS_REST_DOC_PATH;
  for (const RestRouteInfo& route : RestRoutes()) {
    const std::string row = absl::StrCat("| ", route.method, " | `", route.pattern);
    const size_t at = doc.find(row);
    ASSERT_NE(at, std::string::npos) << "docs/rest.md has no row for "
                                     << route.method << " " << route.pattern;
    const std::string line = doc.substr(at, doc.find('\n', at) - at);
    EXPECT_NE(line.find(absl::StrCat("| ", route.scope, " |")), std::string::npos) << line;
  }
}

// REST serves the whole unary API: an RPC added to a proto without a route
// fails here (and a route's row in docs/rest.md is checked above).
TEST(RestRoutes, EveryUnaryRpcHasARoute) {
  const std::vector<RestRouteInfo> routes = RestRoutes();
  for (const DeclaredRpc& rpc : DeclaredRpcs()) {
    if (rpc.streaming) continue;
    bool routed = false;
    for (const RestRouteInfo& route : routes) routed = routed || route.rpc == rpc.full_method;
    EXPECT_TRUE(routed) << rpc.full_method << " has no REST route (rest_router.cc)";
  }
}

// A request whose target is the route's pattern with every parameter "x1".
http::Request RequestFor(const RestRouteInfo& route) {
  http::Request request;
  request.method = route.method;
  request.target = std::regex_replace(route.pattern.substr(0, route.pattern.find('?')), std::regex("\\{[a-z_]+\\}"),
                                      "x1");
  return request;
}

bool IsIssuing(const RestRouteInfo& route) {
  return route.rpc == "/edgepass.v1.PlaybackService/IssuePlayback" ||
         route.rpc == "/edgepass.v1.PlaybackService/IssueToken" || route.pattern.rfind("/tokengenerate", 0) == 0;
}

std::unique_ptr<RestGateway> Gateway(RestGatewayOptions options = {}) {
  static const AccessPolicy* open = new AccessPolicy(AccessPolicy::Open());
  absl::StatusOr<std::unique_ptr<RestGateway>> gateway = RestGateway::Create({}, open, std::move(options));
  EXPECT_TRUE(gateway.ok()) << gateway.status();
  return gateway.ok() ? *std::move(gateway) : nullptr;
}

// Whether a route may wait on a store, as its RPC's row in the rule table
// says (gRPC answers by the same row): such routes run off the event loops
// (the blocking pool), the others on them.
bool Waits(const RestRouteInfo& route) {
  if (route.rpc.empty()) {  // SMD's: /sessionrevoke revokes, /tokengenerate issues
    return RpcMayWait(route.method == "POST" ? "/edgepass.v1.SessionService/RevokeSession"
                                             : "/edgepass.v1.PlaybackService/IssuePlayback");
  }
  return RpcMayWait(route.rpc);
}

TEST(RestRoutes, ARouteWaitsExactlyWhenItsRpcMay) {
  std::unique_ptr<RestGateway> gateway = Gateway();
  ASSERT_NE(gateway, nullptr);
  for (const RestRouteInfo& route : RestRoutes()) {
    const http::Request request = RequestFor(route);
    EXPECT_EQ(gateway->MayWait(request), Waits(route)) << route.method << " " << request.target;
  }
  // The store calls wait; issuing and the replica's in-memory edge-sync
  // calls do not, nor does a request no route serves (answered at once).
  EXPECT_TRUE(RpcMayWait("/edgepass.v1.CatalogService/PutAsset"));
  EXPECT_TRUE(RpcMayWait("/edgepass.v1.SessionService/RevokeSession"));
  EXPECT_TRUE(RpcMayWait("/edgepass.v1.KeyService/RotateKeys"));
  EXPECT_FALSE(RpcMayWait("/edgepass.v1.PlaybackService/IssuePlayback"));
  EXPECT_FALSE(RpcMayWait("/edgepass.v1.EdgeSyncService/ListValidators"));
  http::Request unknown;
  unknown.method = "GET";
  unknown.target = "/v1/nothing-here";
  EXPECT_FALSE(gateway->MayWait(unknown));
}

// Viewer mode: a playback call whose ID token would have the verifier read
// its JWKS (the keys are due, or its kid is new and a re-read is allowed)
// runs off the loops too; the others stay on them.
TEST(RestRoutes, InViewerModeATokenThatWouldReadTheJwksRunsOffTheLoop) {
  const absl::Time start = absl::FromUnixSeconds(1'800'000'000);
  ::edgepass::testing::TempDir dir;
  ::edgepass::testing::TestClock clock(start);
  OidcTestKey known("kid-known");
  OidcTestKey rotated("kid-rotated");
  WriteJwksFile(dir.path() + "/jwks.json", {&known});
  absl::StatusOr<std::unique_ptr<OidcVerifier>> verifier = OidcVerifier::Create(
      {.issuer = "https://idp.test", .audiences = {"app"}, .jwks_source = dir.path() + "/jwks.json"},
      clock.AsFunction());
  ASSERT_TRUE(verifier.ok()) << verifier.status();
  std::unique_ptr<RestGateway> gateway = Gateway({.viewer_tokens = verifier->get()});
  ASSERT_NE(gateway, nullptr);
  const auto bearer = [&](const OidcTestKey& key) {
    return absl::StrCat("Bearer ", key.Mint(IdTokenClaims("https://idp.test", "app", clock.Now(), {})));
  };
  // Off the loop: every route whose call may wait, and the playback routes
  // (not IssueToken, which takes an API key) whose token would read.
  const auto expect_off_loop = [&](const std::string& authorization, bool reads) {
    for (const RestRouteInfo& route : RestRoutes()) {
      http::Request request = RequestFor(route);
      request.headers.Add("Authorization", authorization);
      const bool playback = IsIssuing(route) && route.rpc != "/edgepass.v1.PlaybackService/IssueToken";
      EXPECT_EQ(gateway->MayWait(request), Waits(route) || (playback && reads))
          << route.method << " " << request.target << " " << authorization.substr(0, 12);
    }
  };
  expect_off_loop(bearer(known), false);
  expect_off_loop(bearer(rotated), false);  // read just now: refused at once
  expect_off_loop("Bearer not-a-token", false);
  clock.Advance(absl::Seconds(30));
  expect_off_loop(bearer(rotated), true);  // an early re-read is allowed now
  expect_off_loop(bearer(known), false);
  clock.Advance(absl::Minutes(10));
  expect_off_loop(bearer(known), true);  // the periodic re-read is due
}

TEST(RestStatus, GrpcCodesMapToHttp) {
  EXPECT_EQ(HttpStatusOf(0), 200);
  EXPECT_EQ(HttpStatusOf(3), 400);   // INVALID_ARGUMENT
  EXPECT_EQ(HttpStatusOf(5), 404);   // NOT_FOUND
  EXPECT_EQ(HttpStatusOf(7), 403);   // PERMISSION_DENIED
  EXPECT_EQ(HttpStatusOf(9), 412);   // FAILED_PRECONDITION
  EXPECT_EQ(HttpStatusOf(14), 503);  // UNAVAILABLE
  EXPECT_EQ(HttpStatusOf(16), 401);  // UNAUTHENTICATED
  EXPECT_EQ(HttpStatusOf(13), 500);  // INTERNAL
}

}  // namespace
}  // namespace edgepass::server
