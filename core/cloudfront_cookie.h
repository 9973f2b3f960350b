// CloudFront signed cookies on the wire: the Set-Cookie headers a service
// sends (domain, path, expiry, Secure, HttpOnly, SameSite) and the parse of a
// request's Cookie header for the verifier.
//
//   auto headers = FormatSetCookieHeaders(cookies, {.domain = "media.example.com"});
//   // "CloudFront-Policy=eyJ...; Domain=media.example.com; Path=/; Secure; HttpOnly; SameSite=Lax"
//   auto jar = ParseCloudFrontCookies(request_cookie_header);
#ifndef EDGEPASS_CORE_CLOUDFRONT_COOKIE_H_
#define EDGEPASS_CORE_CLOUDFRONT_COOKIE_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace edgepass::core {

inline constexpr size_t kMaxCookieHeaderBytes = 16 * 1024;

struct CloudFrontCookie {
  std::string name;   // "CloudFront-Policy", "CloudFront-Expires", ...
  std::string value;  // as the SDK returns it; cookie-safe, never quoted
};

enum class CookieSameSite { kStrict, kLax, kNone };

struct CloudFrontCookieAttributes {
  // Domain attribute, e.g. "media.example.com" or ".example.com"; empty gives
  // a host-only cookie.
  std::string domain;
  std::string path = "/";
  // Expires attribute (IMF-fixdate); unset gives a session cookie. Usually
  // the policy's expiry.
  std::optional<absl::Time> expires;
  bool secure = true;
  bool http_only = true;
  CookieSameSite same_site = CookieSameSite::kLax;
};

// One Set-Cookie header value per cookie, in order:
//   <name>=<value>[; Domain=d]; Path=p[; Expires=<IMF-fixdate>][; Secure][; HttpOnly]; SameSite=s
// INVALID_ARGUMENT "cookie.domain: ..." / "cookie.path: ..." / "cookie.same_site: ..."
// (None without Secure) / "cookie.expires: ..." (not finite) / "cookies[i]: ..." (a name
// or value a cookie cannot carry).
absl::StatusOr<std::vector<std::string>> FormatSetCookieHeaders(
    const std::vector<CloudFrontCookie>& cookies, const CloudFrontCookieAttributes& attributes);

// The CloudFront cookies found in a Cookie request header
// ("a=1; CloudFront-Policy=...; ..."); other cookies are ignored, a value in
// double quotes is unquoted.
struct CloudFrontCookieJar {
  std::optional<std::string> policy;
  std::optional<std::string> expires;
  std::optional<std::string> signature;
  std::optional<std::string> key_pair_id;
  std::optional<std::string> hash_algorithm;
};

// INVALID_ARGUMENT when the header is over kMaxCookieHeaderBytes or names a
// CloudFront cookie twice (which one CloudFront would read is unspecified).
absl::StatusOr<CloudFrontCookieJar> ParseCloudFrontCookies(absl::string_view cookie_header);

}  // namespace edgepass::core

#endif  // EDGEPASS_CORE_CLOUDFRONT_COOKIE_H_
