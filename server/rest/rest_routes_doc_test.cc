// The README's REST table lists every route the gateway serves, with its scope.
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "server/rest/rest_gateway.h"

namespace edgepass::server {
namespace {

TEST(RestRoutesDoc, ReadmeListsEveryRouteAndScope) {
  std::ifstream in(EDGEPASS_README_PATH);
  std::stringstream text;
  text << in.rdbuf();
  const std::string readme = text.str();
  ASSERT_FALSE(readme.empty());
  for (const RestRouteInfo& route : RestRoutes()) {
    const std::string row = absl::StrCat("| ", route.method, " | `", route.pattern);
    const size_t at = readme.find(row);
    ASSERT_NE(at, std::string::npos) << "README.md has no row for " << route.method << " " << route.pattern;
    const std::string line = readme.substr(at, readme.find('\n', at) - at);
    EXPECT_NE(line.find(absl::StrCat("| ", route.scope, " |")), std::string::npos) << line;
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
