// The fast reply printer is byte for byte protobuf's canonical JSON printer
// whenever it prints, over random replies of every issuing shape, and steps
// aside (nullopt) for whatever it does not cover.
#include "server/rest/plain_json.h"

#include <functional>
#include <memory>
#include <random>
#include <string>

#include "absl/strings/str_cat.h"
#include "edgepass/v1/catalog.pb.h"
#include "edgepass/v1/playback.pb.h"
#include "edgepass/v1/session.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"

namespace edgepass::server {
namespace {

namespace pb = google::protobuf;

std::string Protobufs(const pb::Message& m) {
  std::string json;
  EXPECT_TRUE(pb::util::MessageToJsonString(m, &json).ok());
  return json;
}

class Random {
 public:
  explicit Random(uint32_t seed) : gen_(seed) {}
  std::string Text() {
    // Mostly URL and token characters, now and then one protobuf escapes.
    static const std::string kChars =
        "abcXYZ019-_.~/:?&=%+;,!*'()[]@$ <>\"\\\x01\x7f\xc3\xa9";
    std::string s(Pick(0, 12), ' ');
    for (char& c : s) c = kChars[Pick(0, Pick(0, 30) > 0 ? 31 : kChars.size() - 1)];
    return s;
  }
  int Pick(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(gen_); }
  void Fill(v1::TokenPolicy* p) {
    for (int i = Pick(0, 2); i > 0; --i) p->add_paths(Text());
    for (int i = Pick(0, 1); i > 0; --i) p->add_exc(Text());
    p->set_exp(Text());
    if (Pick(0, 1)) p->set_nbf(Text());
    p->set_ip(Pick(0, 1));
    p->set_ssn(Pick(0, 1));
    p->set_co_fallback(Pick(0, 1));
    p->set_session_auto_generate(Pick(-3, 3) * 7);
    for (int i = Pick(0, 2); i > 0; --i) p->add_headers(Text());
  }

 private:
  std::mt19937 gen_;
};

TEST(PlainMessageToJson, EqualsProtobufsPrinterWheneverItPrints) {
  Random random(20261206);
  int printed = 0, declined = 0;
  for (int i = 0; i < 3000; ++i) {
    v1::IssuePlaybackResponse playback;
    playback.set_playback_url(random.Text());
    playback.set_token(random.Text());
    playback.set_session_id(random.Text());
    if (random.Pick(0, 3) > 0) playback.mutable_expires_at()->set_seconds(random.Pick(0, 2000000000));
    if (random.Pick(0, 5) == 0) playback.mutable_expires_at()->set_nanos(random.Pick(0, 999) * 1000000);
    if (random.Pick(0, 3) > 0) random.Fill(playback.mutable_token_policy());
    playback.set_asset_id(random.Text());
    playback.set_scheme(random.Text());
    for (int c = random.Pick(0, 3); c > 0; --c) {
      v1::Cookie* cookie = playback.add_cookies();
      cookie->set_name(random.Text());
      cookie->set_set_cookie(random.Text());
    }
    v1::IssueTokenResponse token;
    token.set_token(random.Text());
    token.set_url(random.Text());
    token.mutable_expires_at()->set_seconds(random.Pick(0, 2000000000));
    v1::NamedPolicy named;
    named.set_name(random.Text());
    random.Fill(named.mutable_policy());
    for (const pb::Message* m : {static_cast<const pb::Message*>(&playback), static_cast<const pb::Message*>(&token),
                                 static_cast<const pb::Message*>(&named)}) {
      std::optional<std::string> fast = PlainMessageToJson(*m);
      if (!fast.has_value()) {
        ++declined;
        continue;
      }
      ++printed;
      ASSERT_EQ(*fast, Protobufs(*m)) << m->DebugString();
    }
  }
  // Both paths were exercised.
  EXPECT_GT(printed, 1000);
  EXPECT_GT(declined, 1000);
}

TEST(PlainMessageToJson, PrintsTheTypicalIssuingReplyAndDeclinesTheRest) {
  v1::IssuePlaybackResponse reply;
  reply.set_playback_url("https://cdn.example.com/aB3.eyJ0.eyJp.c2ln/v/1/index.m3u8");
  reply.mutable_expires_at()->set_seconds(1767225600);
  reply.mutable_token_policy()->add_paths("/v/1/");
  reply.mutable_token_policy()->set_ip(true);
  EXPECT_EQ(PlainMessageToJson(reply), Protobufs(reply));
  EXPECT_EQ(PlainMessageToJson(v1::IssueTokenResponse()), "{}");

  v1::RevokedSession with_map_enum_double;  // outside the fast path
  with_map_enum_double.set_score(2.5);
  EXPECT_FALSE(PlainMessageToJson(with_map_enum_double).has_value());
  v1::Asset asset;
  (*asset.mutable_variants())["premium"].set_url_path("/p");
  EXPECT_FALSE(PlainMessageToJson(asset).has_value());
  reply.set_asset_id("caf\xc3\xa9");
  EXPECT_FALSE(PlainMessageToJson(reply).has_value());
}

// Request bodies built from pieces: both spellings of field names, unknown
// and repeated keys, escapes, numbers, null, nesting, stray bytes.
std::string RandomBody(Random& random) {
  static const char* const kKeys[] = {"asset_id", "assetId", "entitlement", "viewer", "viewer", "ip",
                                      "sessionId", "session_id", "country", "headers", "query", "nope",
                                      "url", "policy", "paths", "exp", "ASSET_ID"};
  static const char* const kSpace[] = {"", "", " ", "\n ", "\t"};
  std::function<std::string(int)> object = [&](int depth) {
    std::string out = std::string(kSpace[random.Pick(0, 4)]) + "{";
    for (int i = random.Pick(0, 4); i > 0; --i) {
      absl::StrAppend(&out, kSpace[random.Pick(0, 4)], "\"", kKeys[random.Pick(0, 16)], "\"",
                      kSpace[random.Pick(0, 4)], ":", kSpace[random.Pick(0, 4)]);
      switch (random.Pick(0, 9)) {
        case 0: out += depth < 3 ? object(depth + 1) : "{}"; break;
        case 1: out += "null"; break;
        case 2: out += std::to_string(random.Pick(-5, 500)); break;
        case 3: out += "\"a\\u00e9\\\"b\""; break;
        case 4: out += "[\"/v/\"]"; break;
        case 5: out += "true"; break;
        default: absl::StrAppend(&out, "\"", random.Text(), "\"");
      }
      if (i > 1 || random.Pick(0, 20) == 0) out += ",";
    }
    return out + kSpace[random.Pick(0, 4)] + "}";
  };
  std::string body = random.Pick(0, 3) > 0 ? object(0) : "{\"viewer\":" + object(1) + "}";
  if (random.Pick(0, 15) == 0) body += random.Pick(0, 1) ? " x" : "}";
  if (random.Pick(0, 30) == 0) body = body.substr(0, random.Pick(0, body.size()));
  return body;
}

TEST(PlainJsonToMessage, FillsWhatProtobufsParserFillsWheneverItParses) {
  Random random(20261207);
  int parsed = 0, declined = 0;
  for (int i = 0; i < 5000; ++i) {
    const std::string body = RandomBody(random);
    v1::IssuePlaybackRequest playback;
    v1::IssueTokenRequest token;
    v1::Asset asset;
    for (pb::Message* fast : {static_cast<pb::Message*>(&playback), static_cast<pb::Message*>(&token),
                              static_cast<pb::Message*>(&asset)}) {
      if (!PlainJsonToMessage(body, fast)) {
        ++declined;
        continue;
      }
      ++parsed;
      std::unique_ptr<pb::Message> slow(fast->New());
      ASSERT_TRUE(pb::util::JsonStringToMessage(body, slow.get()).ok()) << body;
      ASSERT_EQ(fast->SerializeAsString(), slow->SerializeAsString()) << body;
    }
  }
  EXPECT_GT(parsed, 1000);
  EXPECT_GT(declined, 1000);
}

TEST(PlainJsonToMessage, ParsesTheTypicalIssuingBodyAndDeclinesTheRest) {
  v1::IssuePlaybackRequest request;
  ASSERT_TRUE(PlainJsonToMessage(R"({"viewer": {"ip": "192.0.2.1", "sessionId": "abc"}, "entitlement": "premium"})",
                                 &request));
  EXPECT_EQ(request.viewer().ip(), "192.0.2.1");
  EXPECT_EQ(request.viewer().session_id(), "abc");
  EXPECT_EQ(request.entitlement(), "premium");
  for (const char* body : {R"({"viewer":{"headers":{"a":"b"}}})", R"({"assetId":"1","asset_id":"2"})",
                           R"({"viewer":null})", R"({"nope":"x"})", R"({"entitlement":"caf\u00e9"})",
                           R"({"entitlement":"a"} {})", R"({"entitlement":"a",})", R"(["x"])"}) {
    v1::IssuePlaybackRequest r;
    EXPECT_FALSE(PlainJsonToMessage(body, &r)) << body;
  }
}

}  // namespace
}  // namespace edgepass::server
