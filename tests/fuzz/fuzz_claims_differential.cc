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
#include "core/token_claims_snapshot_internal.h"

namespace {

using edgepass::core::internal::Claim;
using edgepass::core::internal::ClaimName;
using edgepass::core::internal::ClaimType;
using edgepass::core::internal::ScanResult;

using Reading = edgepass::core::internal::ClaimsSnapshot;
using edgepass::core::internal::ReadFast;
using edgepass::core::internal::ReadFull;
using edgepass::core::internal::ReadParse;

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

  const Reading full = ReadFull(json);
  ScanResult result;
  const Reading scanned = ReadFast(json, &result);
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

  const Reading parsed = ReadParse(json);
  if (!(parsed == full))
    Disagree("Parse() differs from the full parser", json, parsed, full);
  return 0;
}
