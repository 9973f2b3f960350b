// Fast paths for protobuf's canonical JSON. Printing replies: messages
// whose set fields are only strings, bools, int32s, messages (repeated or
// not) and whole-second Timestamps, with strings of the printable ASCII
// characters protobuf's printer writes unescaped. That covers the issuing
// replies; anything else (maps, enums, floating point, 64-bit integers,
// escapes, non-ASCII) is std::nullopt, and the caller uses protobuf's
// printer, which resolves the message's type anew on every call. The output
// is byte for byte protobuf's (plain_json_test.cc holds them equal).
//
//   std::optional<std::string> json = PlainMessageToJson(reply);
//   if (!json) google::protobuf::util::MessageToJsonString(reply, &text);
#ifndef EDGEPASS_SERVER_REST_PLAIN_JSON_H_
#define EDGEPASS_SERVER_REST_PLAIN_JSON_H_

#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"

namespace edgepass::server {

std::optional<std::string> PlainMessageToJson(const google::protobuf::Message& message);

// The same for parsing request bodies: `json` into the fields of `message`
// (fresh, or cleared) when it is one object whose keys name string and
// message fields (by proto or JSON name, each at most once, none in a oneof,
// no well-known types) and whose strings are printable ASCII without
// escapes, as protobuf's parser would fill them. Anything else is false,
// possibly with some fields set: clear the message and use protobuf's
// parser, which gives the errors.
//
//   if (!PlainJsonToMessage(body, &request)) {
//     request.Clear();
//     google::protobuf::util::JsonStringToMessage(body, &request);
//   }
bool PlainJsonToMessage(absl::string_view json, google::protobuf::Message* message);

}  // namespace edgepass::server

#endif  // EDGEPASS_SERVER_REST_PLAIN_JSON_H_
