#include "text/json_string.h"

#include <cstdint>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"

namespace edgepass::text {
namespace {

// What the issuer wrote through nlohmann before: JSON.stringify's form.
std::string NlohmannDump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string Written(absl::string_view s) {
  std::string out;
  AppendJsonString(s, &out);
  return out;
}

TEST(AppendJsonString, EscapesLikeNlohmann) {
  EXPECT_EQ(Written("/v/1/"), R"("/v/1/")");
  EXPECT_EQ(Written(""), R"("")");
  EXPECT_EQ(Written("a\"b\\c\x01\b\t\n\f\r\x1f\x7f"),
            "\"a\\\"b\\\\c\\u0001\\b\\t\\n\\f\\r\\u001f\x7f\"");
  EXPECT_EQ(Written("caf\xC3\xA9"), "\"caf\xC3\xA9\"");
  EXPECT_EQ(Written("x\xFFy"), "\"x\xEF\xBF\xBDy\"");
}

// Every string of up to two bytes.
TEST(AppendJsonString, MatchesNlohmannForAllShortStrings) {
  std::string s;
  EXPECT_EQ(Written(s), NlohmannDump(s));
  for (int a = 0; a < 256; ++a) {
    s.assign(1, static_cast<char>(a));
    ASSERT_EQ(Written(s), NlohmannDump(s)) << absl::BytesToHexString(s);
    for (int b = 0; b < 256; ++b) {
      s.assign({static_cast<char>(a), static_cast<char>(b)});
      ASSERT_EQ(Written(s), NlohmannDump(s)) << absl::BytesToHexString(s);
    }
  }
}

// Every string of up to five bytes from the bytes where UTF-8 decoding
// changes course: lead bytes, continuation ranges and their edges, escapes.
TEST(AppendJsonString, MatchesNlohmannAtUtf8Boundaries) {
  const std::vector<uint8_t> bytes = {
      0x00, 0x1f, 0x20, '"',  '\\', 'a',  0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0,
      0xbf, 0xc0, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff};
  const size_t n = bytes.size();
  std::string s;
  for (int len = 3; len <= 5; ++len) {
    size_t combos = 1;
    for (int i = 0; i < len; ++i) combos *= n;
    for (size_t c = 0; c < combos; ++c) {
      s.clear();
      for (size_t k = c, i = 0; i < static_cast<size_t>(len); ++i, k /= n) {
        s.push_back(static_cast<char>(bytes[k % n]));
      }
      ASSERT_EQ(Written(s), NlohmannDump(s)) << absl::BytesToHexString(s);
    }
  }
}

// Longer strings: plain runs, valid multi-byte characters and stray bytes.
TEST(AppendJsonString, MatchesNlohmannForRandomStrings) {
  std::mt19937 gen(20261206);
  const std::vector<std::string> pieces = {
      "abc/", "\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x8E\xAC",
      "\"",   "\\",       "\n",           "\x80",
      "\xE2", "\xF0\x9F", "\xED\xA0\x80", "\xC0\xAF"};
  std::uniform_int_distribution<size_t> pick(0, pieces.size() - 1);
  std::uniform_int_distribution<int> length(0, 24);
  for (int round = 0; round < 20000; ++round) {
    std::string s;
    for (int i = length(gen); i > 0; --i) s += pieces[pick(gen)];
    ASSERT_EQ(Written(s), NlohmannDump(s)) << absl::BytesToHexString(s);
  }
}

TEST(AppendJsonStringList, MatchesNlohmannArrays) {
  for (const std::vector<std::string>& list :
       {std::vector<std::string>{},
        {"/v/"},
        {"/a/", "/b\"/", "caf\xC3\xA9", "\xFF"}}) {
    std::string out;
    AppendJsonStringList(list, &out);
    EXPECT_EQ(out, NlohmannDump(list));
  }
}

TEST(JsonString, QuotesAndKeepsUtf8SoItReadsBackUnchanged) {
  EXPECT_EQ(JsonString("a\"b\\\n\x01"), "\"a\\\"b\\\\\\n\\u0001\"");
  // Valid UTF-8 stands as it is (not one \u00XX escape a byte, which would
  // read back as other characters); an invalid byte becomes U+FFFD.
  for (const std::string s : {"caf\xC3\xA9", "\xE2\x82\xAC 1", "\xF0\x9F\x8E\xAC"}) {
    EXPECT_EQ(JsonString(s), "\"" + s + "\"");
    EXPECT_EQ(nlohmann::json::parse(JsonString(s)).get<std::string>(), s);
  }
  EXPECT_EQ(JsonString("\xFF"), "\"\xEF\xBF\xBD\"");
}

// Valid exactly when the writer keeps the bytes as they are.
TEST(IsValidUtf8, AgreesWithWhatTheWriterKeeps) {
  for (const std::string s : {"", "abc", "caf\xC3\xA9", "\xF0\x9F\x8E\xAC", "\x7f"}) EXPECT_TRUE(IsValidUtf8(s)) << s;
  for (const std::string s : {"\xFF", "\xC3", "a\xE2\x82", "\xED\xA0\x80", "\xC0\xAF", "\x80"}) {
    EXPECT_FALSE(IsValidUtf8(s)) << absl::BytesToHexString(s);
  }
  // Every two bytes the writer need not escape: valid exactly when kept as they are.
  std::string s(2, '\0');
  for (int a = 0x20; a < 256; ++a) {
    for (int b = 0x20; b < 256; ++b) {
      if (a == '"' || a == '\\' || b == '"' || b == '\\') continue;
      s[0] = static_cast<char>(a);
      s[1] = static_cast<char>(b);
      ASSERT_EQ(IsValidUtf8(s), Written(s) == "\"" + s + "\"") << absl::BytesToHexString(s);
    }
  }
}

}  // namespace
}  // namespace edgepass::text
