// docs/rest.md's REST table lists every route the gateway serves, with its
// scope.
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "server/rest/rest_gateway.h"

namespace edgepass::server {
namespace {

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

// Only the issuing routes run on the event loops; every other may wait on a
// store, so it runs off them (the blocking pool).
TEST(RestRoutes, OnlyIssuingRoutesRunOnTheEventLoop) {
  for (const RestRouteInfo& route : RestRoutes()) {
    http::Request request;
    request.method = route.method;
    request.target = std::regex_replace(route.pattern.substr(0, route.pattern.find('?')), std::regex("\\{[a-z_]+\\}"),
                                        "x1");
    const bool issuing = route.rpc == "/edgepass.v1.PlaybackService/IssuePlayback" ||
                         route.rpc == "/edgepass.v1.PlaybackService/IssueToken" || request.target == "/tokengenerate";
    EXPECT_EQ(RestGateway::MayWait(request), !issuing) << route.method << " " << request.target;
  }
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
