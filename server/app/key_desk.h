// The key desk: CloudFront private keys into the secrets store (each checked
// to sign before anything is written; the reply carries the public key
// only), and this replica's CloudFront key cache told at once. No transport
// in here: see server/api/key_rpc.h.
//
//   KeyDesk keys(&secret_store, &cloudfront_key_cache);
//   absl::StatusOr<CloudFrontPublicKey> k = keys.PutCloudFrontKey("K2JCJMDEHXQW5F", pem);
#ifndef EDGEPASS_SERVER_APP_KEY_DESK_H_
#define EDGEPASS_SERVER_APP_KEY_DESK_H_

#include <string>

#include "absl/status/statusor.h"
#include "server/app/cloudfront_key_cache.h"
#include "server/state/secret_store.h"

namespace edgepass::server {

struct CloudFrontPublicKey {
  std::string key_pair_id;
  std::string public_key_pem;
};

// Thread-safe; the pointers must outlive it. `cache` may be null.
class KeyDesk {
 public:
  KeyDesk(SecretStore* store, CloudFrontKeyCache* cache) : store_(store), cache_(cache) {}

  // INVALID_ARGUMENT "key_pair_id: ..." / "private_key_pem: ..." (nothing
  // written); the store's error otherwise.
  absl::StatusOr<CloudFrontPublicKey> PutCloudFrontKey(const std::string& key_pair_id,
                                                       const std::string& private_key_pem) const;

 private:
  SecretStore* const store_;
  CloudFrontKeyCache* const cache_;
};

}  // namespace edgepass::server

#endif  // EDGEPASS_SERVER_APP_KEY_DESK_H_
