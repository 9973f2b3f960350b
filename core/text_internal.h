// Internal to core: hex digits, percent escapes and UTF-8 validity, shared by
// the path check, query parsing and CloudFront URLs. Nothing here allocates.
//
//   int b = PercentByte("%2e", 0);  // '.', or -1 when there is no "%XY" at 0
//   Utf8Check utf8;  for (unsigned char c : bytes) if (!utf8.Feed(c)) ...;
#ifndef EDGEPASS_CORE_TEXT_INTERNAL_H_
#define EDGEPASS_CORE_TEXT_INTERNAL_H_

#include <cstddef>

#include "absl/strings/string_view.h"

namespace edgepass::core::internal {

// 0-15 for a hex digit (either case), else -1.
inline int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The byte "%XY" at text[i] encodes, or -1 when there is no such escape.
inline int PercentByte(absl::string_view text, size_t i) {
  if (i + 2 >= text.size() || text[i] != '%') return -1;
  const int hi = HexValue(text[i + 1]);
  const int lo = HexValue(text[i + 2]);
  return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

// Byte-at-a-time UTF-8 check (RFC 3629): no overlong forms, surrogates or
// code points past U+10FFFF. Feed() is false at the first byte that cannot
// continue a valid text; complete() is false in the middle of a character.
class Utf8Check {
 public:
  bool Feed(unsigned char b) {
    if (need_ > 0) {
      if (b < lo_ || b > hi_) return false;
      lo_ = 0x80;
      hi_ = 0xbf;
      --need_;
      return true;
    }
    if (b < 0x80) return true;
    if (b >= 0xc2 && b <= 0xdf) return Expect(1, 0x80, 0xbf);
    if (b == 0xe0) return Expect(2, 0xa0, 0xbf);  // no overlong 3-byte forms
    if (b == 0xed) return Expect(2, 0x80, 0x9f);  // no surrogates
    if (b >= 0xe1 && b <= 0xef) return Expect(2, 0x80, 0xbf);
    if (b == 0xf0) return Expect(3, 0x90, 0xbf);  // no overlong 4-byte forms
    if (b >= 0xf1 && b <= 0xf3) return Expect(3, 0x80, 0xbf);
    if (b == 0xf4) return Expect(3, 0x80, 0x8f);  // up to U+10FFFF
    return false;
  }
  bool complete() const { return need_ == 0; }

 private:
  bool Expect(int need, unsigned char lo, unsigned char hi) {
    need_ = need;
    lo_ = lo;
    hi_ = hi;
    return true;
  }
  int need_ = 0;
  unsigned char lo_ = 0x80;  // range of the next continuation byte
  unsigned char hi_ = 0xbf;
};

}  // namespace edgepass::core::internal

#endif  // EDGEPASS_CORE_TEXT_INTERNAL_H_
