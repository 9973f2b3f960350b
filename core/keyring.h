// Signing keys and the keyring a validator or issuer holds.
//
//   absl::StatusOr<Keyring> keys = ParseKeyringJson(file_text);
//   const SigningKey* primary = keys->Primary();
//   const SigningKey* k = keys->Find(kid);   // nullptr when unknown
#ifndef EDGEPASS_CORE_KEYRING_H_
#define EDGEPASS_CORE_KEYRING_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "core/hmac_key.h"
#include "core/random.h"

namespace edgepass::core {

// Key lifecycle of DESIGN.md: pending -> distributed -> primary -> secondary
// -> retired -> gone.
enum class KeyState { kPending, kDistributed, kPrimary, kSecondary, kRetired };

inline constexpr size_t kKeyValueLength = 128;  // hex characters
inline constexpr size_t kMaxKeyIdLength = 64;

absl::string_view KeyStateName(KeyState state);

// True for 1 to `max_length` characters of [A-Za-z0-9_-] (key and session ids).
bool IsIdentifier(absl::string_view s, size_t max_length);
// A key id: an identifier of at most kMaxKeyIdLength characters.
bool IsValidKeyId(absl::string_view id);
absl::StatusOr<KeyState> ParseKeyState(absl::string_view name);


struct SigningKey {
  std::string id;     // e.g. "20261121_3f9a2c4e1b7d805e6a12"; the JWT `kid`
  std::string value;  // 128 lower-case hex chars; the HMAC key is these ASCII bytes
  KeyState state = KeyState::kPrimary;
  absl::Time created_at = absl::UnixEpoch();
  // The key validates tokens until this instant (retired keys); infinite otherwise.
  absl::Time not_after = absl::InfiniteFuture();
  // A key another rotation put beside ours (SMD's rotation Lambda): always
  // distributed, so validators accept it before that rotation's swap makes it
  // primary; issuers never sign with it and edgepass's rotator never
  // promotes, revokes or stores it. JSON "foreign": true (absent: false).
  bool foreign = false;
};

// An immutable set of keys with unique ids and at most one primary.
// Thread-compatible; share it through a const pointer.
class Keyring {
 public:
  Keyring() = default;

  // INVALID_ARGUMENT naming the key (`keys[i].id` / `.value` / `.state`) when
  // an id is empty, too long or repeated, a value is not 128 hex characters,
  // more than one key is primary, or a foreign key is not distributed.
  static absl::StatusOr<Keyring> Create(std::vector<SigningKey> keys);

  // The key with this id, or nullptr.
  const SigningKey* Find(absl::string_view id) const;
  // The key whose standard JWT header {"alg":"HS256","typ":"JWT","kid":id},
  // base64url-encoded as edgepass and SMD write it, equals `header_b64`; nullptr
  // otherwise. Lets validation skip decoding the header of ordinary tokens.
  const SigningKey* FindByEncodedHeader(absl::string_view header_b64) const;
  // The primary key (the one tokens are signed with), or nullptr.
  const SigningKey* Primary() const;
  // The precomputed HMAC state of `key`, which must be one of keys() (as
  // Find() and friends return it); nullptr for any other pointer.
  const HmacSha256Key* MacKeyOf(const SigningKey* key) const;
  const std::vector<SigningKey>& keys() const { return keys_; }

 private:
  std::vector<SigningKey> keys_;
  std::vector<std::string> encoded_headers_;  // parallel to keys_
  std::vector<HmacSha256Key> mac_keys_;       // parallel to keys_
};

// The JWT header edgepass (and SMD's SDK) writes for a key, before encoding.
std::string JwtHeaderJson(absl::string_view kid);

// Accepts the project's keyring file
//   {"keys":[{"id":..,"value":..,"state":"primary","created_at":EPOCH,"not_after":EPOCH}]}
// and SMD's keys object
//   {"primary":{"uuid":..,"value":..},"secondary":{"uuid":..,"value":..}}.
// INVALID_ARGUMENT (with the field path) for anything else.
absl::StatusOr<Keyring> ParseKeyringJson(absl::string_view json);

// The project's keyring file format (see ParseKeyringJson).
std::string KeyringToJson(const Keyring& keyring);

// A new key: id "<YYYYMMDD of now, UTC>_<20 hex>", value 128 hex chars from
// 64 random bytes, state `state`, created_at `now`.
SigningKey GenerateSigningKey(absl::Time now, KeyState state, RandomSource& random);

}  // namespace edgepass::core

#endif  // EDGEPASS_CORE_KEYRING_H_
