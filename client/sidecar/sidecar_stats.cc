#include "client/sidecar/sidecar_stats.h"

#include "absl/strings/str_cat.h"

namespace edgepass::sidecar {
namespace {

std::string ByReason(
    const std::array<std::atomic<uint64_t>, kReasonCount>& counters) {
  std::string out = "{";
  bool first = true;
  for (size_t i = 0; i < kReasonCount; ++i) {
    const uint64_t n = counters[i].load(std::memory_order_relaxed);
    if (n == 0) continue;
    absl::StrAppend(&out, first ? "" : ",", "\"",
                    core::ReasonName(static_cast<core::Reason>(i)), "\":", n);
    first = false;
  }
  out += "}";
  return out;
}

std::string ByCloudFrontReason(
    const std::array<std::atomic<uint64_t>, kCloudFrontReasonCount>&
        counters) {
  std::string out = "{";
  bool first = true;
  for (size_t i = 0; i < kCloudFrontReasonCount; ++i) {
    const uint64_t n = counters[i].load(std::memory_order_relaxed);
    if (n == 0) continue;
    absl::StrAppend(
        &out, first ? "" : ",", "\"",
        CloudFrontDenialName(static_cast<core::CloudFrontReason>(i)), "\":", n);
    first = false;
  }
  out += "}";
  return out;
}

}  // namespace

absl::string_view CloudFrontDenialName(core::CloudFrontReason reason) {
  return client::CloudFrontRefusalName(reason);
}

absl::string_view EndpointName(SidecarEndpoint endpoint) {
  switch (endpoint) {
    case SidecarEndpoint::kAuth:
      return "/auth";
    case SidecarEndpoint::kHealthz:
      return "/healthz";
    case SidecarEndpoint::kStats:
      return "/stats";
  }
  return "/auth";
}

std::string SidecarStats::ToJson() const {
  return absl::StrCat(
      "{\"allowed\":", allowed(), ",\"unchecked\":", unchecked(),
      ",\"bad_request\":", bad_request(), ",\"denied\":", ByReason(denied_),
      ",\"would_deny\":", ByReason(would_deny_),
      ",\"cloudfront\":{\"allowed\":", cloudfront_allowed(),
      ",\"denied\":", ByCloudFrontReason(cloudfront_denied_),
      ",\"would_deny\":", ByCloudFrontReason(cloudfront_would_deny_), "}}");
}

}  // namespace edgepass::sidecar
