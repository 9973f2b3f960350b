// The policy a CloudFront signed URL or cookie carries: a resource (with '*'
// and '?' wildcards), an expiry (DateLessThan), an optional start
// (DateGreaterThan) and an optional IPv4 range (IpAddress), serialized to the
// exact JSON bytes the AWS SDK for JavaScript signs, and parsed back for
// verification.
//
//   CloudFrontPolicy p{.resource = "https://d1.cloudfront.net/video/1/*",
//                      .conditions = {.expires = now + absl::Hours(1)}};
//   if (ValidateCloudFrontPolicy(p, now).ok()) sign(CloudFrontPolicyJson(p));
#ifndef EDGEPASS_CORE_CLOUDFRONT_POLICY_H_
#define EDGEPASS_CORE_CLOUDFRONT_POLICY_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace edgepass::core {

inline constexpr size_t kMaxCloudFrontResourceBytes = 4096;
inline constexpr size_t kMaxCloudFrontPolicyBytes = 6144;

// The conditions of a policy. Times are sent as whole epoch seconds, rounded
// to the nearest second (half up) as the SDK's Math.round(ms / 1000) does.
struct CloudFrontConditions {
  absl::Time expires = absl::InfinitePast();  // DateLessThan; required
  std::optional<absl::Time> not_before;       // DateGreaterThan
  // IpAddress/AWS:SourceIp: "192.0.2.7" or "192.0.2.0/24" (CloudFront takes
  // IPv4 only); "" allows any address.
  std::string ip_range;
};

struct CloudFrontPolicy {
  std::string resource;  // absolute URL; '*' matches any run of chars, '?' one char
  CloudFrontConditions conditions;
};

// An IPv4 range from a policy; Contains() compares the first `prefix` bits.
struct CloudFrontIpRange {
  uint32_t address = 0;
  int prefix = 32;
  bool Contains(uint32_t ip) const;
};

// Whole epoch seconds as the SDK writes `t` (Math.round of milliseconds).
int64_t CloudFrontEpochSeconds(absl::Time t);

// Parses "a.b.c.d" or "a.b.c.d/n" (decimal octets without leading zeros,
// 0 <= n <= 32). INVALID_ARGUMENT "<field>: ..." otherwise.
absl::StatusOr<CloudFrontIpRange> ParseCloudFrontIpRange(absl::string_view text,
                                                         absl::string_view field);

// Parses a dotted-quad IPv4 address; nullopt otherwise.
std::optional<uint32_t> ParseIpv4(absl::string_view text);

// Checks the conditions for signing at `now`. INVALID_ARGUMENT naming the
// field: "policy.expires: ..." when the expiry (rounded as sent) is not after
// `now` or past year 9999; "policy.not_before: ..." when the start is not
// after the epoch or not before the expiry; "policy.ip_range: ..." when it
// does not parse.
absl::Status ValidateCloudFrontConditions(const CloudFrontConditions& conditions, absl::Time now);

// ValidateCloudFrontConditions plus the resource: at most
// kMaxCloudFrontResourceBytes, valid UTF-8 without control characters, and a
// scheme before "://" that is http, https, ws or wss, or made of letters and
// wildcards ("*://", "http*://"). "policy.resource: ..." otherwise.
absl::Status ValidateCloudFrontPolicy(const CloudFrontPolicy& policy, absl::Time now);

// The policy JSON, byte for byte what the SDK signs and CloudFront expects:
// {"Statement":[{"Resource":R,"Condition":{"DateLessThan":{"AWS:EpochTime":N}
// [,"DateGreaterThan":{"AWS:EpochTime":S}][,"IpAddress":{"AWS:SourceIp":"a.b.c.d/n"}]}}]}
// with no whitespace; strings escaped as JSON.stringify does and a missing
// "/n" written as "/32". A canned policy is this JSON without the optional
// parts. Meant for a policy ValidateCloudFrontPolicy accepted.
std::string CloudFrontPolicyJson(const CloudFrontPolicy& policy);

// A policy taken from a signed request, times in whole epoch seconds.
struct ParsedCloudFrontPolicy {
  std::string resource;
  int64_t expires = 0;
  std::optional<int64_t> not_before;
  std::optional<CloudFrontIpRange> ip_range;
};

// Parses policy JSON (at most kMaxCloudFrontPolicyBytes): exactly one
// statement with a string Resource and a Condition holding DateLessThan and
// optionally DateGreaterThan and IpAddress. Unknown keys, other types and a
// missing Resource (which CloudFront reads as "every resource") are refused
// with INVALID_ARGUMENT "policy...: ...".
absl::StatusOr<ParsedCloudFrontPolicy> ParseCloudFrontPolicyJson(absl::string_view json);

// CloudFront's resource matching: `pattern` against the whole of `text`,
// case-sensitively; '*' matches zero or more characters and '?' exactly one.
// Time O(|pattern| * |text|) at worst; no recursion.
bool CloudFrontWildcardMatch(absl::string_view pattern, absl::string_view text);

}  // namespace edgepass::core

#endif  // EDGEPASS_CORE_CLOUDFRONT_POLICY_H_
