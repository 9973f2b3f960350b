#include "core/cloudfront_cookie.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"

namespace edgepass::core {
namespace {

constexpr size_t kMaxDomainBytes = 253;
constexpr size_t kMaxPathBytes = 1024;

absl::Status Error(absl::string_view field, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", message));
}

// RFC 6265 cookie-octet.
bool IsCookieOctet(char c) {
  const auto u = static_cast<uint8_t>(c);
  return u == 0x21 || (u >= 0x23 && u <= 0x2B) || (u >= 0x2D && u <= 0x3A) ||
         (u >= 0x3C && u <= 0x5B) || (u >= 0x5D && u <= 0x7E);
}

// RFC 7230 tchar.
bool IsTokenChar(char c) {
  if (absl::ascii_isalnum(static_cast<unsigned char>(c))) return true;
  return absl::string_view("!#$%&'*+-.^_`|~").find(c) != absl::string_view::npos;
}

bool IsValidDomain(absl::string_view d) {
  if (!d.empty() && d[0] == '.') d.remove_prefix(1);
  if (d.empty() || d.size() > kMaxDomainBytes) return false;
  for (absl::string_view label : absl::StrSplit(d, '.')) {
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (char c : label) {
      if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
    }
  }
  return true;
}

// IMF-fixdate (RFC 7231), English names whatever the locale.
std::string HttpDate(absl::Time t) {
  static constexpr const char* kDays[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const absl::TimeZone::CivilInfo ci = absl::UTCTimeZone().At(t);
  const int weekday = static_cast<int>(absl::GetWeekday(ci.cs));  // Monday == 0
  return absl::StrCat(kDays[weekday], ", ", absl::Dec(ci.cs.day(), absl::kZeroPad2), " ",
                      kMonths[ci.cs.month() - 1], " ", ci.cs.year(), " ",
                      absl::Dec(ci.cs.hour(), absl::kZeroPad2), ":",
                      absl::Dec(ci.cs.minute(), absl::kZeroPad2), ":",
                      absl::Dec(ci.cs.second(), absl::kZeroPad2), " GMT");
}

absl::string_view SameSiteName(CookieSameSite s) {
  switch (s) {
    case CookieSameSite::kStrict:
      return "Strict";
    case CookieSameSite::kLax:
      return "Lax";
    case CookieSameSite::kNone:
      return "None";
  }
  return "Lax";
}

}  // namespace

absl::StatusOr<std::vector<std::string>> FormatSetCookieHeaders(
    const std::vector<CloudFrontCookie>& cookies, const CloudFrontCookieAttributes& a) {
  if (!a.domain.empty() && !IsValidDomain(a.domain)) {
    return Error("cookie.domain", "must be a host name such as media.example.com");
  }
  if (a.path.empty() || a.path[0] != '/' || a.path.size() > kMaxPathBytes) {
    return Error("cookie.path",
                 absl::StrCat("must start with '/' and be at most ", kMaxPathBytes, " bytes"));
  }
  for (char c : a.path) {
    const auto u = static_cast<uint8_t>(c);
    if (u <= 0x20 || u >= 0x7F || c == ';') {
      return Error("cookie.path", "must be printable ASCII without spaces or ';'");
    }
  }
  if (a.same_site == CookieSameSite::kNone && !a.secure) {
    return Error("cookie.same_site", "None requires secure (browsers drop the cookie otherwise)");
  }
  if (a.expires.has_value() &&
      (*a.expires == absl::InfinitePast() || *a.expires == absl::InfiniteFuture())) {
    return Error("cookie.expires", "must be a finite time");
  }
  std::string attributes;
  if (!a.domain.empty()) absl::StrAppend(&attributes, "; Domain=", a.domain);
  absl::StrAppend(&attributes, "; Path=", a.path);
  if (a.expires.has_value()) absl::StrAppend(&attributes, "; Expires=", HttpDate(*a.expires));
  if (a.secure) attributes.append("; Secure");
  if (a.http_only) attributes.append("; HttpOnly");
  absl::StrAppend(&attributes, "; SameSite=", SameSiteName(a.same_site));

  std::vector<std::string> out;
  out.reserve(cookies.size());
  for (size_t i = 0; i < cookies.size(); ++i) {
    const CloudFrontCookie& c = cookies[i];
    bool ok = !c.name.empty();
    for (char ch : c.name) ok = ok && IsTokenChar(ch);
    for (char ch : c.value) ok = ok && IsCookieOctet(ch);
    if (!ok) return Error(absl::StrCat("cookies[", i, "]"), "name or value not cookie-safe");
    out.push_back(absl::StrCat(c.name, "=", c.value, attributes));
  }
  return out;
}

absl::StatusOr<CloudFrontCookieJar> ParseCloudFrontCookies(absl::string_view header) {
  if (header.size() > kMaxCookieHeaderBytes) {
    return Error("cookie", absl::StrCat("header larger than ", kMaxCookieHeaderBytes, " bytes"));
  }
  CloudFrontCookieJar jar;
  for (absl::string_view part : absl::StrSplit(header, ';')) {
    part = absl::StripAsciiWhitespace(part);
    const size_t eq = part.find('=');
    if (eq == absl::string_view::npos) continue;
    const absl::string_view name = absl::StripAsciiWhitespace(part.substr(0, eq));
    absl::string_view value = absl::StripAsciiWhitespace(part.substr(eq + 1));
    std::optional<std::string>* slot = nullptr;
    if (name == "CloudFront-Policy") {
      slot = &jar.policy;
    } else if (name == "CloudFront-Expires") {
      slot = &jar.expires;
    } else if (name == "CloudFront-Signature") {
      slot = &jar.signature;
    } else if (name == "CloudFront-Key-Pair-Id") {
      slot = &jar.key_pair_id;
    } else if (name == "CloudFront-Hash-Algorithm") {
      slot = &jar.hash_algorithm;
    }
    if (slot == nullptr) continue;
    if (slot->has_value()) return Error("cookie", absl::StrCat(name, " appears twice"));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    *slot = std::string(value);
  }
  return jar;
}

}  // namespace edgepass::core
