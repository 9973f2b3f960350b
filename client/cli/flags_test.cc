#include "client/cli/flags.h"

#include "gtest/gtest.h"

namespace edgepass::cli {
namespace {

TEST(SplitNameValue, SplitsAtFirstEquals) {
  auto nv = SplitNameValue("header", "x-a=b=c");
  ASSERT_TRUE(nv.ok());
  EXPECT_EQ(nv->first, "x-a");
  EXPECT_EQ(nv->second, "b=c");
  EXPECT_EQ(SplitNameValue("header", "novalue").status().message(),
            "--header 'novalue': expected NAME=VALUE");
  EXPECT_FALSE(SplitNameValue("query", "=v").ok());
}

}  // namespace
}  // namespace edgepass::cli
