#include "core/cloudfront_signer.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "core/cloudfront_url.h"
#include "core/status_macros.h"

namespace edgepass::core {
namespace {

// Browsers keep cookies up to about 4096 bytes including name and attributes.
constexpr size_t kMaxCookieValueBytes = 3800;

bool IsCanned(const CloudFrontConditions& c) {
  return !c.not_before.has_value() && c.ip_range.empty();
}

absl::Status CheckSignedUrlLength(const std::string& url) {
  if (url.size() > kMaxCloudFrontUrlBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("url: the signed URL would be longer than CloudFront's ",
                     kMaxCloudFrontUrlBytes, " bytes; shorten the URL or sign cookies instead"));
  }
  return absl::OkStatus();
}

}  // namespace

bool IsValidCloudFrontKeyPairId(absl::string_view id) {
  if (id.empty() || id.size() > kMaxCloudFrontKeyPairIdLength) return false;
  for (char c : id) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

absl::StatusOr<CloudFrontSigner> CloudFrontSigner::Create(absl::string_view key_pair_id,
                                                          absl::string_view private_key_pem) {
  if (!IsValidCloudFrontKeyPairId(key_pair_id)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "key_pair_id: must be 1 to ", kMaxCloudFrontKeyPairIdLength,
        " ASCII letters and digits (the CloudFront public key id, e.g. K2JCJMDEHXQW5F)"));
  }
  EDGEPASS_ASSIGN_OR_RETURN(CloudFrontRsaKey key,
                            CloudFrontRsaKey::FromPrivateKeyPem(private_key_pem));
  return CloudFrontSigner(std::string(key_pair_id), std::move(key));
}

absl::StatusOr<CloudFrontSigner::Signed> CloudFrontSigner::Sign(const CloudFrontPolicy& policy,
                                                                bool canned) const {
  const std::string json = CloudFrontPolicyJson(policy);
  EDGEPASS_ASSIGN_OR_RETURN(std::string signature, key_.SignSha1(json));
  Signed s;
  s.signature = CloudFrontBase64Encode(signature);
  if (canned) {
    s.expires = absl::StrCat(CloudFrontEpochSeconds(policy.conditions.expires));
  } else {
    s.policy = CloudFrontBase64Encode(json);
  }
  return s;
}

// The SDK's attribute order: Expires, Policy, Key-Pair-Id, Signature. Values
// are base64 in CloudFront's alphabet, digits and the validated key pair id,
// which extendedEncodeURIComponent leaves as they are.
std::string CloudFrontSigner::AppendParams(absl::string_view base_url, const Signed& s) const {
  const char separator = base_url.find('?') == absl::string_view::npos ? '?' : '&';
  std::string out(base_url);
  out.push_back(separator);
  if (!s.expires.empty()) absl::StrAppend(&out, "Expires=", s.expires, "&");
  if (!s.policy.empty()) absl::StrAppend(&out, "Policy=", s.policy, "&");
  absl::StrAppend(&out, "Key-Pair-Id=", key_pair_id_, "&Signature=", s.signature);
  return out;
}

std::vector<CloudFrontCookie> CloudFrontSigner::Cookies(const Signed& s) const {
  std::vector<CloudFrontCookie> out = {{"CloudFront-Key-Pair-Id", key_pair_id_},
                                       {"CloudFront-Signature", s.signature}};
  if (!s.expires.empty()) out.push_back({"CloudFront-Expires", s.expires});
  if (!s.policy.empty()) out.push_back({"CloudFront-Policy", s.policy});
  return out;
}

absl::StatusOr<std::string> CloudFrontSigner::SignUrl(absl::string_view url,
                                                      const CloudFrontConditions& conditions,
                                                      absl::Time now) const {
  EDGEPASS_ASSIGN_OR_RETURN(std::string base_url, NormalizeCloudFrontUrl(url));
  EDGEPASS_RETURN_IF_ERROR(ValidateCloudFrontConditions(conditions, now));
  const CloudFrontPolicy policy{base_url, conditions};
  EDGEPASS_ASSIGN_OR_RETURN(Signed s, Sign(policy, IsCanned(conditions)));
  std::string signed_url = AppendParams(base_url, s);
  EDGEPASS_RETURN_IF_ERROR(CheckSignedUrlLength(signed_url));
  return signed_url;
}

absl::StatusOr<std::string> CloudFrontSigner::SignUrlWithPolicy(absl::string_view url,
                                                                const CloudFrontPolicy& policy,
                                                                absl::Time now) const {
  EDGEPASS_ASSIGN_OR_RETURN(std::string base_url, NormalizeCloudFrontUrl(url));
  EDGEPASS_RETURN_IF_ERROR(ValidateCloudFrontPolicy(policy, now));
  if (!CloudFrontWildcardMatch(policy.resource, base_url)) {
    return absl::InvalidArgumentError(
        absl::StrCat("url: ", base_url, " does not match policy.resource ", policy.resource));
  }
  EDGEPASS_ASSIGN_OR_RETURN(Signed s, Sign(policy, /*canned=*/false));
  std::string signed_url = AppendParams(base_url, s);
  EDGEPASS_RETURN_IF_ERROR(CheckSignedUrlLength(signed_url));
  return signed_url;
}

absl::StatusOr<std::vector<CloudFrontCookie>> CloudFrontSigner::SignCookies(
    absl::string_view url, const CloudFrontConditions& conditions, absl::Time now) const {
  EDGEPASS_RETURN_IF_ERROR(ValidateCloudFrontUrl(url));
  const CloudFrontPolicy policy{std::string(url), conditions};
  EDGEPASS_RETURN_IF_ERROR(ValidateCloudFrontPolicy(policy, now));
  EDGEPASS_ASSIGN_OR_RETURN(Signed s, Sign(policy, IsCanned(conditions)));
  if (s.policy.size() > kMaxCookieValueBytes) {
    return absl::InvalidArgumentError("url: too long for a CloudFront-Policy cookie");
  }
  return Cookies(s);
}

absl::StatusOr<std::vector<CloudFrontCookie>> CloudFrontSigner::SignCookiesWithPolicy(
    const CloudFrontPolicy& policy, absl::Time now) const {
  EDGEPASS_RETURN_IF_ERROR(ValidateCloudFrontPolicy(policy, now));
  EDGEPASS_ASSIGN_OR_RETURN(Signed s, Sign(policy, /*canned=*/false));
  if (s.policy.size() > kMaxCookieValueBytes) {
    return absl::InvalidArgumentError("policy.resource: too long for a CloudFront-Policy cookie");
  }
  return Cookies(s);
}

}  // namespace edgepass::core
