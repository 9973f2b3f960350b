#include "client/cli/flags.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace edgepass::cli {
namespace {

constexpr FlagSpec kSpecs[] = {
    {"keyring"}, {"header", FlagKind::kRepeated}, {"json", FlagKind::kSwitch}};

absl::StatusOr<ParsedFlags> Parse(std::vector<std::string> args) {
  return ParseFlags(args, kSpecs);
}

TEST(ParseFlags, AcceptsSeparateAndInlineValuesRepeatsAndPositionals) {
  auto f = Parse({"asset1", "--keyring", "k.json", "--header=a=b", "--header",
                  "c=d", "--json"});
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(*f->Get("keyring"), "k.json");
  EXPECT_EQ(f->All("header"), (std::vector<std::string>{"a=b", "c=d"}));
  EXPECT_TRUE(f->Has("json"));
  EXPECT_EQ(f->positional(), std::vector<std::string>{"asset1"});
  EXPECT_EQ(f->Get("missing"), nullptr);
  EXPECT_TRUE(f->All("missing").empty());
  EXPECT_FALSE(f->help());
}

TEST(ParseFlags, RejectsUnknownFlagNamingIt) {
  auto f = Parse({"--keyrin", "x"});
  EXPECT_EQ(f.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(f.status().message(), "unknown flag '--keyrin'");
  EXPECT_EQ(Parse({"-k"}).status().message(), "unknown flag '-k'");
}

TEST(ParseFlags, RejectsMissingValueAndRepeatedSingleFlag) {
  EXPECT_EQ(Parse({"--keyring"}).status().message(), "--keyring needs a value");
  EXPECT_EQ(Parse({"--keyring", "a", "--keyring", "b"}).status().message(),
            "--keyring given more than once");
  EXPECT_EQ(Parse({"--json=yes"}).status().message(), "--json takes no value");
}

TEST(ParseFlags, HelpAndDoubleDash) {
  auto f = Parse({"-h", "--", "--keyring"});
  ASSERT_TRUE(f.ok());
  EXPECT_TRUE(f->help());
  EXPECT_EQ(f->positional(), std::vector<std::string>{"--keyring"});
}

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
