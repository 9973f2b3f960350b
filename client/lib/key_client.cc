#include "client/lib/key_client.h"

#include <utility>

#include "client/lib/unary_call_internal.h"
#include "edgepass/v1/keys.grpc.pb.h"

namespace edgepass::client {

using v1::KeyService;

class KeyClient::Stub {
 public:
  explicit Stub(const ClientOptions& options) : stub_(KeyService::NewStub(internal::MakeChannel(options))) {}
  KeyService::Stub& get() { return *stub_; }

 private:
  std::unique_ptr<KeyService::Stub> stub_;
};

KeyClient::KeyClient(ClientOptions options) : options_(std::move(options)), stub_(std::make_unique<Stub>(options_)) {}

KeyClient::~KeyClient() = default;

absl::StatusOr<v1::KeyStatus> KeyClient::GetKeyStatus() {
  return internal::UnaryCall(options_, stub_->get(), &KeyService::Stub::GetKeyStatus, v1::GetKeyStatusRequest());
}

absl::StatusOr<v1::RotateKeysResponse> KeyClient::RotateKeys() {
  return internal::UnaryCall(options_, stub_->get(), &KeyService::Stub::RotateKeys, v1::RotateKeysRequest());
}

absl::StatusOr<v1::KeyStatus> KeyClient::RevokeKey(const std::string& key_id) {
  v1::RevokeKeyRequest request;
  request.set_key_id(key_id);
  request.set_confirm_tokens_refused(true);
  return internal::UnaryCall(options_, stub_->get(), &KeyService::Stub::RevokeKey, request);
}

absl::StatusOr<v1::CloudFrontKey> KeyClient::PutCloudFrontKey(const v1::PutCloudFrontKeyRequest& request) {
  return internal::UnaryCall(options_, stub_->get(), &KeyService::Stub::PutCloudFrontKey, request);
}

}  // namespace edgepass::client
