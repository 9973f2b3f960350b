// Counters of the sidecar's auth decisions, by outcome and reason, and of
// its HTTP responses, by endpoint and status code: the one place the sidecar
// counts. Served as JSON on GET /stats (decisions) and read by
// SidecarMetrics at every Prometheus scrape.
//
//   SidecarStats stats;
//   stats.RecordDenied(core::Reason::kExpired);
//   std::string json = stats.ToJson();  //
//   {"allowed":0,"denied":{"expired":1},...}
#ifndef EDGEPASS_CLIENT_SIDECAR_SIDECAR_STATS_H_
#define EDGEPASS_CLIENT_SIDECAR_SIDECAR_STATS_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "client/validator/cloudfront_check.h"
#include "core/cloudfront_verifier.h"
#include "core/validator.h"

namespace edgepass::sidecar {

using core::kReasonCount;

// CloudFront decisions are counted by core::CloudFrontReason, where the slot
// of kOk (never a denial) counts requests with no CloudFront signature at
// all, named "missing_signature" (CloudFrontDenialName).
using core::kCloudFrontReasonCount;
using client::kCloudFrontMissingSignature;  // "missing_signature"
// CloudFrontReasonName(reason), or kCloudFrontMissingSignature for kOk.
absl::string_view CloudFrontDenialName(core::CloudFrontReason reason);

// The sidecar's endpoints, as counted (a fixed set: bounded labels).
enum class SidecarEndpoint { kAuth, kHealthz, kStats };
inline constexpr size_t kEndpointCount = 3;
// "/auth" (every path but the two others), "/healthz", "/stats".
absl::string_view EndpointName(SidecarEndpoint endpoint);

// Status codes counted individually; others count as kOtherStatus.
inline constexpr int kMinCountedStatus = 100;
inline constexpr int kMaxCountedStatus = 599;
inline constexpr int kOtherStatus = 0;

// Thread-safe (relaxed atomics); a snapshot may be a few requests apart
// between counters.
class SidecarStats {
 public:
  void RecordAllowed() { Bump(allowed_); }
  void RecordDenied(core::Reason reason) { Bump(denied_[Index(reason)]); }
  void RecordWouldDeny(core::Reason reason) {
    Bump(would_deny_[Index(reason)]);
  }
  void RecordUnchecked() { Bump(unchecked_); }  // mode off
  // CloudFront-signed routes (cloudfront_auth.h); kOk: missing signature.
  void RecordCloudFrontAllowed() { Bump(cloudfront_allowed_); }
  void RecordCloudFrontDenied(core::CloudFrontReason reason) {
    Bump(cloudfront_denied_[CloudFrontIndex(reason)]);
  }
  void RecordCloudFrontWouldDeny(core::CloudFrontReason reason) {
    Bump(cloudfront_would_deny_[CloudFrontIndex(reason)]);
  }
  void RecordBadRequest() { Bump(bad_request_); }
  // One response sent by `endpoint`.
  void RecordResponse(SidecarEndpoint endpoint, int status) {
    Bump(responses_[static_cast<size_t>(endpoint)][StatusIndex(status)]);
  }

  uint64_t allowed() const { return allowed_.load(std::memory_order_relaxed); }
  uint64_t denied(core::Reason reason) const {
    return Load(denied_[Index(reason)]);
  }
  uint64_t would_deny(core::Reason reason) const {
    return Load(would_deny_[Index(reason)]);
  }
  uint64_t unchecked() const { return Load(unchecked_); }
  uint64_t cloudfront_allowed() const { return Load(cloudfront_allowed_); }
  uint64_t cloudfront_denied(core::CloudFrontReason reason) const {
    return Load(cloudfront_denied_[CloudFrontIndex(reason)]);
  }
  uint64_t cloudfront_would_deny(core::CloudFrontReason reason) const {
    return Load(cloudfront_would_deny_[CloudFrontIndex(reason)]);
  }
  uint64_t bad_request() const { return Load(bad_request_); }
  // Responses with `status` (kOtherStatus: outside 100-599).
  uint64_t responses(SidecarEndpoint endpoint, int status) const {
    return Load(responses_[static_cast<size_t>(endpoint)][StatusIndex(status)]);
  }

  // {"allowed":N,"unchecked":N,"bad_request":N,"denied":{REASON:N,...},
  //  "would_deny":{REASON:N,...},"cloudfront":{"allowed":N,"denied":{..},
  //  "would_deny":{..}}} with only non-zero reasons listed.
  std::string ToJson() const;

 private:
  static size_t Index(core::Reason reason) {
    const size_t i = static_cast<size_t>(reason);
    return i < kReasonCount ? i : 0;
  }
  static size_t CloudFrontIndex(core::CloudFrontReason reason) {
    const size_t i = static_cast<size_t>(reason);
    return i < kCloudFrontReasonCount ? i : 0;
  }
  static size_t StatusIndex(int status) {
    return status >= kMinCountedStatus && status <= kMaxCountedStatus
               ? static_cast<size_t>(status - kMinCountedStatus + 1)
               : 0;
  }
  static void Bump(std::atomic<uint64_t>& c) {
    c.fetch_add(1, std::memory_order_relaxed);
  }
  static uint64_t Load(const std::atomic<uint64_t>& c) {
    return c.load(std::memory_order_relaxed);
  }

  std::atomic<uint64_t> allowed_{0};
  std::atomic<uint64_t> unchecked_{0};
  std::atomic<uint64_t> bad_request_{0};
  std::array<std::atomic<uint64_t>, kReasonCount> denied_{};
  std::array<std::atomic<uint64_t>, kReasonCount> would_deny_{};
  std::atomic<uint64_t> cloudfront_allowed_{0};
  std::array<std::atomic<uint64_t>, kCloudFrontReasonCount>
      cloudfront_denied_{};
  std::array<std::atomic<uint64_t>, kCloudFrontReasonCount>
      cloudfront_would_deny_{};
  // [endpoint][0: other status, 1 + status - 100]
  std::array<std::array<std::atomic<uint64_t>,
                        kMaxCountedStatus - kMinCountedStatus + 2>,
             kEndpointCount>
      responses_{};
};

}  // namespace edgepass::sidecar

#endif  // EDGEPASS_CLIENT_SIDECAR_SIDECAR_STATS_H_
