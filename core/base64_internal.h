// Base64 over a caller-chosen 64-character alphabet, shared by the token
// format's unpadded base64url (crypto.cc) and CloudFront's URL-safe variant
// with '_' padding (cloudfront_url.cc). Internal to core.
#ifndef EDGEPASS_CORE_BASE64_INTERNAL_H_
#define EDGEPASS_CORE_BASE64_INTERNAL_H_

#include <array>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace edgepass::core::base64_internal {

using DecodeTable = std::array<int8_t, 256>;

// 0..63 for the characters of `alphabet` (64 of them), -1 otherwise.
constexpr DecodeTable MakeDecodeTable(const char (&alphabet)[65]) {
  DecodeTable table{};
  for (auto& v : table) v = -1;
  for (int i = 0; i < 64; ++i) table[static_cast<uint8_t>(alphabet[i])] = static_cast<int8_t>(i);
  return table;
}

// Length of Encode's output for `size` bytes.
constexpr size_t EncodedSize(size_t size, bool padded) {
  return padded ? (size + 2) / 3 * 4
                : size / 3 * 4 + (size % 3 == 0 ? 0 : size % 3 + 1);
}

// Writes EncodedSize(bytes.size(), pad != '\0') characters of Encode's output
// to `out`.
inline void EncodeTo(absl::string_view bytes, const char (&alphabet)[65],
                     char pad, char* out) {
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t v = (p[i] << 16) | (p[i + 1] << 8) | p[i + 2];
    *out++ = alphabet[(v >> 18) & 63];
    *out++ = alphabet[(v >> 12) & 63];
    *out++ = alphabet[(v >> 6) & 63];
    *out++ = alphabet[v & 63];
  }
  const size_t rest = bytes.size() - i;
  if (rest == 0) return;
  const uint32_t v = (p[i] << 16) | (rest == 2 ? p[i + 1] << 8 : 0);
  *out++ = alphabet[(v >> 18) & 63];
  *out++ = alphabet[(v >> 12) & 63];
  if (rest == 2) *out++ = alphabet[(v >> 6) & 63];
  if (pad != '\0') {
    for (size_t k = rest; k < 3; ++k) *out++ = pad;
  }
}

// `bytes` in `alphabet`; a partial last group is padded with `pad` to four
// characters, unless `pad` is '\0' (then it is left short).
inline std::string Encode(absl::string_view bytes, const char (&alphabet)[65],
                          char pad) {
  std::string out(EncodedSize(bytes.size(), pad != '\0'), '\0');
  EncodeTo(bytes, alphabet, pad, out.data());
  return out;
}

// Decodes `text` (no padding left in it) into `out` (cleared first). False on
// a character outside `table` or non-zero leftover bits, so each byte string
// has exactly one encoding.
inline bool Decode(absl::string_view text, const DecodeTable& table, std::string* out) {
  out->clear();
  out->reserve(text.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    const int8_t v = table[static_cast<uint8_t>(c)];
    if (v < 0) return false;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return (acc & ((1u << bits) - 1)) == 0;
}

}  // namespace edgepass::core::base64_internal

#endif  // EDGEPASS_CORE_BASE64_INTERNAL_H_
