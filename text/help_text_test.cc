#include "text/help_text.h"

#include <string>

#include "gtest/gtest.h"

namespace edgepass::text {
namespace {

TEST(AppendHelpEntry, PadsTheHeadAndWrapsUnderTheIndent) {
  std::string out;
  AppendHelpEntry("  --a N", "one two three four five", 10, 24, &out);
  EXPECT_EQ(out,
            "  --a N   one two three\n"
            "          four five\n");
}

TEST(AppendHelpEntry, ALongHeadGetsItsOwnLineAndJoinedWordsStayTogether) {
  std::string out;
  AppendHelpEntry("  --a-very-long-flag VALUE", "x (default\x01" "abc def)", 10, 19, &out);
  EXPECT_EQ(out,
            "  --a-very-long-flag VALUE\n"
            "          x\n"
            "          (default abc\n"
            "          def)\n");
}

TEST(MarkdownCell, EscapesPipesAndFoldsNewlines) {
  EXPECT_EQ(MarkdownCell("a|b\nc"), "a\\|b c");
}

}  // namespace
}  // namespace edgepass::text
