#include "core/crypto.h"

#include <openssl/crypto.h>
#include <openssl/hmac.h>

#include <cstdio>
#include <cstdlib>

#include "core/base64_internal.h"

namespace edgepass::core {
namespace {

constexpr char kAlphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// 0..63 for base64url characters, -1 otherwise.
constexpr base64_internal::DecodeTable kDecode = base64_internal::MakeDecodeTable(kAlphabet);

}  // namespace

Sha256Digest HmacSha256(absl::string_view key, absl::string_view data) {
  Sha256Digest out{};
  unsigned int len = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(),
           &len) == nullptr ||
      len != out.size()) {
    // A zero digest would let a forged all-zero signature through.
    std::fputs("edgepass: HMAC-SHA256 failed in OpenSSL; refusing to continue\n", stderr);
    std::abort();
  }
  return out;
}

std::string Base64UrlEncode(absl::string_view bytes) {
  return base64_internal::Encode(bytes, kAlphabet, /*pad=*/'\0');
}

std::string Base64UrlEncode(const Sha256Digest& digest) {
  return Base64UrlEncode(
      absl::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()));
}

bool Base64UrlDecode(absl::string_view text, std::string* out) {
  out->clear();
  if (text.size() % 4 == 1) return false;
  return base64_internal::Decode(text, kDecode, out);
}

bool Base64UrlDecode(absl::string_view text, absl::Span<char> out, size_t* size) {
  *size = 0;
  const size_t tail = text.size() % 4;
  if (tail == 1 || text.size() / 4 * 3 + tail * 3 / 4 > out.size()) return false;
  const auto* in = reinterpret_cast<const uint8_t*>(text.data());
  char* o = out.data();
  const size_t whole = text.size() - tail;
  // Four characters at a time: any -1 in the group makes the OR negative.
  for (size_t i = 0; i < whole; i += 4) {
    const int a = kDecode[in[i]], b = kDecode[in[i + 1]];
    const int c = kDecode[in[i + 2]], d = kDecode[in[i + 3]];
    if ((a | b | c | d) < 0) return false;
    const uint32_t v = (static_cast<uint32_t>(a) << 18) | (static_cast<uint32_t>(b) << 12) |
                       (static_cast<uint32_t>(c) << 6) | static_cast<uint32_t>(d);
    *o++ = static_cast<char>(v >> 16);
    *o++ = static_cast<char>((v >> 8) & 0xff);
    *o++ = static_cast<char>(v & 0xff);
  }
  if (tail != 0) {
    const int a = kDecode[in[whole]], b = kDecode[in[whole + 1]];
    const int c = tail == 3 ? kDecode[in[whole + 2]] : 0;
    if ((a | b | c) < 0) return false;
    const uint32_t v = (static_cast<uint32_t>(a) << 18) | (static_cast<uint32_t>(b) << 12) |
                       (static_cast<uint32_t>(c) << 6);
    // Leftover bits must be zero, so each byte string has exactly one encoding.
    if ((tail == 2 ? v & 0xffff : v & 0xff) != 0) return false;
    *o++ = static_cast<char>(v >> 16);
    if (tail == 3) *o++ = static_cast<char>((v >> 8) & 0xff);
  }
  *size = static_cast<size_t>(o - out.data());
  return true;
}

bool ConstantTimeEquals(absl::string_view a, absl::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string HexEncode(absl::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

}  // namespace edgepass::core
