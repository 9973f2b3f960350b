// Counters of the sidecar's auth decisions, by outcome and reason, served as
// JSON on GET /stats (Prometheus metrics come later; the names here are the
// ones they will use).
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

#include "core/validator.h"

namespace edgepass::sidecar {

inline constexpr size_t kReasonCount =
    static_cast<size_t>(core::Reason::kBindingMismatch) + 1;

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
  void RecordBadRequest() { Bump(bad_request_); }

  uint64_t allowed() const { return allowed_.load(std::memory_order_relaxed); }
  uint64_t denied(core::Reason reason) const {
    return Load(denied_[Index(reason)]);
  }
  uint64_t would_deny(core::Reason reason) const {
    return Load(would_deny_[Index(reason)]);
  }
  uint64_t unchecked() const { return Load(unchecked_); }
  uint64_t bad_request() const { return Load(bad_request_); }

  // {"allowed":N,"unchecked":N,"bad_request":N,"denied":{REASON:N,...},
  //  "would_deny":{REASON:N,...}} with only non-zero reasons listed.
  std::string ToJson() const;

 private:
  static size_t Index(core::Reason reason) {
    const size_t i = static_cast<size_t>(reason);
    return i < kReasonCount ? i : 0;
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
};

}  // namespace edgepass::sidecar

#endif  // EDGEPASS_CLIENT_SIDECAR_SIDECAR_STATS_H_
