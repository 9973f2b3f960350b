// edgepass.v1.KeyService: CloudFront private keys into the secrets store
// (validated first; the reply carries the public key only, never the private
// one), and this replica's CloudFront key cache told at once.
//
//   KeyServiceImpl keys(&secret_store, &cloudfront_key_cache);
//   builder.RegisterService(&keys);   // through AuthorizedKeyService
#ifndef EDGEPASS_SERVER_API_KEY_SERVICE_H_
#define EDGEPASS_SERVER_API_KEY_SERVICE_H_

#include "edgepass/v1/keys.grpc.pb.h"
#include "server/adapters/cloudfront_key_cache.h"
#include "server/state/secret_store.h"

namespace edgepass::server {

// Thread-safe; the pointers must outlive it. `cache` may be null.
class KeyServiceImpl final : public v1::KeyService::Service {
 public:
  KeyServiceImpl(SecretStore* store, CloudFrontKeyCache* cache) : store_(store), cache_(cache) {}

  grpc::Status PutCloudFrontKey(grpc::ServerContext* context, const v1::PutCloudFrontKeyRequest* request,
                                v1::CloudFrontKey* response) override;

 private:
  SecretStore* const store_;
  CloudFrontKeyCache* const cache_;
};

}  // namespace edgepass::server

#endif  // EDGEPASS_SERVER_API_KEY_SERVICE_H_
