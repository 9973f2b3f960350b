// Internal to core's tests and fuzz targets: what a payload was read as, in a
// form that can be compared, so the scanner and the full parser can be held
// to each other (core/token_claims_test.cc, tests/fuzz/fuzz_claims_differential.cc).
//
//   ScanResult r;
//   if (ReadFast(json, &r) != ReadFull(json) && r == ScanResult::kParsed) ...;
#ifndef EDGEPASS_CORE_TOKEN_CLAIMS_SNAPSHOT_INTERNAL_H_
#define EDGEPASS_CORE_TOKEN_CLAIMS_SNAPSHOT_INTERNAL_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "core/token_claims.h"

namespace edgepass::core::internal {

struct ClaimsSnapshot {
  bool parsed = false;
  std::vector<ClaimType> types;
  std::vector<bool> booleans;
  std::vector<int64_t> integers;
  std::vector<std::string> strings;
  std::vector<std::vector<std::string>> lists;

  bool operator==(const ClaimsSnapshot&) const = default;
};

// Every claim of `claims`, or only parsed = false.
inline ClaimsSnapshot TakeSnapshot(const TokenClaims& claims, bool parsed) {
  ClaimsSnapshot s;
  s.parsed = parsed;
  if (!parsed) return s;
  for (size_t i = 0; i < kClaimCount; ++i) {
    const Claim c = static_cast<Claim>(i);
    s.types.push_back(claims.type(c));
    s.booleans.push_back(claims.boolean(c));
    s.integers.push_back(claims.integer(c));
    s.strings.emplace_back(claims.string(c));
    std::vector<std::string> list;
    for (absl::string_view item : claims.list(c)) list.emplace_back(item);
    s.lists.push_back(std::move(list));
  }
  return s;
}

// The scanner alone (parsed only on kParsed); `result` receives its verdict.
inline ClaimsSnapshot ReadFast(absl::string_view json, ScanResult* result = nullptr) {
  TokenClaims claims;
  const ScanResult r = claims.Scan(json);
  if (result != nullptr) *result = r;
  return TakeSnapshot(claims, r == ScanResult::kParsed);
}

// The full parser alone.
inline ClaimsSnapshot ReadFull(absl::string_view json) {
  TokenClaims claims;
  const bool parsed = claims.ParseWithFullParser(json);
  return TakeSnapshot(claims, parsed);
}

// Parse(): the scanner, then the full parser when the scanner cannot decide.
inline ClaimsSnapshot ReadParse(absl::string_view json) {
  TokenClaims claims;
  const bool parsed = claims.Parse(json);
  return TakeSnapshot(claims, parsed);
}

}  // namespace edgepass::core::internal

#endif  // EDGEPASS_CORE_TOKEN_CLAIMS_SNAPSHOT_INTERNAL_H_
