#include "core/crypto.h"

#include <openssl/crypto.h>
#include <openssl/hmac.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "core/base64_internal.h"

namespace edgepass::core {
namespace {

constexpr char kAlphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// 0..63 for base64url characters, -1 otherwise.
constexpr base64_internal::DecodeTable kDecode = base64_internal::MakeDecodeTable(kAlphabet);

// The two characters of each 12-bit value: one lookup per half of a group.
constexpr std::array<char, 8192> MakePairTable() {
  std::array<char, 8192> table{};
  for (size_t v = 0; v < 4096; ++v) {
    table[2 * v] = kAlphabet[v >> 6];
    table[2 * v + 1] = kAlphabet[v & 63];
  }
  return table;
}
constexpr std::array<char, 8192> kPairs = MakePairTable();

// Writes base64_internal::EncodedSize(bytes.size(), false) characters.
void EncodeUrl(absl::string_view bytes, char* out) {
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  const size_t whole = bytes.size() / 3 * 3;
  for (size_t i = 0; i < whole; i += 3, out += 4) {
    const uint32_t v =
        (uint32_t{p[i]} << 16) | (uint32_t{p[i + 1]} << 8) | p[i + 2];
    std::memcpy(out, &kPairs[2 * (v >> 12)], 2);
    std::memcpy(out + 2, &kPairs[2 * (v & 0xfff)], 2);
  }
  base64_internal::EncodeTo(bytes.substr(whole), kAlphabet, /*pad=*/'\0', out);
}

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
  std::string out;
  Base64UrlAppend(bytes, &out);
  return out;
}

std::string Base64UrlEncode(const Sha256Digest& digest) {
  return Base64UrlEncode(
      absl::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()));
}

void Base64UrlAppend(absl::string_view bytes, std::string* out) {
  const size_t old_size = out->size();
  out->resize(old_size +
              base64_internal::EncodedSize(bytes.size(), /*padded=*/false));
  EncodeUrl(bytes, out->data() + old_size);
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
