// The token policy of an asset: which paths a token opens, how long it lives,
// and which viewer attributes it is bound to. Field names are SMD's.
//
//   absl::StatusOr<TokenPolicy> p = ParseTokenPolicyJson(R"({"paths":["/v/1/"],"exp":"+2h"})");
//   absl::Status ok = ValidateTokenPolicy(*p);   // names the field at fault
#ifndef EDGEPASS_CORE_TOKEN_POLICY_H_
#define EDGEPASS_CORE_TOKEN_POLICY_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace edgepass::core {

inline constexpr int kDefaultSessionIdLength = 12;
inline constexpr int kMinSessionIdLength = 7;
inline constexpr int kMaxSessionIdLength = 64;
inline constexpr size_t kMaxPolicyPaths = 32;
inline constexpr size_t kMaxPolicyPathLength = 1024;
inline constexpr size_t kMaxBoundNames = 16;
inline constexpr size_t kMaxPolicyJsonBytes = 64 * 1024;

// When a token expires: relative to the issue time ("+30m", "+4h") or an
// absolute Unix time ("4102444800").
struct Expiry {
  bool relative = true;
  absl::Duration after = absl::Hours(1);    // when relative
  absl::Time at = absl::InfiniteFuture();   // when absolute
  std::string text;                          // as written, e.g. "+4h"
};

struct TokenPolicy {
  std::vector<std::string> paths;  // required, each starts with '/'
  std::vector<std::string> exc;    // prefixes that skip viewer checks
  Expiry exp;
  std::optional<absl::Time> nbf;
  bool ip = false;
  bool co = false;
  bool co_fallback = false;
  bool cty = false;
  bool reg = false;
  bool reg_fallback = false;
  bool ssn = false;
  int session_auto_generate = 0;  // 0: default length (12)
  std::vector<std::string> headers;       // bound request headers
  std::vector<std::string> querystrings;  // bound query parameters
};

// Parses "+<n>m", "+<n>h", "+<n>s" or absolute epoch seconds.
// INVALID_ARGUMENT "<field>: ..." otherwise.
absl::StatusOr<Expiry> ParseExpiry(absl::string_view text, absl::string_view field = "exp");

// Checks every rule and returns INVALID_ARGUMENT whose message starts with the
// field path at fault, prefixed by `field_prefix` (e.g. "token_policy."):
// "token_policy.paths[1]: must start with '/'".
absl::Status ValidateTokenPolicy(const TokenPolicy& policy, absl::string_view field_prefix = "");

// Parses SMD's policy JSON object (exp/nbf as string or number) and validates
// it. Unknown fields are refused so typos do not silently widen a policy
// (`cty_fallback`, present in SMD's sample asset, is accepted and ignored).
absl::StatusOr<TokenPolicy> ParseTokenPolicyJson(absl::string_view json,
                                                 absl::string_view field_prefix = "");

// SMD-shaped JSON object of the policy (only fields that differ from defaults).
std::string TokenPolicyToJson(const TokenPolicy& policy);

}  // namespace edgepass::core

#endif  // EDGEPASS_CORE_TOKEN_POLICY_H_
