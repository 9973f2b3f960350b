// Differential libFuzzer target: the allocation-free claims scanner
// (TokenClaims::Scan) against the full nlohmann parser
// (TokenClaims::ParseWithFullParser) on arbitrary payload bytes, the property
// core/token_claims_test.cc checks on seeded random edits:
//  - Scan kParsed: both parse, and every claim reads the same (type, bool,
//    integer, string, list);
//  - Scan kDuplicateKey / kInvalid: the full parser refuses too;
//  - Parse() (scanner, then the full parser for kUnsupported) always agrees
//    with the full parser alone.
// A disagreement aborts with both readings on stderr.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "core/token_claims.h"

namespace {

using edgepass::core::internal::Claim;
using edgepass::core::internal::ClaimName;
using edgepass::core::internal::ClaimType;
using edgepass::core::internal::kClaimCount;
using edgepass::core::internal::ScanResult;
using edgepass::core::internal::TokenClaims;

struct Reading {
  bool parsed = false;
  std::vector<ClaimType> types;
  std::vector<bool> booleans;
  std::vector<int64_t> integers;
  std::vector<std::string> strings;
  std::vector<std::vector<std::string>> lists;
  bool operator==(const Reading&) const = default;
};

Reading Take(const TokenClaims& claims, bool parsed) {
  Reading r;
  r.parsed = parsed;
  if (!parsed) return r;
  for (size_t i = 0; i < kClaimCount; ++i) {
    const Claim c = static_cast<Claim>(i);
    r.types.push_back(claims.type(c));
    r.booleans.push_back(claims.boolean(c));
    r.integers.push_back(claims.integer(c));
    r.strings.emplace_back(claims.string(c));
    std::vector<std::string> list;
    for (absl::string_view item : claims.list(c)) list.emplace_back(item);
    r.lists.push_back(std::move(list));
  }
  return r;
}

void Print(const char* what, const Reading& r) {
  std::fprintf(stderr, "%s: parsed=%d\n", what, r.parsed ? 1 : 0);
  for (size_t i = 0; i < r.types.size(); ++i) {
    const absl::string_view name = ClaimName(static_cast<Claim>(i));
    std::fprintf(stderr,
                 "  %.*s type=%d bool=%d int=%lld str=\"%s\" list=%zu\n",
                 static_cast<int>(name.size()), name.data(),
                 static_cast<int>(r.types[i]), r.booleans[i] ? 1 : 0,
                 static_cast<long long>(r.integers[i]), r.strings[i].c_str(),
                 r.lists[i].size());
  }
}

[[noreturn]] void Disagree(const char* why, absl::string_view json,
                           const Reading& a, const Reading& b) {
  std::fprintf(stderr, "claims differential: %s\npayload: %.*s\n", why,
               static_cast<int>(json.size()), json.data());
  Print("first", a);
  Print("full parser", b);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Each reader gets its own copy, so a view past the end of one is caught.
  const std::string json(reinterpret_cast<const char*>(data), size);

  TokenClaims full_claims;
  const Reading full = Take(full_claims, full_claims.ParseWithFullParser(json));

  TokenClaims scan_claims;
  const ScanResult result = scan_claims.Scan(json);
  const Reading scanned = Take(scan_claims, result == ScanResult::kParsed);
  switch (result) {
    case ScanResult::kParsed:
      if (!(scanned == full))
        Disagree("Scan kParsed, full parser differs", json, scanned, full);
      break;
    case ScanResult::kDuplicateKey:
    case ScanResult::kInvalid:
      if (full.parsed)
        Disagree("Scan refused, full parser accepted", json, scanned, full);
      break;
    case ScanResult::kUnsupported:
      break;
  }

  TokenClaims parse_claims;
  const Reading parsed = Take(parse_claims, parse_claims.Parse(json));
  if (!(parsed == full))
    Disagree("Parse() differs from the full parser", json, parsed, full);
  return 0;
}
