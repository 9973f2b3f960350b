#include "core/cloudfront_verifier.h"

#include <optional>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/cloudfront_cookie.h"
#include "core/cloudfront_policy.h"
#include "core/cloudfront_signer.h"
#include "core/cloudfront_url.h"
#include "core/ip_address.h"
#include "core/validator.h"

namespace edgepass::core {
namespace {

// 4096-bit RSA signatures are 512 bytes, 684 characters in base64.
constexpr size_t kMaxSignatureChars = 700;
constexpr size_t kMaxEncodedPolicyChars = (kMaxCloudFrontPolicyBytes + 2) / 3 * 4;
constexpr size_t kMaxExpiresDigits = 12;

CloudFrontDecision Deny(CloudFrontReason reason) { return {false, reason}; }

// The CloudFront fields of a request, from its query or its cookies.
struct Credentials {
  const std::optional<std::string>* expires;
  const std::optional<std::string>* policy;
  const std::optional<std::string>* signature;
  const std::optional<std::string>* key_pair_id;
  const std::optional<std::string>* hash_algorithm;
};

bool InIpRange(absl::string_view client_ip, const CloudFrontIpRange& range) {
  absl::StatusOr<CanonicalIp> ip = CanonicalizeIp(client_ip);
  if (!ip.ok() || ip->version != 4) return false;
  const std::optional<uint32_t> v4 = ParseIpv4(ip->text);
  return v4.has_value() && range.Contains(*v4);
}

std::optional<int64_t> ParseExpires(absl::string_view text) {
  if (text.empty() || text.size() > kMaxExpiresDigits) return std::nullopt;
  int64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

// The path of "scheme://host/path?query" ("" when there is none).
absl::string_view UrlPath(absl::string_view url) {
  const size_t authority = url.find("://");
  if (authority == absl::string_view::npos) return {};
  const size_t slash = url.find('/', authority + 3);
  if (slash == absl::string_view::npos) return {};
  const absl::string_view path = url.substr(slash);
  return path.substr(0, path.find('?'));
}

CloudFrontDecision Check(const std::string& unsigned_url, const Credentials& c,
                         absl::string_view client_ip, const CloudFrontPublicKeys& keys,
                         absl::Time now) {
  if (!c.signature->has_value() || !c.key_pair_id->has_value() ||
      c.expires->has_value() == c.policy->has_value()) {
    return Deny(CloudFrontReason::kMalformed);
  }
  if (c.hash_algorithm->has_value() && **c.hash_algorithm != "SHA1") {
    return Deny(CloudFrontReason::kMalformed);
  }
  if (!IsValidCloudFrontKeyPairId(**c.key_pair_id)) return Deny(CloudFrontReason::kMalformed);
  if (!IsSafePath(UrlPath(unsigned_url))) return Deny(CloudFrontReason::kUnsafePath);
  const CloudFrontRsaKey* key = keys.Find(**c.key_pair_id);
  if (key == nullptr) return Deny(CloudFrontReason::kUnknownKeyPairId);

  std::string signature;
  if ((*c.signature)->size() > kMaxSignatureChars ||
      !CloudFrontBase64Decode(**c.signature, &signature)) {
    return Deny(CloudFrontReason::kMalformed);
  }
  std::string policy_json;
  std::optional<int64_t> canned_expires;
  if (c.expires->has_value()) {
    canned_expires = ParseExpires(**c.expires);
    if (!canned_expires.has_value()) return Deny(CloudFrontReason::kMalformed);
    CloudFrontPolicy canned;
    canned.resource = unsigned_url;
    canned.conditions.expires = absl::FromUnixSeconds(*canned_expires);
    policy_json = CloudFrontPolicyJson(canned);
  } else if ((*c.policy)->size() > kMaxEncodedPolicyChars ||
             !CloudFrontBase64Decode(**c.policy, &policy_json)) {
    return Deny(CloudFrontReason::kMalformed);
  }
  if (!key->VerifySha1(policy_json, signature)) return Deny(CloudFrontReason::kBadSignature);

  ParsedCloudFrontPolicy policy;
  if (canned_expires.has_value()) {
    policy.resource = unsigned_url;
    policy.expires = *canned_expires;
  } else {
    absl::StatusOr<ParsedCloudFrontPolicy> parsed = ParseCloudFrontPolicyJson(policy_json);
    if (!parsed.ok()) return Deny(CloudFrontReason::kMalformed);
    policy = *std::move(parsed);
  }
  if (now >= absl::FromUnixSeconds(policy.expires)) return Deny(CloudFrontReason::kExpired);
  if (policy.not_before.has_value() && now < absl::FromUnixSeconds(*policy.not_before)) {
    return Deny(CloudFrontReason::kNotYetValid);
  }
  if (policy.ip_range.has_value() && !InIpRange(client_ip, *policy.ip_range)) {
    return Deny(CloudFrontReason::kIpOutsideRange);
  }
  if (!canned_expires.has_value() && !CloudFrontWildcardMatch(policy.resource, unsigned_url)) {
    return Deny(CloudFrontReason::kResourceMismatch);
  }
  return {true, CloudFrontReason::kOk};
}

}  // namespace

absl::string_view CloudFrontReasonName(CloudFrontReason reason) {
  switch (reason) {
    case CloudFrontReason::kOk:
      return "ok";
    case CloudFrontReason::kMalformed:
      return "malformed";
    case CloudFrontReason::kUnknownKeyPairId:
      return "unknown_key_pair_id";
    case CloudFrontReason::kBadSignature:
      return "bad_signature";
    case CloudFrontReason::kExpired:
      return "expired";
    case CloudFrontReason::kNotYetValid:
      return "not_yet_valid";
    case CloudFrontReason::kIpOutsideRange:
      return "ip_outside_range";
    case CloudFrontReason::kResourceMismatch:
      return "resource_mismatch";
    case CloudFrontReason::kUnsafePath:
      return "unsafe_path";
  }
  return "malformed";
}

absl::Status CloudFrontPublicKeys::Add(absl::string_view key_pair_id,
                                       absl::string_view public_key_pem) {
  absl::StatusOr<CloudFrontRsaKey> key = CloudFrontRsaKey::FromPublicKeyPem(public_key_pem);
  if (!key.ok()) return key.status();
  return Add(key_pair_id, *std::move(key));
}

absl::Status CloudFrontPublicKeys::Add(absl::string_view key_pair_id, CloudFrontRsaKey key) {
  if (!IsValidCloudFrontKeyPairId(key_pair_id)) {
    return absl::InvalidArgumentError("key_pair_id: must be 1 to 128 ASCII letters and digits");
  }
  if (!keys_.try_emplace(std::string(key_pair_id), std::move(key)).second) {
    return absl::InvalidArgumentError(absl::StrCat("key_pair_id: ", key_pair_id, " added twice"));
  }
  return absl::OkStatus();
}

const CloudFrontRsaKey* CloudFrontPublicKeys::Find(absl::string_view key_pair_id) const {
  auto it = keys_.find(key_pair_id);
  return it == keys_.end() ? nullptr : &it->second;
}

CloudFrontDecision VerifyCloudFrontSignedUrl(const CloudFrontRequest& request,
                                             const CloudFrontPublicKeys& keys, absl::Time now) {
  if (request.url.size() > kMaxCloudFrontUrlBytes) return Deny(CloudFrontReason::kMalformed);
  absl::StatusOr<CloudFrontUrlParams> p = SplitCloudFrontUrl(request.url);
  if (!p.ok()) return Deny(CloudFrontReason::kMalformed);
  return Check(p->unsigned_url,
               {&p->expires, &p->policy, &p->signature, &p->key_pair_id, &p->hash_algorithm},
               request.client_ip, keys, now);
}

CloudFrontDecision VerifyCloudFrontSignedCookies(const CloudFrontRequest& request,
                                                 const CloudFrontPublicKeys& keys, absl::Time now) {
  if (request.url.size() > kMaxCloudFrontUrlBytes) return Deny(CloudFrontReason::kMalformed);
  absl::StatusOr<CloudFrontUrlParams> p = SplitCloudFrontUrl(request.url);
  if (!p.ok()) return Deny(CloudFrontReason::kMalformed);
  absl::StatusOr<CloudFrontCookieJar> jar = ParseCloudFrontCookies(request.cookie_header);
  if (!jar.ok()) return Deny(CloudFrontReason::kMalformed);
  return Check(
      p->unsigned_url,
      {&jar->expires, &jar->policy, &jar->signature, &jar->key_pair_id, &jar->hash_algorithm},
      request.client_ip, keys, now);
}

CloudFrontDecision VerifyCloudFrontRequest(const CloudFrontRequest& request,
                                           const CloudFrontPublicKeys& keys, absl::Time now) {
  if (request.url.size() > kMaxCloudFrontUrlBytes) return Deny(CloudFrontReason::kMalformed);
  absl::StatusOr<CloudFrontUrlParams> p = SplitCloudFrontUrl(request.url);
  if (p.ok() && p->signature.has_value()) return VerifyCloudFrontSignedUrl(request, keys, now);
  return VerifyCloudFrontSignedCookies(request, keys, now);
}

}  // namespace edgepass::core
