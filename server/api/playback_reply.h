// The IssuePlayback reply of an issued playback, in two forms: the
// edgepass.v1 message (the REST gateway prints it as JSON) and its protobuf
// wire bytes written straight from the playback (the gRPC adapter sends
// them). The reply is the issuing path's largest cost after signing (about
// 1.2 KB, the token twice), and building the message only to serialize it
// meant a string copy, an arena entry and a destructor per field. The bytes
// are exactly what SerializeToString writes for PlaybackToProto's message
// (fields in number order, proto3 defaults left out); playback_wire_test
// holds the two equal over randomized playbacks.
//
//   v1::IssuePlaybackResponse reply;
//   PlaybackToProto(std::move(issued), &reply);
//   std::string wire;
//   AppendIssuePlaybackResponse(issued, &wire);
#ifndef EDGEPASS_SERVER_API_PLAYBACK_REPLY_H_
#define EDGEPASS_SERVER_API_PLAYBACK_REPLY_H_

#include <string>

#include "edgepass/v1/playback.pb.h"
#include "server/app/playback_issuer.h"

namespace edgepass::server {

// Moves `playback`'s strings into `reply`.
void PlaybackToProto(IssuedPlayback playback, v1::IssuePlaybackResponse* reply);

// Appends the serialized IssuePlaybackResponse of `playback` to `out`.
void AppendIssuePlaybackResponse(const IssuedPlayback& playback, std::string* out);

}  // namespace edgepass::server

#endif  // EDGEPASS_SERVER_API_PLAYBACK_REPLY_H_
