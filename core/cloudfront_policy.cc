#include "core/cloudfront_policy.h"

#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/cloudfront_url.h"
#include "core/json_internal.h"
#include "core/status_macros.h"
#include "text/json_doc.h"
#include "text/json_string.h"

namespace edgepass::core {
namespace {

using internal::Json;
using text::AppendJsonString;  // JSON.stringify's escaping for the valid UTF-8 a policy holds

// 9999-12-31T23:59:59Z: later expiries are refused rather than sent.
constexpr int64_t kMaxEpochSeconds = 253402300799;

// A decimal number without sign or leading zeros, at most `max`.
bool ParseSmallDecimal(absl::string_view s, int max, int* out) {
  if (s.empty() || s.size() > 3 || (s.size() > 1 && s[0] == '0')) return false;
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  if (v > max) return false;
  *out = v;
  return true;
}

std::string IpRangeText(absl::string_view ip_range) {
  if (ip_range.find('/') != absl::string_view::npos) return std::string(ip_range);
  return absl::StrCat(ip_range, "/32");
}

absl::Status GetEpochTime(const Json& j, absl::string_view path, int64_t* out) {
  if (!j.is_object() || j.size() != 1 || !j.contains("AWS:EpochTime")) {
    return FieldError(path, "must be {\"AWS:EpochTime\": <seconds>}");
  }
  const Json& t = j["AWS:EpochTime"];
  if (!t.is_number_unsigned() || t.get<uint64_t>() > kMaxEpochSeconds) {
    return FieldError(absl::StrCat(path, ".AWS:EpochTime"), "must be epoch seconds");
  }
  *out = static_cast<int64_t>(t.get<uint64_t>());
  return absl::OkStatus();
}

std::string UtcText(absl::Time t) {
  return absl::FormatTime(absl::RFC3339_sec, t, absl::UTCTimeZone());
}

}  // namespace

bool CloudFrontIpRange::Contains(uint32_t ip) const {
  if (prefix <= 0) return true;
  const uint32_t mask = prefix >= 32 ? 0xFFFFFFFFu : ~(0xFFFFFFFFu >> prefix);
  return (ip & mask) == (address & mask);
}

int64_t CloudFrontEpochSeconds(absl::Time t) {
  // JavaScript Dates hold whole milliseconds; Math.round rounds halves up.
  const int64_t ms = absl::ToUnixMillis(t);
  const int64_t q = ms / 1000;
  const int64_t r = ms % 1000;
  if (r >= 500) return q + 1;
  if (r < -500) return q - 1;
  return q;
}

std::optional<uint32_t> ParseIpv4(absl::string_view text) {
  const std::vector<absl::string_view> octets = absl::StrSplit(text, '.');
  if (octets.size() != 4) return std::nullopt;
  uint32_t ip = 0;
  for (absl::string_view o : octets) {
    int v = 0;
    if (!ParseSmallDecimal(o, 255, &v)) return std::nullopt;
    ip = (ip << 8) | static_cast<uint32_t>(v);
  }
  return ip;
}

absl::StatusOr<CloudFrontIpRange> ParseCloudFrontIpRange(absl::string_view text,
                                                         absl::string_view field) {
  const size_t slash = text.find('/');
  CloudFrontIpRange range;
  const std::optional<uint32_t> ip = ParseIpv4(text.substr(0, slash));
  if (!ip.has_value()) {
    return FieldError(field,
                      "must be an IPv4 address or CIDR range like 192.0.2.0/24 "
                      "(CloudFront takes IPv4 only)");
  }
  range.address = *ip;
  if (slash != absl::string_view::npos &&
      !ParseSmallDecimal(text.substr(slash + 1), 32, &range.prefix)) {
    return FieldError(field, "prefix length after '/' must be 0 to 32");
  }
  return range;
}

absl::Status ValidateCloudFrontConditions(const CloudFrontConditions& conditions, absl::Time now) {
  const int64_t expires = CloudFrontEpochSeconds(conditions.expires);
  if (conditions.expires == absl::InfinitePast() || absl::FromUnixSeconds(expires) <= now) {
    return FieldError("policy.expires", absl::StrCat("must be after now (", UtcText(now), "); got ",
                                                     UtcText(absl::FromUnixSeconds(expires))));
  }
  if (conditions.expires == absl::InfiniteFuture() || expires > kMaxEpochSeconds) {
    return FieldError("policy.expires", "must be before year 10000");
  }
  if (conditions.not_before.has_value()) {
    const int64_t start = CloudFrontEpochSeconds(*conditions.not_before);
    if (*conditions.not_before == absl::InfinitePast() || start <= 0) {
      return FieldError("policy.not_before", "must be after 1970-01-01T00:00:00Z");
    }
    if (start >= expires) return FieldError("policy.not_before", "must be before policy.expires");
  }
  if (!conditions.ip_range.empty()) {
    EDGEPASS_RETURN_IF_ERROR(
        ParseCloudFrontIpRange(conditions.ip_range, "policy.ip_range").status());
  }
  return absl::OkStatus();
}

absl::Status ValidateCloudFrontPolicy(const CloudFrontPolicy& policy, absl::Time now) {
  const absl::string_view r = policy.resource;
  if (r.empty()) return FieldError("policy.resource", "must not be empty");
  if (r.size() > kMaxCloudFrontResourceBytes) {
    return FieldError("policy.resource",
                      absl::StrCat("longer than ", kMaxCloudFrontResourceBytes, " bytes"));
  }
  for (char c : r) {
    if (static_cast<uint8_t>(c) < 0x20 || c == 0x7F) {
      return FieldError("policy.resource", "contains a control character");
    }
  }
  if (!IsStrictUtf8(r)) return FieldError("policy.resource", "is not valid UTF-8");
  const size_t scheme_end = r.find("://");
  const absl::string_view scheme = r.substr(0, scheme_end);
  bool scheme_ok = scheme_end != absl::string_view::npos && !scheme.empty();
  bool wildcard = false;
  for (char c : scheme) {
    if (c == '*' || c == '?') {
      wildcard = true;
    } else if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) {
      scheme_ok = false;
    }
  }
  if (scheme_ok && !wildcard) {
    scheme_ok = scheme == "https" || scheme == "http" || scheme == "wss" || scheme == "ws";
  }
  if (!scheme_ok) {
    return FieldError("policy.resource",
                      "must start with a scheme: https://, http://, wss://, ws:// or a "
                      "wildcard such as *://");
  }
  return ValidateCloudFrontConditions(policy.conditions, now);
}

std::string CloudFrontPolicyJson(const CloudFrontPolicy& policy) {
  const CloudFrontConditions& c = policy.conditions;
  std::string out = R"({"Statement":[{"Resource":)";
  AppendJsonString(policy.resource, &out);
  absl::StrAppend(&out, R"(,"Condition":{"DateLessThan":{"AWS:EpochTime":)",
                  CloudFrontEpochSeconds(c.expires), "}");
  if (c.not_before.has_value()) {
    absl::StrAppend(&out, R"(,"DateGreaterThan":{"AWS:EpochTime":)",
                    CloudFrontEpochSeconds(*c.not_before), "}");
  }
  if (!c.ip_range.empty()) {
    out.append(R"(,"IpAddress":{"AWS:SourceIp":)");
    AppendJsonString(IpRangeText(c.ip_range), &out);
    out.push_back('}');
  }
  out.append("}}]}");
  return out;
}

absl::StatusOr<ParsedCloudFrontPolicy> ParseCloudFrontPolicyJson(absl::string_view json) {
  EDGEPASS_ASSIGN_OR_RETURN(
      Json j, text::ParseJson(json, "policy", {.max_bytes = kMaxCloudFrontPolicyBytes, .object = true}));
  if (j.size() != 1 || !j.contains("Statement")) {
    return FieldError("policy", "must hold exactly one key, Statement");
  }
  const Json& statements = j["Statement"];
  if (!statements.is_array() || statements.size() != 1) {
    return FieldError("policy.Statement", "must be a list of exactly one statement");
  }
  const Json& st = statements[0];
  if (!st.is_object()) return FieldError("policy.Statement[0]", "must be an object");
  ParsedCloudFrontPolicy out;
  bool has_resource = false;
  bool has_condition = false;
  for (const auto& [key, value] : st.items()) {
    if (key == "Resource") {
      EDGEPASS_RETURN_IF_ERROR(
          internal::GetString(value, "policy.Statement[0].Resource", &out.resource));
      has_resource = true;
    } else if (key == "Condition") {
      has_condition = true;
      if (!value.is_object())
        return FieldError("policy.Statement[0].Condition", "must be an object");
      bool has_expires = false;
      for (const auto& [name, cond] : value.items()) {
        const std::string path = absl::StrCat("policy.Statement[0].Condition.", name);
        if (name == "DateLessThan") {
          EDGEPASS_RETURN_IF_ERROR(GetEpochTime(cond, path, &out.expires));
          has_expires = true;
        } else if (name == "DateGreaterThan") {
          int64_t start = 0;
          EDGEPASS_RETURN_IF_ERROR(GetEpochTime(cond, path, &start));
          out.not_before = start;
        } else if (name == "IpAddress") {
          if (!cond.is_object() || cond.size() != 1 || !cond.contains("AWS:SourceIp")) {
            return FieldError(path, "must be {\"AWS:SourceIp\": \"a.b.c.d/n\"}");
          }
          std::string text;
          EDGEPASS_RETURN_IF_ERROR(internal::GetString(cond["AWS:SourceIp"], path, &text));
          EDGEPASS_ASSIGN_OR_RETURN(out.ip_range, ParseCloudFrontIpRange(text, path));
        } else {
          return FieldError(path, "unknown condition");
        }
      }
      if (!has_expires) {
        return FieldError("policy.Statement[0].Condition.DateLessThan", "is required");
      }
    } else {
      return FieldError(absl::StrCat("policy.Statement[0].", key), "unknown key");
    }
  }
  if (!has_resource) {
    return FieldError("policy.Statement[0].Resource",
                      "is required (a policy without one would open every resource)");
  }
  if (!has_condition) return FieldError("policy.Statement[0].Condition", "is required");
  return out;
}

bool CloudFrontWildcardMatch(absl::string_view pattern, absl::string_view text) {
  size_t p = 0;
  size_t t = 0;
  size_t star = absl::string_view::npos;  // position of the last '*' seen
  size_t star_t = 0;                      // text position that '*' resumes from
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      star_t = t;
    } else if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p;
      ++t;
    } else if (star != absl::string_view::npos) {
      p = star + 1;
      t = ++star_t;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

}  // namespace edgepass::core
