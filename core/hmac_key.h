// HMAC-SHA256 with the key schedule done once: the inner and outer hash states
// after the key block are kept, so each MAC costs only the message's blocks
// and allocates nothing. The keyring holds one per key for validation.
//
//   HmacSha256Key mac(key.value);
//   Sha256Digest sig = mac.Mac(signing_input);         // == HmacSha256(key.value, signing_input)
//   Sha256Digest tag = mac.MacOfParts({ip, ":", sid});  // HMAC of the concatenation
#ifndef EDGEPASS_CORE_HMAC_KEY_H_
#define EDGEPASS_CORE_HMAC_KEY_H_

#include <array>
#include <cstdint>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "core/crypto.h"

namespace edgepass::core {

// A value type; copies are independent. Thread-safe for concurrent const use.
// The stored states are as secret as the key: the destructor wipes them.
class HmacSha256Key {
 public:
  // The key of the empty string.
  HmacSha256Key();
  // `key` as given (any length; longer than 64 bytes is hashed first, as HMAC
  // specifies).
  explicit HmacSha256Key(absl::string_view key);
  HmacSha256Key(const HmacSha256Key&) = default;
  HmacSha256Key& operator=(const HmacSha256Key&) = default;
  ~HmacSha256Key();

  // HMAC-SHA256 of `data`; equals HmacSha256(key, data).
  Sha256Digest Mac(absl::string_view data) const;
  // HMAC-SHA256 of the concatenation of `parts`, without concatenating them.
  Sha256Digest MacOfParts(absl::Span<const absl::string_view> parts) const;

 private:
  using Midstate = std::array<uint32_t, 8>;  // SHA-256 chaining value after one block
  Midstate inner_{};
  Midstate outer_{};
};

}  // namespace edgepass::core

#endif  // EDGEPASS_CORE_HMAC_KEY_H_
