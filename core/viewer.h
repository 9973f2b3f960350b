// The viewer attributes a token may be bound to, as the playback backend knows
// them when it asks for a URL. Field names follow SMD's SDK.
//
//   absl::StatusOr<ViewerAttributes> v = ParseViewerJson(
//       R"({"ip":"203.0.113.9","sessionId":"abc1234","headers":{"user-agent":"x"}})");
#ifndef EDGEPASS_CORE_VIEWER_H_
#define EDGEPASS_CORE_VIEWER_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace edgepass::core {

inline constexpr size_t kMaxViewerValueLength = 4096;

struct ViewerAttributes {
  std::string ip;
  std::string co;   // country (CloudFront-Viewer-Country)
  std::string reg;  // region (CloudFront-Viewer-Country-Region)
  std::string cty;  // city (CloudFront-Viewer-City)
  std::string session_id;  // empty: generated when the policy binds the session
  std::vector<std::pair<std::string, std::string>> headers;  // name, value
  std::vector<std::pair<std::string, std::string>> qs;       // name, value
};

// Parses {"ip","co","reg","cty","sessionId","headers":{..},"qs":{..}}.
// INVALID_ARGUMENT naming the field for wrong types or oversized values.
absl::StatusOr<ViewerAttributes> ParseViewerJson(absl::string_view json,
                                                 absl::string_view field_prefix = "");

// Case-insensitive header lookup; nullptr when absent.
const std::string* FindViewerHeader(const ViewerAttributes& viewer, absl::string_view name);
const std::string* FindViewerQuery(const ViewerAttributes& viewer, absl::string_view name);

}  // namespace edgepass::core

#endif  // EDGEPASS_CORE_VIEWER_H_
