#include "logging/json_log.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace edgepass::logging {
namespace {

class JsonLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SetSinkForTesting([this](absl::string_view line) { lines_.emplace_back(line); });
  }
  void TearDown() override { SetSinkForTesting(nullptr); }
  std::vector<std::string> lines_;
};

TEST_F(JsonLogTest, OneParsableObjectPerLine) {
  SetComponent("edgepass-test");
  Info("issued").Str("request_id", "r1").Str("session_id", "s\"1\n").Int("n", -3).Bool("ok", true).Double(
      "ms", 1.5);
  Warning("odd").Str("bytes", std::string("\xff\xfe", 2)).Double("nan", 0.0 / 0.0);
  ASSERT_EQ(lines_.size(), 2u);
  for (const std::string& line : lines_) EXPECT_EQ(line.find('\n'), std::string::npos);
  nlohmann::json first = nlohmann::json::parse(lines_[0]);
  EXPECT_EQ(first["level"], "info");
  EXPECT_EQ(first["component"], "edgepass-test");
  EXPECT_EQ(first["event"], "issued");
  EXPECT_EQ(first["session_id"], "s\"1\n");
  EXPECT_EQ(first["n"], -3);
  EXPECT_EQ(first["ok"], true);
  EXPECT_EQ(first["ms"], 1.5);
  EXPECT_EQ(first["ts"].get<std::string>().size(), 24u);  // 2026-11-21T10:00:00.123Z
  nlohmann::json second = nlohmann::json::parse(lines_[1]);  // invalid UTF-8 replaced, NaN -> null
  EXPECT_EQ(second["level"], "warning");
  EXPECT_TRUE(second["nan"].is_null());
}

}  // namespace
}  // namespace edgepass::logging
