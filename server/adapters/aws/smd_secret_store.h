// SecretStore over an existing SMD deployment's secrets ("Secure Media
// Delivery at the Edge on AWS", v1.2.x), so edgepass validates SMD's live
// tokens from day one and can take over its rotation:
//   <stack>_PrimarySecret    {"<key id>": "<key value>"}   -> primary
//   <stack>_SecondarySecret  {"<key id>": "<key value>"}   -> secondary
//   <stack>_TemporarySecret  {"<key id>": "<key value>"}   -> pending when edgepass stored it
//                            (it is in <stack>_EdgepassKeyring); a key of SMD's own
//                            rotation -> distributed and foreign (validators accept it,
//                            nobody signs with it until SMD's swap makes it primary; it is
//                            never replaced nor stored as edgepass's); {"INITIALIZED_KEY": "INITIALIZED_VALUE"}
//                            between rotations (no key)
// SMD writes the id's day unpadded, so "2024035_<20 hex>" (7 digits) occurs.
//
// Writing (edgepass rotates) keeps SMD's own readers right — its SDK reads
// Primary and Secondary, its rotation Temporary — and adds one secret SMD
// does not know, <stack>_EdgepassKeyring, with the whole keyring (retired
// keys with not_after, created_at). Reads prefer it while its primary is
// the key in <stack>_PrimarySecret; when they differ (SMD rotated since, or a
// write stopped half-way) the three SMD secrets win, plus the retired keys
// of the edgepass secret that they no longer hold. Write order:
// EdgepassKeyring, then as SMD's own swap Secondary, Primary, Temporary; a
// secret whose content is already right is not written again. A write that
// stops half-way therefore reads as the old state plus the keys being retired
// (before Primary is written) or as the new state (after).
//
//   SmdSecretStore store(client, "my-smd-stack");
//   absl::StatusOr<core::Keyring> keys = store.ReadKeyring();
#ifndef EDGEPASS_SERVER_ADAPTERS_AWS_SMD_SECRET_STORE_H_
#define EDGEPASS_SERVER_ADAPTERS_AWS_SMD_SECRET_STORE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/synchronization/mutex.h"
#include "aws/secrets_manager_client.h"
#include "server/state/secret_store.h"

namespace edgepass::server {

inline constexpr absl::string_view kSmdInitializedKey = "INITIALIZED_KEY";
inline constexpr absl::string_view kSmdInitializedValue = "INITIALIZED_VALUE";

struct SmdKeyPair {
  std::string id;
  std::string value;
};

// One SMD secret: a JSON object with exactly one string member whose value
// is 128 lower-case hex characters. nullopt for the INITIALIZED placeholder.
// FAILED_PRECONDITION "secret <name>: ..." otherwise (never quoting the value).
absl::StatusOr<std::optional<SmdKeyPair>> ParseSmdSecret(absl::string_view secret_name,
                                                         absl::string_view text);

// Thread-safe; writes serialized within the process.
class SmdSecretStore : public SecretStore {
 public:
  SmdSecretStore(std::shared_ptr<aws::SecretsManagerClient> client, std::string stack_name);

  // Errors as SecretsManagerSecretStore::ReadKeyring(); FAILED_PRECONDITION
  // when a secret is malformed, a value is not 128 lower-case hex
  // characters, or the primary secret holds the placeholder.
  absl::StatusOr<core::Keyring> ReadKeyring() override;
  // INVALID_ARGUMENT when `keyring` has no primary; FAILED_PRECONDITION when
  // any stored secret is malformed, or when `keyring` has a pending or
  // distributed key of its own while TemporarySecret holds a key of SMD's
  // own rotation (nothing is written then). Without one, that key is left in
  // place. Foreign keys of `keyring` (SMD's, as ReadKeyring() gives them) are
  // never written.
  absl::Status WriteKeyring(const core::Keyring& keyring) override;

  int64_t read_count() const override { return reads_.load(std::memory_order_relaxed); }
  int64_t read_error_count() const override { return read_errors_.load(std::memory_order_relaxed); }

  std::string primary_secret() const { return stack_ + "_PrimarySecret"; }
  std::string secondary_secret() const { return stack_ + "_SecondarySecret"; }
  std::string temporary_secret() const { return stack_ + "_TemporarySecret"; }
  std::string edgepass_secret() const { return stack_ + "_EdgepassKeyring"; }

 private:
  struct Stored {
    SmdKeyPair primary;
    std::optional<SmdKeyPair> secondary;
    std::optional<SmdKeyPair> temporary;
    std::optional<core::Keyring> edgepass;  // when the extra secret exists and parses
  };
  absl::StatusOr<Stored> ReadStored();
  // True when TemporarySecret holds a key that edgepass did not store (it is
  // in neither <stack>_EdgepassKeyring nor SMD's primary or secondary secret):
  // SMD's own rotation put it there and its swap will make it primary.
  static bool IsSmdRotationKey(const Stored& s);
  absl::StatusOr<core::Keyring> ReadUncounted();
  absl::Status PutIfChanged(const std::string& secret, const std::string& text, const std::string& keyring_json);

  const std::shared_ptr<aws::SecretsManagerClient> client_;
  const std::string stack_;
  absl::Mutex write_mu_;
  absl::Mutex log_mu_;
  std::string logged_smd_key_ ABSL_GUARDED_BY(log_mu_);  // logged once per key
  std::atomic<int64_t> reads_{0};
  std::atomic<int64_t> read_errors_{0};
};

}  // namespace edgepass::server

#endif  // EDGEPASS_SERVER_ADAPTERS_AWS_SMD_SECRET_STORE_H_
