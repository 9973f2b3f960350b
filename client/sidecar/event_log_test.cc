#include "client/sidecar/event_log.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "logging/json_log.h"
#include "nlohmann/json.hpp"

namespace edgepass::sidecar {
namespace {

class EventLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    logging::SetComponent("edgepass-validator");
    logging::SetSinkForTesting(
        [this](absl::string_view line) { lines_.emplace_back(line); });
  }
  void TearDown() override { logging::SetSinkForTesting(nullptr); }

  std::vector<std::string> lines_;
};

TEST_F(EventLogTest, WrapsTheEventInTheProjectEnvelopeKeepingFieldOrder) {
  LogEvent(
      R"({"event":"edge_sync_applied","version":7,"snapshot":true,"ratio":0.5,"server":"a:1"})");
  ASSERT_EQ(lines_.size(), 1u);
  // Field order is part of what tools match on.
  EXPECT_NE(
      lines_[0].find(
          R"("event":"edge_sync_applied","version":7,"snapshot":true,"ratio":0.5,"server":"a:1"})"),
      std::string::npos)
      << lines_[0];
  nlohmann::json line = nlohmann::json::parse(lines_[0]);
  EXPECT_EQ(line["level"], "info");
  EXPECT_EQ(line["component"], "edgepass-validator");
  EXPECT_TRUE(line["ts"].is_string());
  EXPECT_EQ(line["version"], 7);
}

TEST_F(EventLogTest, LevelComesFromTheEvent) {
  LogEvent(R"({"event":"a","level":"warning","x":1})");
  LogEvent(R"({"event":"b","level":"error"})");
  LogEvent(R"({"event":"c","level":"shouting"})");
  ASSERT_EQ(lines_.size(), 3u);
  EXPECT_EQ(nlohmann::json::parse(lines_[0])["level"], "warning");
  EXPECT_EQ(nlohmann::json::parse(lines_[0]).count("x"), 1u);
  EXPECT_EQ(nlohmann::json::parse(lines_[1])["level"], "error");
  EXPECT_EQ(nlohmann::json::parse(lines_[2])["level"], "info");
  // "level" appears once, in the envelope.
  EXPECT_EQ(lines_[0].find("\"level\"", lines_[0].find("\"level\"") + 1),
            std::string::npos);
}

TEST_F(EventLogTest, NestedValuesBecomeTextAndOtherTextIsKeptWhole) {
  LogEvent(R"({"event":"e","list":[1,2],"nothing":null})");
  LogEvent("edge sync: plain text");
  LogEvent(R"({"no_event":1})");
  ASSERT_EQ(lines_.size(), 3u);
  nlohmann::json nested = nlohmann::json::parse(lines_[0]);
  EXPECT_EQ(nested["list"], "[1,2]");
  EXPECT_EQ(nested["nothing"], "null");
  nlohmann::json text = nlohmann::json::parse(lines_[1]);
  EXPECT_EQ(text["event"], "unstructured_log");
  EXPECT_EQ(text["level"], "warning");
  EXPECT_EQ(text["text"], "edge sync: plain text");
  EXPECT_EQ(nlohmann::json::parse(lines_[2])["text"], R"({"no_event":1})");
}

}  // namespace
}  // namespace edgepass::sidecar
