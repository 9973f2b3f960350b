#include "client/validator/cloudfront_keys_json.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "core/cloudfront_signer.h"
#include "nlohmann/json.hpp"

namespace edgepass::client {

absl::StatusOr<core::CloudFrontPublicKeys> ParseCloudFrontPublicKeysJson(
    absl::string_view json) {
  const nlohmann::json doc = nlohmann::json::parse(
      json.begin(), json.end(), nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) {
    return absl::InvalidArgumentError(
        "not a JSON object {\"KEYPAIRID\": \"-----BEGIN PUBLIC KEY-----...\"}");
  }
  if (doc.empty()) return absl::InvalidArgumentError("no keys");
  core::CloudFrontPublicKeys keys;
  for (const auto& [id, pem] : doc.items()) {
    // The id is safe to echo only once it has the shape of one.
    const std::string shown =
        core::IsValidCloudFrontKeyPairId(id) ? id : "<invalid id>";
    if (!pem.is_string()) {
      return absl::InvalidArgumentError(
          absl::StrCat("key '", shown, "': must be a PEM string"));
    }
    if (absl::Status added = keys.Add(id, pem.get<std::string>());
        !added.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("key '", shown, "': ", added.message()));
    }
  }
  return keys;
}

}  // namespace edgepass::client
