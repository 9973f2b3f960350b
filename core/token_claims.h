// Internal to core: the claims of a token payload as the validator reads them.
// A payload of the shape edgepass and SMD issue (one flat object of integers,
// booleans, null, strings without escapes and lists of such strings, ASCII
// only) is read by a strict scanner that allocates nothing and returns views
// into the payload text; anything else (escapes, non-ASCII, nested objects,
// fractions, integers past 18 digits) goes through the full JSON parser, with
// the same results. A key repeated anywhere makes the payload malformed.
//
//   TokenClaims claims;
//   if (!claims.Parse(payload_json)) return Deny(Reason::kMalformedToken);
//   if (claims.type(Claim::kExp) == ClaimType::kInteger) exp = claims.integer(Claim::kExp);
#ifndef EDGEPASS_CORE_TOKEN_CLAIMS_H_
#define EDGEPASS_CORE_TOKEN_CLAIMS_H_

#include <array>
#include <cstdint>
#include <memory>

#include "absl/container/inlined_vector.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace edgepass::core::internal {

// The claims the validator reads; other keys are checked for syntax and
// duplicates, then ignored.
enum class Claim : uint8_t {
  kExp, kNbf, kIat, kPaths, kExc, kIp, kIpVer, kCo, kCoFallback, kCty, kReg, kRegFallback, kSsn,
  kHeaders, kQs, kIntsig,
};
inline constexpr size_t kClaimCount = static_cast<size_t>(Claim::kIntsig) + 1;

// The JSON name of a claim ("exp", "co_fallback", ...).
absl::string_view ClaimName(Claim claim);

enum class ClaimType : uint8_t {
  kAbsent,
  kNull,
  kBool,
  kInteger,     // fits int64 (a larger integer is kOther)
  kString,
  kStringList,  // an array whose elements are all strings (possibly empty)
  kOther,       // any other JSON value: fraction, object, mixed array
};

// What the scanner made of a payload (see TokenClaims::Scan).
enum class ScanResult {
  kParsed,        // claims filled in
  kDuplicateKey,  // a key appears twice: malformed, whatever else it holds
  kInvalid,       // not JSON, or not an object: malformed
  kUnsupported,   // maybe valid, but outside the scanner's subset: use the full parser
};

class TokenClaims {
 public:
  TokenClaims();
  ~TokenClaims();
  TokenClaims(const TokenClaims&) = delete;
  TokenClaims& operator=(const TokenClaims&) = delete;

  // Reads `json`, which must outlive this object (values view into it or into
  // storage owned here). False when it is not a JSON object or repeats a key
  // at any depth. Allocates only when the scanner hands over to the full
  // parser (or a payload has more than 16 list elements in all).
  bool Parse(absl::string_view json);

  // The two halves of Parse(), exposed so tests can hold them to each other.
  // Scan: the allocation-free scanner alone. ParseWithFullParser: nlohmann
  // JSON, then the same claim table.
  ScanResult Scan(absl::string_view json);
  bool ParseWithFullParser(absl::string_view json);

  // Accessors; each value accessor is meaningful only for its type and gives
  // false / 0 / empty otherwise.
  ClaimType type(Claim c) const { return values_[Index(c)].type; }
  bool boolean(Claim c) const { return values_[Index(c)].boolean; }
  int64_t integer(Claim c) const { return values_[Index(c)].integer; }
  absl::string_view string(Claim c) const { return values_[Index(c)].text; }
  absl::Span<const absl::string_view> list(Claim c) const;
  // True when the last Parse() used the full parser.
  bool used_full_parser() const { return full_ != nullptr; }

 private:
  struct Value {
    ClaimType type = ClaimType::kAbsent;
    bool boolean = false;
    int64_t integer = 0;
    absl::string_view text;
    uint32_t list_begin = 0;  // into items_
    uint32_t list_size = 0;
  };
  struct FullParse;  // the nlohmann document the views point into

  static size_t Index(Claim c) { return static_cast<size_t>(c); }
  void Reset();

  std::array<Value, kClaimCount> values_;
  absl::InlinedVector<absl::string_view, 16> items_;
  std::unique_ptr<FullParse> full_;
};

}  // namespace edgepass::core::internal

#endif  // EDGEPASS_CORE_TOKEN_CLAIMS_H_
