// HMAC-SHA256, base64url and constant-time comparison: the primitives of the
// token format.
//
//   std::string sig = Base64UrlEncode(HmacSha256(key, signing_input));
//   bool same = ConstantTimeEquals(sig, presented);
#ifndef EDGEPASS_CORE_CRYPTO_H_
#define EDGEPASS_CORE_CRYPTO_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace edgepass::core {

using Sha256Digest = std::array<uint8_t, 32>;

// HMAC-SHA256 of `data` under `key` (the key's bytes as given). Thread-safe.
Sha256Digest HmacSha256(absl::string_view key, absl::string_view data);

// Unpadded base64url (RFC 4648 section 5), as JWT uses.
std::string Base64UrlEncode(absl::string_view bytes);
std::string Base64UrlEncode(const Sha256Digest& digest);
// Appends Base64UrlEncode(bytes) to `out`.
void Base64UrlAppend(absl::string_view bytes, std::string* out);

// Decodes unpadded base64url into `out` (cleared first). Returns false on any
// character outside the alphabet, on padding, or on an impossible length.
bool Base64UrlDecode(absl::string_view text, std::string* out);
// The same, into `out` without allocating: on success *size is the decoded
// length. Also false when the decoded bytes would not fit in `out`.
bool Base64UrlDecode(absl::string_view text, absl::Span<char> out, size_t* size);

// Compares in time that depends only on the lengths, never on the contents.
bool ConstantTimeEquals(absl::string_view a, absl::string_view b);

// Lower-case hex of `bytes`.
std::string HexEncode(absl::string_view bytes);

}  // namespace edgepass::core

#endif  // EDGEPASS_CORE_CRYPTO_H_
