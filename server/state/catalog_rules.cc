#include "server/state/catalog_rules.h"

#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/cloudfront_cookie.h"
#include "core/cloudfront_signer.h"
#include "core/status_macros.h"
#include "core/validator.h"

namespace edgepass::server {
namespace catalog_rules {

absl::Status Within(absl::string_view where, const absl::Status& status) {
  return absl::Status(status.code(), absl::StrCat(where, ": ", status.message()));
}

bool IsValidAssetId(absl::string_view id) {
  if (id.empty() || id.size() > kMaxAssetIdLength) return false;
  for (char c : id) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' &&
        c != '.' && c != ':') {
      return false;
    }
  }
  return true;
}

absl::Status CheckAssetId(absl::string_view id, absl::string_view field) {
  if (IsValidAssetId(id)) return absl::OkStatus();
  return core::FieldError(field,
                          absl::StrCat("must be 1-", kMaxAssetIdLength, " characters of [A-Za-z0-9._:-]"));
}

absl::Status BadAssetId(absl::string_view where, absl::string_view field) {
  return Within(where, CheckAssetId("", field));
}

absl::StatusOr<const NamedPolicy*> FindNamedPolicy(const std::map<std::string, NamedPolicy>& policies,
                                                   absl::string_view where, absl::string_view name) {
  auto named = policies.find(std::string(name));
  if (named == policies.end()) {
    return core::FieldError(where, absl::StrCat("token_policy: unknown policy \"", name, "\""));
  }
  return &named->second;
}

bool IsValidHostname(absl::string_view host) {
  if (host.empty() || host.size() > kMaxHostnameLength) return false;
  for (char c : host) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.' &&
        c != ':' && c != '[' && c != ']') {
      return false;
    }
  }
  return true;
}

absl::Status CheckServed(absl::string_view url_path, const core::TokenPolicy& policy, absl::string_view where) {
  if (url_path.empty() || url_path[0] != '/') return core::FieldError(where, "url_path: must start with '/'");
  if (url_path.size() > kMaxUrlPathLength) {
    return core::FieldError(where, absl::StrCat("url_path: longer than ", kMaxUrlPathLength, " bytes"));
  }
  if (!core::IsSafePath(url_path)) {
    return core::FieldError(where,
                            "url_path: has dot segments, '//', encoded separators or control characters");
  }
  bool covered = false;
  for (const auto& p : policy.paths) covered = covered || core::PathPrefixMatches(p, url_path);
  for (const auto& p : policy.exc) covered = covered || core::PathPrefixMatches(p, url_path);
  if (!covered) {
    return core::FieldError(
        where, absl::StrCat("url_path: \"", url_path, "\" is not opened by any token_policy.paths entry"));
  }
  return absl::OkStatus();
}

// What a CloudFront policy can express of `policy`: exp, nbf and ip. Any
// other binding is refused rather than silently dropped.
absl::Status CheckCloudFrontPolicy(const core::TokenPolicy& policy, absl::string_view scheme,
                                   absl::string_view where) {
  auto refuse = [&](absl::string_view field) {
    return core::FieldError(
        where, absl::StrCat("token_policy.", field, ": a CloudFront policy cannot check it (scheme \"",
                            scheme, "\" takes only paths, exp, nbf and ip)"));
  };
  if (!policy.exc.empty()) return refuse("exc");
  if (policy.ssn) return refuse("ssn");
  if (policy.co || policy.co_fallback) return refuse("co");
  if (policy.cty) return refuse("cty");
  if (policy.reg || policy.reg_fallback) return refuse("reg");
  if (!policy.headers.empty()) return refuse("headers");
  if (!policy.querystrings.empty()) return refuse("querystrings");
  if (scheme == kCloudFrontCookieScheme && policy.paths.size() != 1) {
    return core::FieldError(
        where, absl::StrCat("token_policy.paths: scheme \"", scheme,
                            "\" takes exactly one path (the cookies' Path and the policy's resource), got ",
                            policy.paths.size()));
  }
  return absl::OkStatus();
}

absl::Status CheckCloudFrontFields(const Asset& asset, absl::string_view where) {
  const bool cookie = asset.scheme == kCloudFrontCookieScheme;
  if (!asset.is_cloudfront()) {
    if (!asset.cloudfront_key_pair_id.empty()) {
      return core::FieldError(
          where, "cloudfront_key_pair_id: only for the cloudfront-url and cloudfront-cookie schemes");
    }
  } else if (asset.cloudfront_key_pair_id.empty()) {
    return core::FieldError(where,
                            absl::StrCat("cloudfront_key_pair_id: required for scheme \"", asset.scheme,
                                         "\" (the id of a key put with KeyService.PutCloudFrontKey)"));
  } else if (!core::IsValidCloudFrontKeyPairId(asset.cloudfront_key_pair_id)) {
    return core::FieldError(
        where, absl::StrCat("cloudfront_key_pair_id: must be 1-", core::kMaxCloudFrontKeyPairIdLength,
                            " ASCII letters and digits"));
  }
  if (!cookie && (!asset.cookie_domain.empty() || !asset.cookie_same_site.empty())) {
    return core::FieldError(where,
                            absl::StrCat(asset.cookie_domain.empty() ? "cookie_same_site" : "cookie_domain",
                                         ": only for the cloudfront-cookie scheme"));
  }
  if (!cookie) return absl::OkStatus();
  core::CloudFrontCookieAttributes attributes{.domain = asset.cookie_domain};
  absl::StatusOr<core::CookieSameSite> same_site = ParseCookieSameSite(asset.cookie_same_site);
  if (!same_site.ok()) return Within(where, same_site.status());
  attributes.same_site = *same_site;
  absl::StatusOr<std::vector<std::string>> formatted =
      core::FormatSetCookieHeaders({{"CloudFront-Key-Pair-Id", asset.cloudfront_key_pair_id}}, attributes);
  if (!formatted.ok()) {
    absl::string_view m = formatted.status().message();
    if (absl::StartsWith(m, "cookie.domain: ")) m.remove_prefix(std::string("cookie.domain: ").size());
    return core::FieldError(where, absl::StrCat("cookie_domain: ", m));
  }
  return absl::OkStatus();
}

absl::Status CheckAsset(const Asset& asset, absl::string_view where) {
  if (!IsValidHostname(asset.hostname)) {
    return core::FieldError(where,
                            "hostname: must be a host name (letters, digits, '-', '.', optional :port)");
  }
  if (asset.scheme != kSmdTokenScheme && !asset.is_cloudfront()) {
    return core::FieldError(
        where, absl::StrCat("scheme: unsupported \"", asset.scheme, "\" (supported: \"", kSmdTokenScheme,
                            "\", \"", kCloudFrontUrlScheme, "\", \"", kCloudFrontCookieScheme, "\")"));
  }
  EDGEPASS_RETURN_IF_ERROR(CheckCloudFrontFields(asset, where));
  EDGEPASS_RETURN_IF_ERROR(CheckServed(asset.url_path, asset.policy, where));
  if (asset.is_cloudfront()) EDGEPASS_RETURN_IF_ERROR(CheckCloudFrontPolicy(asset.policy, asset.scheme, where));
  for (const auto& [entitlement, variant] : asset.variants) {
    const std::string at = absl::StrCat(where, ": variants[\"", entitlement, "\"]");
    EDGEPASS_RETURN_IF_ERROR(CheckServed(variant.url_path, variant.policy, at));
    if (asset.is_cloudfront()) EDGEPASS_RETURN_IF_ERROR(CheckCloudFrontPolicy(variant.policy, asset.scheme, at));
  }
  if (asset.fallback_asset == asset.id)
    return core::FieldError(where, "fallback_asset: must be another asset");
  return absl::OkStatus();
}

}  // namespace catalog_rules

absl::StatusOr<core::CookieSameSite> ParseCookieSameSite(absl::string_view text) {
  if (text.empty() || text == "Lax") return core::CookieSameSite::kLax;
  if (text == "Strict") return core::CookieSameSite::kStrict;
  if (text == "None") return core::CookieSameSite::kNone;
  return absl::InvalidArgumentError(absl::StrCat("cookie_same_site: must be \"Strict\", \"Lax\" or \"None\", got \"",
                                                 text.substr(0, 16), "\""));
}

}  // namespace edgepass::server
