// AWS Secrets Manager over its JSON protocol (X-Amz-Target secretsmanager.*,
// application/x-amz-json-1.1), signed with SigV4, retried with exponential
// backoff and full jitter on throttling and 5xx. Never logs; errors name the
// operation and AWS's error code, never a secret value or a response body.
//
//   SecretsManagerClient sm({.region = "eu-west-1"}, credentials, &http);
//   absl::StatusOr<SecretValue> v = sm.GetSecretValue("edgepass/keyring", "AWSCURRENT");
#ifndef EDGEPASS_AWS_SECRETS_MANAGER_CLIENT_H_
#define EDGEPASS_AWS_SECRETS_MANAGER_CLIENT_H_

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "aws/credentials.h"
#include "aws/http_client.h"

namespace edgepass::aws {

inline constexpr absl::string_view kStageCurrent = "AWSCURRENT";
inline constexpr absl::string_view kStagePending = "AWSPENDING";
inline constexpr absl::string_view kStagePrevious = "AWSPREVIOUS";

struct SecretsManagerOptions {
  std::string region;               // required: the credential scope
  std::optional<Endpoint> endpoint; // default https://secretsmanager.<region>.amazonaws.com
  int max_attempts = 4;             // per call, first one included
  absl::Duration base_backoff = absl::Milliseconds(100);
  absl::Duration max_backoff = absl::Seconds(5);
  // Tests replace the clock and the sleep between attempts.
  std::function<absl::Time()> now = [] { return absl::Now(); };
  std::function<void(absl::Duration)> sleep = [](absl::Duration d) { absl::SleepFor(d); };
};

struct SecretValue {
  std::string arn;
  std::string name;
  std::string version_id;
  std::string secret_string;  // never logged
  std::vector<std::string> version_stages;
};

struct SecretDescription {
  std::string arn;
  std::string name;
  // version id -> its stages (AWSCURRENT, AWSPENDING, AWSPREVIOUS, ...).
  std::map<std::string, std::vector<std::string>> versions;
  // The version holding `stage`, or "".
  std::string VersionWithStage(absl::string_view stage) const;
};

// Thread-safe.
class SecretsManagerClient {
 public:
  // `http` must outlive the client.
  SecretsManagerClient(SecretsManagerOptions options,
                       std::shared_ptr<CredentialsProvider> credentials, const HttpClient* http);

  // `version_stage` "" means AWSCURRENT.
  absl::StatusOr<SecretValue> GetSecretValue(absl::string_view secret_id,
                                             absl::string_view version_stage = "");
  // A new version with `secret_string`; `client_request_token` (32-64
  // characters) makes a repeat idempotent. Returns the version id.
  absl::StatusOr<std::string> PutSecretValue(absl::string_view secret_id,
                                             absl::string_view secret_string,
                                             absl::string_view client_request_token,
                                             const std::vector<std::string>& version_stages);
  absl::StatusOr<SecretDescription> DescribeSecret(absl::string_view secret_id);
  // A new secret whose first version (AWSCURRENT) holds `secret_string`.
  // Returns the version id; ALREADY_EXISTS when the name is taken.
  absl::StatusOr<std::string> CreateSecret(absl::string_view name, absl::string_view secret_string,
                                           absl::string_view client_request_token);
  // Moves `stage` to `move_to_version_id` (removing it from
  // `remove_from_version_id`, which AWS requires when the stage is attached
  // elsewhere); `move_to_version_id` "" only removes it. Moving AWSCURRENT
  // makes AWS label the old version AWSPREVIOUS.
  absl::Status UpdateSecretVersionStage(absl::string_view secret_id, absl::string_view stage,
                                        absl::string_view move_to_version_id,
                                        absl::string_view remove_from_version_id);

  // HTTP requests sent so far, retries included (tests).
  int64_t requests_sent() const;
  // How far AWS's clock is ahead of ours, as learnt from a reply refusing our
  // signing time (RequestTimeTooSkewed, "Signature expired"); signing uses
  // now() + this, as the AWS SDKs do.
  absl::Duration clock_skew() const;

 private:
  // Signs and sends `operation` (e.g. "GetSecretValue") with a JSON body,
  // retrying; the parsed JSON reply body of a 2xx answer as text.
  absl::StatusOr<std::string> Call(absl::string_view operation, const std::string& body);

  const SecretsManagerOptions options_;
  const Endpoint endpoint_;
  const std::shared_ptr<CredentialsProvider> credentials_;
  const HttpClient* http_;
  std::atomic<int64_t> requests_{0};
  std::atomic<int64_t> skew_us_{0};
};

}  // namespace edgepass::aws

#endif  // EDGEPASS_AWS_SECRETS_MANAGER_CLIENT_H_
