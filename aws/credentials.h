// AWS credentials as the AWS SDKs find them, in botocore's default chain
// order (the parts that apply to a service on a host or in Kubernetes):
//   1. environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY [, AWS_SESSION_TOKEN]
//   2. web identity: AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE [+ AWS_ROLE_SESSION_NAME]
//      (or role_arn + web_identity_token_file in the profile), exchanged
//      through STS AssumeRoleWithWebIdentity, cached and refreshed before expiry
//   3. the shared credentials file (AWS_SHARED_CREDENTIALS_FILE, ~/.aws/credentials)
//   4. the config file (AWS_CONFIG_FILE, ~/.aws/config)
// with the profile from AWS_PROFILE (else AWS_DEFAULT_PROFILE, else "default").
//
//   Environment env = Environment::FromProcess();
//   absl::StatusOr<std::shared_ptr<CredentialsProvider>> creds =
//       DefaultCredentialsChain(env, {.http = http, .sts_endpoint = sts});
//   absl::StatusOr<Credentials> c = (*creds)->Get();
#ifndef EDGEPASS_AWS_CREDENTIALS_H_
#define EDGEPASS_AWS_CREDENTIALS_H_

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "aws/http_client.h"
#include "aws/sigv4.h"

namespace edgepass::aws {

// The environment variables the chain reads, as an input (tests pass their own).
class Environment {
 public:
  Environment() = default;
  explicit Environment(std::map<std::string, std::string> vars) : vars_(std::move(vars)) {}
  // The AWS_* variables and HOME of this process.
  static Environment FromProcess();
  // The value, or nullopt when unset or empty.
  std::optional<std::string> Get(absl::string_view name) const;

 private:
  std::map<std::string, std::string> vars_;
};

// Thread-safe.
class CredentialsProvider {
 public:
  virtual ~CredentialsProvider() = default;
  // Credentials valid now. UNAVAILABLE when a refresh failed and nothing
  // valid is cached; UNAUTHENTICATED when the source refuses us.
  virtual absl::StatusOr<Credentials> Get() = 0;
  // "environment", "web-identity", "shared-credentials-file", "config-file", "static".
  virtual std::string source() const = 0;
};

// Fixed credentials (tests, and the environment and file sources).
class StaticCredentialsProvider : public CredentialsProvider {
 public:
  StaticCredentialsProvider(Credentials credentials, std::string source = "static")
      : credentials_(std::move(credentials)), source_(std::move(source)) {}
  absl::StatusOr<Credentials> Get() override { return credentials_; }
  std::string source() const override { return source_; }

 private:
  Credentials credentials_;
  std::string source_;
};

struct CredentialsChainOptions {
  const HttpClient* http = nullptr;  // for STS; required when web identity is configured
  // STS for the web-identity exchange; default https://sts.<region>.amazonaws.com.
  std::optional<Endpoint> sts_endpoint;
  std::string region;  // for the default STS endpoint
  std::function<absl::Time()> now = [] { return absl::Now(); };
};

// The first source of the chain above that is configured. INVALID_ARGUMENT
// naming the variable or file:line when a source is configured but broken
// (one of the two key variables only; a profile with a key id but no
// secret; a malformed file); NOT_FOUND listing what was tried when no
// source has credentials. The web-identity provider does not call STS
// before its first Get().
absl::StatusOr<std::shared_ptr<CredentialsProvider>> DefaultCredentialsChain(
    const Environment& env, const CredentialsChainOptions& options);

// The profile name the chain uses.
std::string ProfileName(const Environment& env);

// The region as the SDKs find it: AWS_REGION, AWS_DEFAULT_REGION, then
// `region` of the profile in the config file; "" when none.
std::string DefaultRegion(const Environment& env);

}  // namespace edgepass::aws

#endif  // EDGEPASS_AWS_CREDENTIALS_H_
