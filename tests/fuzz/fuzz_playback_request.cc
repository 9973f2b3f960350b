// libFuzzer target: the IssuePlayback request's fast reader
// (server/api/playback_request.h) against the path it stands in for,
// protobuf's parser and PlaybackRequestFromProto. Input: the request's wire bytes.
// Checks: no crash, leak, UB or timeout; whatever the reader accepts,
// protobuf parses and PlaybackRequestFromProto accepts too, into the same request.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "absl/status/statusor.h"
#include "edgepass/v1/playback.pb.h"
#include "google/protobuf/stubs/logging.h"
#include "server/api/playback_request.h"
#include "server/api/proto_convert.h"

namespace {

void Fail(const char* what) {
  std::fprintf(stderr, "the fast reader accepted a request %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Protobuf logs each invalid UTF-8 string it refuses; the run's output
  // would be nothing else.
  static const bool quiet = [] {
    google::protobuf::SetLogHandler(nullptr);
    return true;
  }();
  (void)quiet;
  using edgepass::server::PlaybackRequest;
  PlaybackRequest fast;
  if (!edgepass::server::DecodeCommonIssuePlaybackRequest(
          absl::string_view(reinterpret_cast<const char*>(data), size), &fast)) {
    return 0;
  }
  edgepass::v1::IssuePlaybackRequest message;
  if (!message.ParseFromArray(data, static_cast<int>(size))) Fail("protobuf refuses");
  absl::StatusOr<PlaybackRequest> slow = edgepass::server::PlaybackRequestFromProto(message);
  if (!slow.ok()) Fail("PlaybackRequestFromProto refuses");
  if (fast.asset_id != slow->asset_id) Fail("with another asset_id");
  if (fast.entitlement != slow->entitlement) Fail("with another entitlement");
  const edgepass::core::ViewerAttributes& a = fast.viewer;
  const edgepass::core::ViewerAttributes& b = slow->viewer;
  if (a.ip != b.ip || a.co != b.co || a.reg != b.reg || a.cty != b.cty || a.session_id != b.session_id ||
      a.headers != b.headers || a.qs != b.qs) {
    Fail("with another viewer");
  }
  return 0;
}
