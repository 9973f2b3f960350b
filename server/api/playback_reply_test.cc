#include "server/api/playback_reply.h"

#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace edgepass::server {
namespace {

// A string of 0..max printable characters (protobuf logs an error for a
// string field that is not UTF-8); lengths past 127 take two varint bytes.
std::string RandomString(std::mt19937_64& rng, size_t max) {
  std::string s(std::uniform_int_distribution<size_t>(0, max)(rng), '\0');
  for (char& c : s) c = static_cast<char>(' ' + rng() % 95);
  return s;
}

std::vector<std::string> RandomList(std::mt19937_64& rng) {
  std::vector<std::string> list(std::uniform_int_distribution<int>(0, 3)(rng));
  for (std::string& s : list) s = RandomString(rng, 40);  // empty elements included
  return list;
}

core::TokenPolicy RandomPolicy(std::mt19937_64& rng) {
  auto coin = [&rng] { return (rng() & 1) != 0; };
  core::TokenPolicy p;
  p.paths = RandomList(rng);
  p.exc = RandomList(rng);
  p.headers = RandomList(rng);
  p.querystrings = RandomList(rng);
  switch (rng() % 3) {  // as written, or each form PolicyExpText makes up
    case 0: p.exp.text = RandomString(rng, 12); p.exp.relative = true; p.exp.after = absl::Hours(2); break;
    case 1: p.exp.relative = true; p.exp.after = absl::Seconds(static_cast<int64_t>(rng() % 100000)); break;
    default: p.exp.relative = false; p.exp.at = absl::FromUnixSeconds(static_cast<int64_t>(rng() % 4000000000)); break;
  }
  if (coin()) p.nbf = absl::FromUnixSeconds(static_cast<int64_t>(rng() % 4000000000) - 1000000000);
  p.ip = coin();
  p.co = coin();
  p.co_fallback = coin();
  p.cty = coin();
  p.reg = coin();
  p.reg_fallback = coin();
  p.ssn = coin();
  // Zero (left out), small, large, and negative (a 10-byte varint).
  const int autos[] = {0, 12, 300, -1, std::numeric_limits<int>::min()};
  p.session_auto_generate = autos[rng() % 5];
  return p;
}

IssuedPlayback RandomPlayback(std::mt19937_64& rng, const core::TokenPolicy* policy) {
  IssuedPlayback p;
  p.playback_url = RandomString(rng, 700);
  p.token = RandomString(rng, 600);
  p.session_id = RandomString(rng, 20);
  // Before the epoch, the epoch itself (an empty Timestamp), and after.
  const int64_t seconds[] = {-86400, 0, 1796575909, static_cast<int64_t>(rng() % 5000000000)};
  p.expires_at = absl::FromUnixSeconds(seconds[rng() % 4]);
  p.policy = policy;
  p.asset_id = RandomString(rng, 20);
  p.variant = RandomString(rng, 10);
  p.scheme = RandomString(rng, 17);
  p.cookies.resize(rng() % 4);
  for (IssuedCookie& c : p.cookies) {
    c.name = RandomString(rng, 25);
    c.value = RandomString(rng, 300);
    c.set_cookie = RandomString(rng, 400);
  }
  return p;
}

TEST(PlaybackReply, WireBytesAreWhatProtobufSerializesForTheMessage) {
  std::mt19937_64 rng(20261206);
  for (int i = 0; i < 2000; ++i) {
    const core::TokenPolicy policy = RandomPolicy(rng);
    const IssuedPlayback playback = RandomPlayback(rng, &policy);
    std::string wire = "prefix";  // appended, not overwritten
    AppendIssuePlaybackResponse(playback, &wire);
    v1::IssuePlaybackResponse message;
    PlaybackToProto(playback, &message);
    std::string expected;
    ASSERT_TRUE(message.SerializeToString(&expected));
    ASSERT_EQ(wire, "prefix" + expected) << "case " << i << ": " << message.ShortDebugString();
  }
}

}  // namespace
}  // namespace edgepass::server
