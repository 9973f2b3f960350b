// The CloudFront signers of the issuers: the secrets store's CloudFront keys,
// parsed once and cached, so issuing never reads the store per request. A
// key pair id not in the cache triggers a re-read (at most one per
// `miss_reload_interval`), so a key another replica stored becomes usable
// without a restart; the whole set is re-read after `ttl` (replaced keys).
// When a re-read fails, the cached keys keep serving.
//
//   CloudFrontKeyCache keys(secret_store, [] { return absl::Now(); });
//   absl::StatusOr<core::CloudFrontSigner> signer = keys.Signer("K2JCJMDEHXQW5F");
//   keys.Invalidate();   // after this process wrote a key
#ifndef EDGEPASS_SERVER_APP_CLOUDFRONT_KEY_CACHE_H_
#define EDGEPASS_SERVER_APP_CLOUDFRONT_KEY_CACHE_H_

#include <functional>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/cloudfront_signer.h"
#include "server/state/secret_store.h"

namespace edgepass::server {

struct CloudFrontKeyCacheOptions {
  absl::Duration ttl = absl::Minutes(5);
  absl::Duration miss_reload_interval = absl::Seconds(1);
};

// Thread-safe; `store` outlives it.
class CloudFrontKeyCache {
 public:
  using Clock = std::function<absl::Time()>;
  CloudFrontKeyCache(SecretStore& store, Clock clock, CloudFrontKeyCacheOptions options = {});

  // The signer of `key_pair_id`. FAILED_PRECONDITION
  // "cloudfront_key_pair_id: no such key in the secrets store" (or "...: the
  // stored key does not parse"); the store's error when it was never read
  // successfully.
  absl::StatusOr<core::CloudFrontSigner> Signer(absl::string_view key_pair_id);

  // The next Signer() re-reads the store.
  void Invalidate();

  // Successful and failed store reads so far (tests).
  int64_t reads() const;

 private:
  absl::Status ReloadLocked(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  SecretStore& store_;
  const Clock clock_;
  const CloudFrontKeyCacheOptions options_;
  mutable absl::Mutex mu_;
  bool loaded_ ABSL_GUARDED_BY(mu_) = false;
  bool stale_ ABSL_GUARDED_BY(mu_) = true;
  absl::Time loaded_at_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  absl::Time last_attempt_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  std::map<std::string, absl::StatusOr<core::CloudFrontSigner>, std::less<>> signers_ ABSL_GUARDED_BY(mu_);
  int64_t reads_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status last_error_ ABSL_GUARDED_BY(mu_) = absl::UnavailableError("secrets store: not read yet");
};

}  // namespace edgepass::server

#endif  // EDGEPASS_SERVER_APP_CLOUDFRONT_KEY_CACHE_H_
