#include "text/flags.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace edgepass::text {
namespace {

constexpr FlagSpec kSpecs[] = {
    {"keyring"}, {"header", FlagKind::kRepeated}, {"json", FlagKind::kSwitch}, {"strict", FlagKind::kSwitchOnce}};

absl::StatusOr<ParsedFlags> Parse(std::vector<std::string> args) { return ParseFlags(args, kSpecs); }

FlagParse Tokenize(std::vector<std::string> args, FlagSyntax syntax) {
  return TokenizeFlags(args, kSpecs, syntax);
}

TEST(ParseFlags, AcceptsSeparateAndInlineValuesRepeatsAndPositionals) {
  auto f = Parse({"asset1", "--keyring", "k.json", "--header=a=b", "--header", "c=d", "--json"});
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
  EXPECT_EQ(Parse({"--keyrin=x"}).status().message(), "unknown flag '--keyrin'");
}

TEST(ParseFlags, RejectsMissingValueAndRepeatedSingleFlag) {
  EXPECT_EQ(Parse({"--keyring"}).status().message(), "--keyring needs a value");
  EXPECT_EQ(Parse({"--keyring", "a", "--keyring", "b"}).status().message(), "--keyring given more than once");
  EXPECT_EQ(Parse({"--json=yes"}).status().message(), "--json takes no value");
}

TEST(ParseFlags, HelpAndDoubleDash) {
  auto f = Parse({"-h", "--", "--keyring"});
  ASSERT_TRUE(f.ok());
  EXPECT_TRUE(f->help());
  EXPECT_EQ(f->positional(), std::vector<std::string>{"--keyring"});
}

TEST(TokenizeFlags, KeepsEveryFlagInCommandLineOrder) {
  FlagParse p = Tokenize({"--header", "a", "--keyring=k", "--header=b", "--json"}, {});
  ASSERT_FALSE(p.error.has_value());
  ASSERT_EQ(p.flags.flags().size(), 4u);
  std::vector<std::string> seen;
  for (const ParsedFlags::Flag& f : p.flags.flags()) seen.push_back(f.name + "=" + f.value);
  EXPECT_EQ(seen, (std::vector<std::string>{"header=a", "keyring=k", "header=b", "json=true"}));
}

TEST(TokenizeFlags, TypedErrorsNameTheArgumentAsWritten) {
  struct Case {
    std::vector<std::string> args;
    FlagError::Kind kind;
    std::string arg;
    std::string name;
  };
  const FlagSyntax strict{.positional = false};
  for (const Case& c : std::vector<Case>{
           {{"--bogus=1"}, FlagError::Kind::kUnknownFlag, "--bogus", "bogus"},
           {{"-x"}, FlagError::Kind::kUnknownFlag, "-x", ""},
           {{"--json", "--keyring"}, FlagError::Kind::kMissingValue, "--keyring", "keyring"},
           {{"--keyring=a", "--keyring", "b"}, FlagError::Kind::kGivenTwice, "--keyring", "keyring"},
           {{"--json=false"}, FlagError::Kind::kValueOnSwitch, "--json", "json"},
           {{"--json", "--strict", "--json", "--strict"}, FlagError::Kind::kGivenTwice, "--strict", "strict"},
           {{"--keyring", "k", "extra"}, FlagError::Kind::kUnexpectedArgument, "extra", ""},
           {{"--", "--keyring"}, FlagError::Kind::kUnknownFlag, "--", ""},
       }) {
    FlagParse p = Tokenize(c.args, strict);
    ASSERT_TRUE(p.error.has_value()) << c.args.front();
    EXPECT_EQ(p.error->kind, c.kind) << c.args.front();
    EXPECT_EQ(p.error->arg, c.arg);
    EXPECT_EQ(p.error->name, c.name);
  }
}

TEST(TokenizeFlags, SwitchValueAndHelpStopAreTheCallersChoice) {
  FlagParse p = Tokenize({"--json=false", "--json"}, {.switch_value = true});
  ASSERT_FALSE(p.error.has_value());
  EXPECT_EQ(p.flags.All("json"), (std::vector<std::string>{"false", "true"}));

  p = Tokenize({"--help", "--bogus"}, {.help_stops = true});
  EXPECT_FALSE(p.error.has_value());
  EXPECT_TRUE(p.flags.help());
  p = Tokenize({"--bogus", "--help"}, {.help_stops = true});
  EXPECT_TRUE(p.error.has_value());
  p = Tokenize({"--help", "--bogus"}, {});
  ASSERT_TRUE(p.error.has_value());
  EXPECT_EQ(p.error->kind, FlagError::Kind::kUnknownFlag);
}

}  // namespace
}  // namespace edgepass::text
