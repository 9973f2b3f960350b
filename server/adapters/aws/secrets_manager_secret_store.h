// SecretStore on AWS Secrets Manager: the keyring is one secret holding the
// project's keyring JSON (core/keyring.h). Writes are crash-safe through
// version stages: the new keyring goes in as AWSPENDING (PutSecretValue with
// a ClientRequestToken derived from its content, so a repeat is a no-op),
// then AWSCURRENT moves to it in one UpdateSecretVersionStage (AWS labels the
// old version AWSPREVIOUS). A crash between the two leaves AWSCURRENT as it
// was. Reads take AWSCURRENT.
//
//   SecretsManagerSecretStore store(client, "edgepass/keyring");
//   absl::StatusOr<core::Keyring> keys = store.ReadKeyring();
//   EDGEPASS_RETURN_IF_ERROR(store.WriteKeyring(next));
#ifndef EDGEPASS_SERVER_ADAPTERS_AWS_SECRETS_MANAGER_SECRET_STORE_H_
#define EDGEPASS_SERVER_ADAPTERS_AWS_SECRETS_MANAGER_SECRET_STORE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/synchronization/mutex.h"
#include "aws/secrets_manager_client.h"
#include "core/random.h"
#include "server/state/secret_store.h"

namespace edgepass::server {

inline constexpr absl::string_view kDefaultAwsSecretId = "edgepass/keyring";

// The keyring JSON of a stored secret: FAILED_PRECONDITION "<secret id>: ..."
// when it does not parse or has no primary key (the message names the field,
// never a value).
absl::StatusOr<core::Keyring> ParseStoredKeyring(absl::string_view secret_id,
                                                 absl::string_view text);

// The ClientRequestToken for a secret string: 36 characters derived from its
// SHA-256, so writing the same content twice makes one version.
std::string ContentRequestToken(absl::string_view secret_string);

// Thread-safe; writes are serialized within the process (the rotation lock
// serializes them across replicas).
class SecretsManagerSecretStore : public SecretStore {
 public:
  SecretsManagerSecretStore(std::shared_ptr<aws::SecretsManagerClient> client,
                            std::string secret_id);

  // AWSCURRENT. NOT_FOUND when the secret does not exist; FAILED_PRECONDITION
  // when it does not parse or has no primary; UNAVAILABLE (throttling, 5xx,
  // network, after retries); UNAUTHENTICATED / PERMISSION_DENIED when AWS
  // refuses the credentials.
  absl::StatusOr<core::Keyring> ReadKeyring() override;

  // StagePending() then PromotePending(). INVALID_ARGUMENT when `keyring` has
  // no primary; FAILED_PRECONDITION when the stored keyring does not parse
  // (it is never overwritten). Creates the secret when it does not exist.
  absl::Status WriteKeyring(const core::Keyring& keyring) override;

  // Step 1: stores `keyring` as a new version labelled AWSPENDING; AWSCURRENT
  // is untouched. Returns the version id (AWSCURRENT's when it already holds
  // exactly this keyring). NOT_FOUND when the secret does not exist.
  absl::StatusOr<std::string> StagePending(const core::Keyring& keyring);
  // Step 2: moves AWSCURRENT to that version (when it is not there yet) and
  // removes AWSPENDING from it.
  absl::Status PromoteVersion(const std::string& version_id);
  // Resumes an interrupted write: PromoteVersion() of the AWSPENDING
  // version. FAILED_PRECONDITION when nothing is pending.
  absl::Status PromotePending();

  // First start: ReadKeyring(), or when the secret does not exist a new
  // keyring with one primary key (CreateSecret). Counts as one read.
  absl::StatusOr<core::Keyring> LoadOrCreate(absl::Time now, core::RandomSource& random);

  int64_t read_count() const override { return reads_.load(std::memory_order_relaxed); }
  int64_t read_error_count() const override { return read_errors_.load(std::memory_order_relaxed); }
  const std::string& secret_id() const { return secret_id_; }

 private:
  absl::StatusOr<core::Keyring> ReadUncounted();
  absl::StatusOr<core::Keyring> CreateIfAbsent(absl::Time now, core::RandomSource& random);

  const std::shared_ptr<aws::SecretsManagerClient> client_;
  const std::string secret_id_;
  absl::Mutex write_mu_;
  std::atomic<int64_t> reads_{0};
  std::atomic<int64_t> read_errors_{0};
};

}  // namespace edgepass::server

#endif  // EDGEPASS_SERVER_ADAPTERS_AWS_SECRETS_MANAGER_SECRET_STORE_H_
