// Builds the AWS Secrets Manager SecretStore the server runs on: region and
// credentials as the AWS SDKs find them, the HTTPS client, and either the
// keyring secret (created with a new primary key on first start) or an SMD
// deployment's secrets (which must exist).
//
//   absl::StatusOr<OpenedAwsSecretStore> s = OpenAwsSecretStore(
//       {.secret_id = "edgepass/keyring"}, aws::Environment::FromProcess(), absl::Now(), random);
#ifndef EDGEPASS_SERVER_ADAPTERS_AWS_OPEN_AWS_SECRET_STORE_H_
#define EDGEPASS_SERVER_ADAPTERS_AWS_OPEN_AWS_SECRET_STORE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "aws/credentials.h"
#include "core/random.h"
#include "server/state/secret_store.h"

namespace edgepass::server {

struct AwsSecretStoreOptions {
  std::string region;          // "": AWS_REGION, AWS_DEFAULT_REGION, then the config profile
  std::string endpoint;        // "": https://secretsmanager.<region>.amazonaws.com; also STS's
  std::string secret_id = "edgepass/keyring";
  std::string smd_stack_name;  // set: SmdSecretStore over <stack>_PrimarySecret etc.
};

struct OpenedAwsSecretStore {
  std::unique_ptr<SecretStore> store;  // owns its HTTP client and credentials
  std::string description;            // "secret edgepass/keyring in eu-west-1" (for the start log)
  std::string credentials_source;     // "environment", "web-identity", ...
};

// INVALID_ARGUMENT naming the option (aws_region, aws_endpoint) or the
// credentials variable/file at fault; the first read's error otherwise
// (NOT_FOUND for missing SMD secrets, UNAUTHENTICATED, UNAVAILABLE, ...).
absl::StatusOr<OpenedAwsSecretStore> OpenAwsSecretStore(const AwsSecretStoreOptions& options,
                                                        const aws::Environment& env, absl::Time now,
                                                        core::RandomSource& random);

}  // namespace edgepass::server

#endif  // EDGEPASS_SERVER_ADAPTERS_AWS_OPEN_AWS_SECRET_STORE_H_
