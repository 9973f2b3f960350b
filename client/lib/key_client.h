// C++ client for edgepass's KeyService: the signing keys' status and
// rotation and emergency revocation, and CloudFront private keys (`edgepass keys ...`,
// `edgepass cloudfront-key put`). Key values never come back.
//
//   edgepass::client::KeyClient keys({.address = "localhost:50051", .api_key = key});
//   absl::StatusOr<v1::KeyStatus> status = keys.GetKeyStatus();
//   absl::StatusOr<v1::RotateKeysResponse> rotated = keys.RotateKeys();
//   absl::StatusOr<v1::KeyStatus> after = keys.RevokeKey(compromised_id);  // its tokens refused at once
#ifndef EDGEPASS_CLIENT_LIB_KEY_CLIENT_H_
#define EDGEPASS_CLIENT_LIB_KEY_CLIENT_H_

#include <memory>

#include "absl/status/statusor.h"
#include "client/lib/playback_client.h"
#include "edgepass/v1/keys.pb.h"

namespace edgepass::client {

// One channel to the service; thread-safe. The API key needs scope "keys".
// Codes as in proto/edgepass/v1/keys.proto, plus UNAVAILABLE /
// DEADLINE_EXCEEDED, UNAUTHENTICATED / PERMISSION_DENIED.
class KeyClient {
 public:
  explicit KeyClient(ClientOptions options);
  ~KeyClient();
  KeyClient(const KeyClient&) = delete;
  KeyClient& operator=(const KeyClient&) = delete;

  absl::StatusOr<v1::KeyStatus> GetKeyStatus();
  // Answers once the rotation ended: give the options a deadline longer than
  // the server's acknowledgement deadline.
  absl::StatusOr<v1::RotateKeysResponse> RotateKeys();
  // Emergency removal of a key; every token it signed is refused from then
  // on (the request confirms that). A revoked primary is replaced at once.
  absl::StatusOr<v1::KeyStatus> RevokeKey(const std::string& key_id);
  absl::StatusOr<v1::CloudFrontKey> PutCloudFrontKey(const v1::PutCloudFrontKeyRequest& request);

 private:
  class Stub;
  ClientOptions options_;
  std::unique_ptr<Stub> stub_;
};

}  // namespace edgepass::client

#endif  // EDGEPASS_CLIENT_LIB_KEY_CLIENT_H_
