// libFuzzer target: the CloudFront parsers and verifier. The first byte picks
// what the rest feeds:
//   0  ParseCloudFrontPolicyJson; a parsed policy's resource is matched
//      against a URL built from it, and re-serialized policies parse back
//   1  SplitCloudFrontUrl, NormalizeCloudFrontUrl, ValidateCloudFrontUrl
//   2  ParseCloudFrontCookies, CloudFrontBase64Decode (round trip)
//   3  VerifyCloudFrontRequest on "<url>\n<cookie header>\n<client ip>"
//   4  the same, after signing "<policy json>" with a test key (custom
//      policy URL and cookies), so mutations reach the checks after the
//      signature: expiry, start, IP range, resource matching
//   5  CloudFrontWildcardMatch("<pattern>\n<text>"), ParseCloudFrontIpRange
// Checks: no crash, leak, UB or timeout; round trips hold.
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "core/cloudfront_cookie.h"
#include "core/cloudfront_policy.h"
#include "core/cloudfront_rsa_key.h"
#include "core/cloudfront_url.h"
#include "core/cloudfront_verifier.h"

namespace {

using namespace edgepass::core;  // NOLINT: a fuzz target over one module

const absl::Time kNow = absl::FromUnixSeconds(1767225600);
constexpr char kKeyPairId[] = "K2JCJMDEHXQW5F";

// A 2048-bit key made once per process (no key is committed).
const CloudFrontRsaKey& PrivateKey() {
  static const CloudFrontRsaKey* key = [] {
    EVP_PKEY* pkey = EVP_RSA_gen(2048);
    BIO* bio = BIO_new(BIO_s_mem());
    if (pkey == nullptr || bio == nullptr ||
        PEM_write_bio_PrivateKey(bio, pkey, nullptr, nullptr, 0, nullptr,
                                 nullptr) != 1) {
      std::abort();
    }
    char* pem = nullptr;
    const long len = BIO_get_mem_data(bio, &pem);
    auto parsed =
        CloudFrontRsaKey::FromPrivateKeyPem(absl::string_view(pem, len));
    BIO_free(bio);
    EVP_PKEY_free(pkey);
    if (!parsed.ok()) std::abort();
    return new CloudFrontRsaKey(*std::move(parsed));
  }();
  return *key;
}

const CloudFrontPublicKeys& PublicKeys() {
  static const CloudFrontPublicKeys* keys = [] {
    auto* k = new CloudFrontPublicKeys;
    if (!k->Add(kKeyPairId, PrivateKey().PublicKeyPem()).ok()) std::abort();
    return k;
  }();
  return *keys;
}

std::vector<absl::string_view> Lines(absl::string_view text, size_t at_least) {
  std::vector<absl::string_view> lines = absl::StrSplit(text, '\n');
  while (lines.size() < at_least) lines.emplace_back();
  return lines;
}

void PolicyJson(absl::string_view json) {
  absl::StatusOr<ParsedCloudFrontPolicy> p = ParseCloudFrontPolicyJson(json);
  if (!p.ok()) return;
  (void)CloudFrontWildcardMatch(p->resource,
                                "https://d1.cloudfront.net/video/1/a.ts");
  (void)CloudFrontWildcardMatch(p->resource, p->resource);
  CloudFrontPolicy policy{.resource = p->resource};
  policy.conditions.expires = absl::FromUnixSeconds(p->expires);
  if (p->not_before)
    policy.conditions.not_before = absl::FromUnixSeconds(*p->not_before);
  if (p->ip_range) {
    const uint32_t a = p->ip_range->address;
    policy.conditions.ip_range =
        absl::StrCat(a >> 24, ".", (a >> 16) & 255, ".", (a >> 8) & 255, ".",
                     a & 255, "/", p->ip_range->prefix);
  }
  // What the signer writes for a policy it accepts must parse back the same.
  if (!ValidateCloudFrontPolicy(policy, absl::FromUnixSeconds(0)).ok()) return;
  absl::StatusOr<ParsedCloudFrontPolicy> again =
      ParseCloudFrontPolicyJson(CloudFrontPolicyJson(policy));
  if (!again.ok() || again->resource != p->resource ||
      again->expires != p->expires || again->not_before != p->not_before) {
    std::abort();
  }
}

void Url(absl::string_view url) {
  absl::StatusOr<CloudFrontUrlParams> split = SplitCloudFrontUrl(url);
  if (split.ok()) (void)SplitCloudFrontUrl(split->unsigned_url);
  (void)ValidateCloudFrontUrl(url);
  absl::StatusOr<std::string> normalized = NormalizeCloudFrontUrl(url);
  if (normalized.ok()) {
    // Normalizing is idempotent on what it produced.
    absl::StatusOr<std::string> twice = NormalizeCloudFrontUrl(*normalized);
    if (!twice.ok() || *twice != *normalized) std::abort();
  }
}

void Cookies(absl::string_view header) {
  absl::StatusOr<CloudFrontCookieJar> jar = ParseCloudFrontCookies(header);
  std::string decoded;
  if (CloudFrontBase64Decode(header, &decoded)) {
    if (CloudFrontBase64Encode(decoded) != header) std::abort();
  }
  if (jar.ok() && jar->policy)
    (void)CloudFrontBase64Decode(*jar->policy, &decoded);
  (void)IsStrictUtf8(header);
}

void Verify(absl::string_view text) {
  std::vector<absl::string_view> lines = Lines(text, 3);
  const CloudFrontRequest request{
      .url = lines[0], .cookie_header = lines[1], .client_ip = lines[2]};
  const CloudFrontDecision d =
      VerifyCloudFrontRequest(request, PublicKeys(), kNow);
  if (d.allow != (d.reason == CloudFrontReason::kOk)) std::abort();
  (void)CloudFrontReasonName(d.reason);
}

void SignThenVerify(absl::string_view text) {
  // "<policy json>\n<url>\n<client ip>"
  std::vector<absl::string_view> lines = Lines(text, 3);
  absl::StatusOr<std::string> signature = PrivateKey().SignSha1(lines[0]);
  if (!signature.ok()) std::abort();
  const std::string policy = CloudFrontBase64Encode(lines[0]);
  const std::string sig = CloudFrontBase64Encode(*signature);
  const std::string url = absl::StrCat(
      lines[1], lines[1].find('?') == absl::string_view::npos ? "?" : "&",
      "Policy=", policy, "&Signature=", sig, "&Key-Pair-Id=", kKeyPairId);
  CloudFrontDecision d = VerifyCloudFrontSignedUrl(
      {.url = url, .cookie_header = "", .client_ip = lines[2]}, PublicKeys(),
      kNow);
  if (d.allow != (d.reason == CloudFrontReason::kOk)) std::abort();
  const std::string cookies =
      absl::StrCat("CloudFront-Policy=", policy, "; CloudFront-Signature=", sig,
                   "; CloudFront-Key-Pair-Id=", kKeyPairId);
  d = VerifyCloudFrontSignedCookies(
      {.url = lines[1], .cookie_header = cookies, .client_ip = lines[2]},
      PublicKeys(), kNow);
  if (d.allow != (d.reason == CloudFrontReason::kOk)) std::abort();
}

void Wildcard(absl::string_view text) {
  std::vector<absl::string_view> lines = Lines(text, 2);
  (void)CloudFrontWildcardMatch(lines[0], lines[1]);
  absl::StatusOr<CloudFrontIpRange> range =
      ParseCloudFrontIpRange(lines[0], "ip");
  std::optional<uint32_t> ip = ParseIpv4(lines[1]);
  if (range.ok() && ip) (void)range->Contains(*ip);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const absl::string_view rest(reinterpret_cast<const char*>(data) + 1,
                               size - 1);
  switch (data[0] % 6) {
    case 0:
      PolicyJson(rest);
      break;
    case 1:
      Url(rest);
      break;
    case 2:
      Cookies(rest);
      break;
    case 3:
      Verify(rest);
      break;
    case 4:
      SignThenVerify(rest);
      break;
    default:
      Wildcard(rest);
      break;
  }
  return 0;
}
