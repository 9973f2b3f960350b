#include "server/api/playback_reply.h"
#include "server/api/playback_request.h"

#include <cstdint>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "server/api/proto_convert.h"

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

// What protobuf and PlaybackRequestFromProto make of `wire`, the path the
// fast reader stands in for; nullopt when either refuses it.
std::optional<PlaybackRequest> ReadWithProtobuf(const std::string& wire) {
  v1::IssuePlaybackRequest message;
  if (!message.ParseFromString(wire)) return std::nullopt;
  absl::StatusOr<PlaybackRequest> request = PlaybackRequestFromProto(message);
  if (!request.ok()) return std::nullopt;
  return *std::move(request);
}

std::optional<PlaybackRequest> ReadFast(const std::string& wire) {
  PlaybackRequest request;
  if (!DecodeCommonIssuePlaybackRequest(wire, &request)) return std::nullopt;
  return request;
}

void ExpectSameRequest(const PlaybackRequest& a, const PlaybackRequest& b, const std::string& what) {
  EXPECT_EQ(a.asset_id, b.asset_id) << what;
  EXPECT_EQ(a.entitlement, b.entitlement) << what;
  EXPECT_EQ(a.viewer.ip, b.viewer.ip) << what;
  EXPECT_EQ(a.viewer.co, b.viewer.co) << what;
  EXPECT_EQ(a.viewer.reg, b.viewer.reg) << what;
  EXPECT_EQ(a.viewer.cty, b.viewer.cty) << what;
  EXPECT_EQ(a.viewer.session_id, b.viewer.session_id) << what;
  EXPECT_EQ(a.viewer.headers, b.viewer.headers) << what;
  EXPECT_EQ(a.viewer.qs, b.viewer.qs) << what;
}

// Requests of the common shape, as protobuf serializes them: each field set
// or not, values of every length up to the viewer's bounds (two varint
// bytes past 127), and two messages back to back (protobuf merges them: the
// later string wins, the viewers merge field by field).
TEST(PlaybackRequestWire, TheCommonShapeReadsAsProtobufReadsIt) {
  std::mt19937_64 rng(20261207);
  auto maybe = [&rng](size_t max) { return rng() % 3 == 0 ? std::string() : RandomString(rng, max); };
  auto random_message = [&] {
    v1::IssuePlaybackRequest m;
    m.set_asset_id(maybe(64));
    m.set_entitlement(maybe(20));
    if (rng() % 4 != 0) {
      v1::Viewer* v = m.mutable_viewer();
      v->set_ip(maybe(kMaxViewerIpLength));
      v->set_country(maybe(300));
      v->set_region(maybe(10));
      v->set_city(maybe(40));
      v->set_session_id(maybe(core::kMaxSessionIdLength));
    }
    return m.SerializeAsString();
  };
  for (int i = 0; i < 2000; ++i) {
    const std::string wire = i % 4 == 3 ? random_message() + random_message() : random_message();
    const std::optional<PlaybackRequest> fast = ReadFast(wire);
    const std::optional<PlaybackRequest> slow = ReadWithProtobuf(wire);
    ASSERT_TRUE(slow.has_value()) << "case " << i;
    ASSERT_TRUE(fast.has_value()) << "case " << i << ": the fast reader declined the common shape";
    ExpectSameRequest(*fast, *slow, "case " + std::to_string(i));
  }
  // The empty request: every field empty, both ways (the issuer then says
  // asset_id is required).
  ASSERT_TRUE(ReadFast("").has_value());
  ExpectSameRequest(*ReadFast(""), *ReadWithProtobuf(""), "the empty request");
}

// The rest is left to protobuf, which reads it or names what is wrong.
TEST(PlaybackRequestWire, EverythingElseIsLeftToProtobuf) {
  auto wire = [](void (*fill)(v1::IssuePlaybackRequest*)) {
    v1::IssuePlaybackRequest m;
    m.set_asset_id("a");
    fill(&m);
    return m.SerializeAsString();
  };
  const struct {
    const char* what;
    std::string wire;
    bool protobuf_reads_it;
  } cases[] = {
      {"a header", wire([](auto* m) { (*m->mutable_viewer()->mutable_headers())["User-Agent"] = "x"; }), true},
      {"a query parameter", wire([](auto* m) { (*m->mutable_viewer()->mutable_query())["q"] = "v"; }), true},
      {"a non-ASCII city", wire([](auto* m) { m->mutable_viewer()->set_city("Z\xc3\xbcrich"); }), true},
      {"an IP over its bound", wire([](auto* m) { m->mutable_viewer()->set_ip(std::string(65, '1')); }), false},
      {"a session id over its bound",
       wire([](auto* m) { m->mutable_viewer()->set_session_id(std::string(65, 's')); }), false},
      {"a 16 KiB asset id (a three-byte length)",
       wire([](auto* m) { m->set_asset_id(std::string(16384, 'a')); }), true},
      {"an unknown varint field", "\x0a\x01\x61\x20\x05", true},
      {"an unknown field in the viewer", "\x12\x02\x48\x01", true},
      {"a truncated value", "\x0a\x05\x61", false},
      {"a truncated length", "\x0a\x80", false},
      {"a tag alone", "\x0a", false},
      {"invalid UTF-8", "\x0a\x01\xff", false},
  };
  for (const auto& c : cases) {
    EXPECT_FALSE(ReadFast(c.wire).has_value()) << c.what;
    EXPECT_EQ(ReadWithProtobuf(c.wire).has_value(), c.protobuf_reads_it) << c.what;
  }
}

}  // namespace
}  // namespace edgepass::server
