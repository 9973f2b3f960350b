#include "server/app/cloudfront_key_cache.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

namespace edgepass::server {

CloudFrontKeyCache::CloudFrontKeyCache(SecretStore& store, Clock clock, CloudFrontKeyCacheOptions options)
    : store_(store), clock_(std::move(clock)), options_(options) {}

absl::Status CloudFrontKeyCache::ReloadLocked(absl::Time now) {
  last_attempt_ = now;
  ++reads_;
  absl::StatusOr<std::vector<CloudFrontKeyEntry>> entries = store_.ReadCloudFrontKeys();
  if (!entries.ok()) return entries.status();
  std::map<std::string, absl::StatusOr<core::CloudFrontSigner>, std::less<>> signers;
  for (const CloudFrontKeyEntry& e : *entries) {
    absl::StatusOr<core::CloudFrontSigner> signer = core::CloudFrontSigner::Create(e.key_pair_id, e.private_key_pem);
    if (!signer.ok()) {
      signer = absl::FailedPreconditionError("cloudfront_key_pair_id: the stored key does not parse");
    }
    signers.emplace(e.key_pair_id, std::move(signer));
  }
  signers_ = std::move(signers);
  loaded_ = true;
  stale_ = false;
  loaded_at_ = now;
  return absl::OkStatus();
}

absl::StatusOr<core::CloudFrontSigner> CloudFrontKeyCache::Signer(absl::string_view key_pair_id) {
  const absl::Time now = clock_();
  absl::MutexLock lock(&mu_);
  const bool expired = now - loaded_at_ >= options_.ttl;
  const bool missing = signers_.find(key_pair_id) == signers_.end();
  // Reads are bounded: at most one per miss_reload_interval, whatever asks.
  if ((!loaded_ || stale_ || expired || missing) && now - last_attempt_ >= options_.miss_reload_interval) {
    last_error_ = ReloadLocked(now);
  }
  if (!loaded_) return last_error_;  // else serve what is cached
  auto it = signers_.find(key_pair_id);
  if (it == signers_.end()) {
    return absl::FailedPreconditionError("cloudfront_key_pair_id: no such key in the secrets store");
  }
  return it->second;
}

void CloudFrontKeyCache::Invalidate() {
  absl::MutexLock lock(&mu_);
  stale_ = true;
  last_attempt_ = absl::InfinitePast();
}

int64_t CloudFrontKeyCache::reads() const {
  absl::MutexLock lock(&mu_);
  return reads_;
}

}  // namespace edgepass::server
