#include "server/app/key_desk.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/cloudfront_signer.h"
#include "core/status_macros.h"

namespace edgepass::server {
namespace {

// core names the PEM "private_key"; the API field is private_key_pem.
absl::Status AsApiField(const absl::Status& status) {
  constexpr absl::string_view kCore = "private_key:";
  if (!absl::StartsWith(status.message(), kCore)) return status;
  return absl::Status(status.code(), absl::StrCat("private_key_pem:", status.message().substr(kCore.size())));
}

}  // namespace

absl::StatusOr<CloudFrontPublicKey> KeyDesk::PutCloudFrontKey(const std::string& key_pair_id,
                                                              const std::string& private_key_pem) const {
  if (key_pair_id.empty()) return absl::InvalidArgumentError("key_pair_id: required");
  if (private_key_pem.empty()) return absl::InvalidArgumentError("private_key_pem: required");
  // The key must sign before it is stored: a bad one is refused here, with
  // nothing written.
  absl::StatusOr<core::CloudFrontSigner> signer = core::CloudFrontSigner::Create(key_pair_id, private_key_pem);
  if (!signer.ok()) return AsApiField(signer.status());
  EDGEPASS_RETURN_IF_ERROR(store_->WriteCloudFrontKey({.key_pair_id = key_pair_id, .private_key_pem = private_key_pem}));
  if (cache_ != nullptr) cache_->Invalidate();
  return CloudFrontPublicKey{.key_pair_id = signer->key_pair_id(), .public_key_pem = signer->PublicKeyPem()};
}

}  // namespace edgepass::server
