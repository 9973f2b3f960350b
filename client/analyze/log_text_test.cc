#include "client/analyze/log_text.h"

#include <string>

#include "gtest/gtest.h"

namespace edgepass::analyze {
namespace {

TEST(PercentDecode, DecodesEscapesAndKeepsBadOnes) {
  std::string scratch;
  EXPECT_EQ(PercentDecode("/plain/path.ts", &scratch), "/plain/path.ts");
  EXPECT_EQ(PercentDecode("Mozilla/5.0%20(X11)", &scratch), "Mozilla/5.0 (X11)");
  EXPECT_EQ(PercentDecode("a%2", &scratch), "a%2");
  EXPECT_EQ(PercentDecode("a%zz%41", &scratch), "a%zzA");
  EXPECT_EQ(PercentDecode("%", &scratch), "%");
  EXPECT_EQ(PercentDecode("%%41%2f%", &scratch), "%A/%");
  EXPECT_EQ(PercentDecode("a%20b%20%20c", &scratch), "a b  c");
}

TEST(IsValidUtf8, AcceptsUtf8RejectsBadSequences) {
  EXPECT_TRUE(IsValidUtf8("plain ascii text, long enough for the fast path"));
  EXPECT_TRUE(IsValidUtf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x8e\xac"));
  EXPECT_FALSE(IsValidUtf8("bad \xff byte"));
  EXPECT_FALSE(IsValidUtf8("overlong \xc0\xaf"));
  EXPECT_FALSE(IsValidUtf8("surrogate \xed\xa0\x80"));
  EXPECT_FALSE(IsValidUtf8("cut \xe2\x82"));
}

TEST(ParseW3cDate, ParsesRealDaysOnly) {
  EXPECT_EQ(ParseW3cDate("1970-01-01"), 0);
  EXPECT_EQ(ParseW3cDate("2026-12-06"), 20793);
  EXPECT_EQ(ParseW3cDate("2024-02-29"), 19782);
  EXPECT_EQ(ParseW3cDate("2026-02-29"), std::nullopt);
  EXPECT_EQ(ParseW3cDate("2026-13-01"), std::nullopt);
  EXPECT_EQ(ParseW3cDate("2026/12/06"), std::nullopt);
  EXPECT_EQ(ParseW3cDate("1969-12-31"), std::nullopt);
}

TEST(ParseW3cTime, ParsesSecondsAndMilliseconds) {
  EXPECT_EQ(ParseW3cTime("00:00:00"), 0);
  EXPECT_EQ(ParseW3cTime("07:40:25"), (7 * 3600 + 40 * 60 + 25) * 1000);
  EXPECT_EQ(ParseW3cTime("07:40:25.5"), (7 * 3600 + 40 * 60 + 25) * 1000 + 500);
  EXPECT_EQ(ParseW3cTime("24:00:00"), std::nullopt);
  EXPECT_EQ(ParseW3cTime("7:40:25"), std::nullopt);
  EXPECT_EQ(ParseW3cTime("07:40:25."), std::nullopt);
}

TEST(ParseEpochSecondsMs, ParsesNginxMsec) {
  EXPECT_EQ(ParseEpochSecondsMs("1767225600.123"), 1767225600123);
  EXPECT_EQ(ParseEpochSecondsMs("1767225600"), 1767225600000);
  EXPECT_EQ(ParseEpochSecondsMs("-1"), std::nullopt);
  EXPECT_EQ(ParseEpochSecondsMs("1.x"), std::nullopt);
}

TEST(SessionIdFromUri, TakesFirstPartOfFourPartFirstSegment) {
  EXPECT_EQ(SessionIdFromUri("/s1.hdr.payload.sig/video/1/seg.ts"), "s1");
  EXPECT_EQ(SessionIdFromUri("/s1.hdr.payload.sig"), "s1");
  EXPECT_EQ(SessionIdFromUri("/.hdr.payload.sig/x.ts"), "");  // empty, as SMD's split gives
  EXPECT_EQ(SessionIdFromUri("/hdr.payload.sig/x.ts"), std::nullopt);
  EXPECT_EQ(SessionIdFromUri("/a.b.c.d.e/x.ts"), std::nullopt);
  EXPECT_EQ(SessionIdFromUri("/video/seg.1.2.3.ts"), std::nullopt);
  EXPECT_EQ(SessionIdFromUri("no-slash"), std::nullopt);
}

}  // namespace
}  // namespace edgepass::analyze
