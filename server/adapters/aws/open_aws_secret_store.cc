#include "server/adapters/aws/open_aws_secret_store.h"

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "aws/http_client.h"
#include "aws/secrets_manager_client.h"
#include "core/status_macros.h"
#include "server/adapters/aws/secrets_manager_secret_store.h"
#include "server/adapters/aws/smd_secret_store.h"

namespace edgepass::server {
namespace {

// Owns the HTTP client the AWS clients point to; forwards to the store.
class OwningSecretStore : public SecretStore {
 public:
  explicit OwningSecretStore(std::unique_ptr<aws::HttpClient> http) : http_(std::move(http)) {}
  void set_store(std::unique_ptr<SecretStore> store) { store_ = std::move(store); }
  const aws::HttpClient* http() const { return http_.get(); }

  absl::StatusOr<core::Keyring> ReadKeyring() override { return store_->ReadKeyring(); }
  absl::Status WriteKeyring(const core::Keyring& keyring) override {
    return store_->WriteKeyring(keyring);
  }
  int64_t read_count() const override { return store_->read_count(); }
  int64_t read_error_count() const override { return store_->read_error_count(); }

 private:
  std::unique_ptr<aws::HttpClient> http_;  // outlives store_ (declared first)
  std::unique_ptr<SecretStore> store_;
};

}  // namespace

absl::StatusOr<OpenedAwsSecretStore> OpenAwsSecretStore(const AwsSecretStoreOptions& options,
                                                        const aws::Environment& env, absl::Time now,
                                                        core::RandomSource& random) {
  std::string region = options.region.empty() ? aws::DefaultRegion(env) : options.region;
  if (region.empty()) {
    return absl::InvalidArgumentError(
        "aws_region: required with secrets_store aws (or set AWS_REGION)");
  }
  std::optional<aws::Endpoint> endpoint;
  if (!options.endpoint.empty()) {
    EDGEPASS_ASSIGN_OR_RETURN(endpoint, aws::ParseEndpoint(options.endpoint, "aws_endpoint"));
  }
  auto owner = std::make_unique<OwningSecretStore>(std::make_unique<aws::HttpClient>());
  absl::StatusOr<std::shared_ptr<aws::CredentialsProvider>> credentials =
      aws::DefaultCredentialsChain(env, {.http = owner->http(), .sts_endpoint = endpoint, .region = region});
  if (!credentials.ok()) return credentials.status();
  auto client = std::make_shared<aws::SecretsManagerClient>(
      aws::SecretsManagerOptions{.region = region, .endpoint = endpoint}, *credentials,
      owner->http());

  OpenedAwsSecretStore opened;
  opened.credentials_source = (*credentials)->source();
  if (!options.smd_stack_name.empty()) {
    auto smd = std::make_unique<SmdSecretStore>(client, options.smd_stack_name);
    EDGEPASS_RETURN_IF_ERROR(smd->ReadKeyring().status());
    opened.description =
        absl::StrCat("SMD secrets of stack ", options.smd_stack_name, " in ", region);
    owner->set_store(std::move(smd));
  } else {
    auto store = std::make_unique<SecretsManagerSecretStore>(client, options.secret_id);
    EDGEPASS_RETURN_IF_ERROR(store->LoadOrCreate(now, random).status());
    opened.description = absl::StrCat("secret ", options.secret_id, " in ", region);
    owner->set_store(std::move(store));
  }
  opened.store = std::move(owner);
  return opened;
}

}  // namespace edgepass::server
