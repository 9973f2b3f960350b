#include "server/api/playback_request.h"

#include <cstddef>
#include <cstdint>
#include <string>

#include "server/api/proto_convert.h"

namespace edgepass::server {
namespace {

// Tags (field number << 3 | wire type 2, length-delimited) of the fields read
// here, each one byte: edgepass.v1.IssuePlaybackRequest and Viewer
// (proto/edgepass/v1/playback.proto, policy.proto).
namespace request {
constexpr uint8_t kAssetId = 1 << 3 | 2, kViewer = 2 << 3 | 2, kEntitlement = 3 << 3 | 2;
}
namespace viewer {
constexpr uint8_t kIp = 1 << 3 | 2, kCountry = 2 << 3 | 2, kRegion = 3 << 3 | 2, kCity = 4 << 3 | 2,
                  kSessionId = 5 << 3 | 2;
}

// Reads `bytes` one length-delimited field at a time. Lengths take at most
// two varint bytes (16 KiB, beyond any accepted value); longer ones decline.
class WireReader {
 public:
  explicit WireReader(absl::string_view bytes) : p_(bytes.data()), end_(bytes.data() + bytes.size()) {}

  bool done() const { return p_ == end_; }

  // The next field's one-byte tag and its bytes; false when the bytes are
  // not that (the caller declines).
  bool Next(uint8_t* tag, absl::string_view* value) {
    if (end_ - p_ < 2) return false;
    *tag = static_cast<uint8_t>(*p_++);
    size_t length = static_cast<uint8_t>(*p_++);
    if (length >= 0x80) {
      if (p_ == end_ || static_cast<uint8_t>(*p_) >= 0x80) return false;
      length = (length & 0x7f) | static_cast<size_t>(static_cast<uint8_t>(*p_++)) << 7;
    }
    if (static_cast<size_t>(end_ - p_) < length) return false;
    *value = absl::string_view(p_, length);
    p_ += length;
    return true;
  }

 private:
  const char* p_;
  const char* const end_;
};

// Protobuf checks proto3 strings are UTF-8; ASCII needs no such rule.
bool IsAscii(absl::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

// A string field: last one wins, as protobuf merges it.
bool Take(absl::string_view value, std::string* field) {
  if (!IsAscii(value)) return false;
  field->assign(value.data(), value.size());
  return true;
}

// One occurrence of the viewer: a second one merges into the first, field by
// field, as protobuf merges a repeated message field.
bool ReadViewer(absl::string_view bytes, core::ViewerAttributes* out) {
  WireReader reader(bytes);
  while (!reader.done()) {
    uint8_t tag;
    absl::string_view value;
    if (!reader.Next(&tag, &value)) return false;
    std::string* field = nullptr;
    switch (tag) {
      case viewer::kIp: field = &out->ip; break;
      case viewer::kCountry: field = &out->co; break;
      case viewer::kRegion: field = &out->reg; break;
      case viewer::kCity: field = &out->cty; break;
      case viewer::kSessionId: field = &out->session_id; break;
      default: return false;  // headers, query, unknown: protobuf's path
    }
    if (!Take(value, field)) return false;
  }
  return true;
}

// ViewerFromProto's bounds: beyond them it names the field, so decline.
bool WithinViewerBounds(const core::ViewerAttributes& v) {
  return v.ip.size() <= kMaxViewerIpLength && v.co.size() <= core::kMaxViewerValueLength &&
         v.reg.size() <= core::kMaxViewerValueLength && v.cty.size() <= core::kMaxViewerValueLength &&
         v.session_id.size() <= static_cast<size_t>(core::kMaxSessionIdLength);
}

}  // namespace

bool DecodeCommonIssuePlaybackRequest(absl::string_view wire, PlaybackRequest* out) {
  WireReader reader(wire);
  while (!reader.done()) {
    uint8_t tag;
    absl::string_view value;
    if (!reader.Next(&tag, &value)) return false;
    switch (tag) {
      case request::kAssetId:
        if (!Take(value, &out->asset_id)) return false;
        break;
      case request::kEntitlement:
        if (!Take(value, &out->entitlement)) return false;
        break;
      case request::kViewer:
        if (!ReadViewer(value, &out->viewer)) return false;
        break;
      default:
        return false;
    }
  }
  return WithinViewerBounds(out->viewer);
}

}  // namespace edgepass::server
