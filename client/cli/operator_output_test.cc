#include "client/cli/operator_output.h"

#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "edgepass/v1/session.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"

namespace edgepass::cli {
namespace {

// What PrintJson prints for the whole reply: protobuf's JSON with proto
// field names, and a newline.
std::string WholeReply(const v1::ListRevokedSessionsResponse& reply) {
  std::string json;
  google::protobuf::util::JsonPrintOptions print;
  print.preserve_proto_field_names = true;
  EXPECT_TRUE(google::protobuf::util::MessageToJsonString(reply, &json, print).ok());
  return json + "\n";
}

// The same reply written page by page.
std::string Streamed(const v1::ListRevokedSessionsResponse& reply, int page_size) {
  std::ostringstream out;
  JsonListWriter list(out, "sessions");
  for (int i = 0; i < reply.sessions_size(); ++i) {
    EXPECT_TRUE(list.Add(reply.sessions(i)).ok());
    if ((i + 1) % page_size == 0) out.flush();
  }
  std::vector<std::pair<std::string, std::string>> fields;
  if (reply.version() != 0) fields.emplace_back("version", "\"" + std::to_string(reply.version()) + "\"");
  if (!reply.next_page_token().empty()) fields.emplace_back("next_page_token", "\"" + reply.next_page_token() + "\"");
  list.Finish(fields);
  return out.str();
}

TEST(JsonListWriter, PrintsWhatPrintJsonPrintsForTheWholeReply) {
  v1::ListRevokedSessionsResponse reply;
  EXPECT_EQ(Streamed(reply, 2), WholeReply(reply));  // {}
  reply.set_version(7);
  EXPECT_EQ(Streamed(reply, 2), WholeReply(reply));
  for (int i = 0; i < 3; ++i) {
    v1::RevokedSession* s = reply.add_sessions();
    s->set_session_id("sess" + std::to_string(i));
    s->set_type(i == 1 ? v1::AUTO : v1::MANUAL);
    s->set_score(i * 1.5);
    s->set_reason(i == 2 ? "a \"quoted\" reason\n" : "");
    s->mutable_added_at()->set_seconds(1'800'000'000 + i);
  }
  EXPECT_EQ(Streamed(reply, 2), WholeReply(reply));
  reply.set_next_page_token("1.s.sess2");
  EXPECT_EQ(Streamed(reply, 1), WholeReply(reply));
  reply.set_version(0);
  EXPECT_EQ(Streamed(reply, 3), WholeReply(reply));
}

TEST(Table, FlushedPartsKeepTheFirstPartsWidths) {
  std::ostringstream whole, parts;
  Table one({"ID", "NAME"});
  one.AddRow({"a1", "first"});
  one.AddRow({"b22", "second"});
  one.Print(whole);
  EXPECT_EQ(whole.str(), "ID   NAME\na1   first\nb22  second\n");

  Table streamed({"ID", "NAME"});
  streamed.AddRow({"a1", "first"});
  streamed.Flush(parts);
  streamed.AddRow({"b22", "second"});  // wider than the first part: pushes its row only
  streamed.AddRow({"c", "third\x1b[2J"});
  streamed.Print(parts);
  EXPECT_EQ(parts.str(), "ID  NAME\na1  first\nb22  second\nc   third?[2J\n");

  std::ostringstream empty;
  Table none({"ID", "NAME"});
  none.Flush(empty);
  none.Print(empty);
  EXPECT_EQ(empty.str(), "ID  NAME\n(none)\n");
}

}  // namespace
}  // namespace edgepass::cli
