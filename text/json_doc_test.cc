#include "text/json_doc.h"

#include <string>

#include "gtest/gtest.h"

namespace edgepass::text {
namespace {

std::string Error(absl::string_view text, JsonRules rules) {
  absl::StatusOr<nlohmann::json> doc = ParseJson(text, "a.json", rules);
  EXPECT_FALSE(doc.ok());
  EXPECT_EQ(doc.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(doc.status().message());
}

TEST(ParseJson, ReadsAnyDocumentByDefault) {
  absl::StatusOr<nlohmann::json> doc = ParseJson(R"([1, {"a": "b"}])", "a.json");
  ASSERT_TRUE(doc.ok()) << doc.status();
  EXPECT_EQ((*doc)[1]["a"], "b");
}

TEST(ParseJson, SyntaxErrorsQuoteNothingUnlessDetailIsAsked) {
  EXPECT_EQ(Error(R"({"secret": "abc)", {}), "a.json: not valid JSON");
  EXPECT_EQ(Error("{\n  \"a\": }", {.detail = true}),
            "a.json: parse error at line 2, column 8: syntax error while parsing value - unexpected '}'; "
            "expected '[', '{', or a literal");
}

TEST(ParseJson, SizeIsCheckedBeforeParsingAndObjectAfter) {
  EXPECT_EQ(Error("{\"a\": 1}", {.max_bytes = 7}), "a.json: larger than 7 bytes");
  EXPECT_TRUE(ParseJson("{\"a\": 1}", "a.json", {.max_bytes = 8}).ok());
  EXPECT_EQ(Error("[]", {.object = true}), "a.json: must be a JSON object");
  EXPECT_EQ(Error("[", {.object = true}), "a.json: not valid JSON");
}

TEST(DumpJson, ReplacesInvalidUtf8InsteadOfThrowing) {
  nlohmann::json doc = {{"a", std::string("x\xff")}};
  EXPECT_EQ(DumpJson(doc), "{\"a\":\"x\xEF\xBF\xBD\"}");
  EXPECT_EQ(DumpJson(nlohmann::json::array({1}), 2), "[\n  1\n]");
}

}  // namespace
TEST(RequiredString, NamesTheMemberByItsPath) {
  const nlohmann::json entry = nlohmann::json::parse(R"({"name": "a", "size": 3})");
  EXPECT_EQ(*RequiredString(entry, "name", "f.json: items[0].name"), "a");
  absl::StatusOr<std::string> missing = RequiredString(entry, "id", "f.json: items[0].id");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(missing.status().message(), "f.json: items[0].id: required");
  EXPECT_EQ(RequiredString(entry, "size", "f.json: items[0].size").status().message(),
            "f.json: items[0].size: must be a string, got number");
}

}  // namespace edgepass::text
