#include "core/token_issuer.h"

#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "core/crypto.h"
#include "core/ip_address.h"
#include "core/status_macros.h"
#include "core/url_query.h"

namespace edgepass::core {
namespace {

using OrderedJson = nlohmann::ordered_json;

constexpr char kSessionAlphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

absl::Status Missing(absl::string_view field, absl::string_view claim) {
  return absl::InvalidArgumentError(
      absl::StrCat(field, ": required because the token policy binds ", claim));
}

std::string Dump(const OrderedJson& j) {
  // JSON.stringify's form: no spaces, UTF-8 kept as is.
  return j.dump(-1, ' ', false, OrderedJson::error_handler_t::replace);
}

}  // namespace

bool IsValidSessionId(absl::string_view id) { return IsIdentifier(id, kMaxSessionIdLength); }

std::string GenerateSessionId(int length, RandomSource& random) {
  std::string id;
  id.reserve(length);
  uint8_t buf[64];
  while (static_cast<int>(id.size()) < length) {
    random.Fill(absl::MakeSpan(buf));
    for (uint8_t b : buf) {
      if (b >= 248) continue;  // 248 = 4 * 62: reject to keep the draw uniform
      id.push_back(kSessionAlphabet[b % 62]);
      if (static_cast<int>(id.size()) == length) break;
    }
  }
  return id;
}

absl::StatusOr<IssuedToken> IssueToken(const TokenPolicy& policy, const ViewerAttributes& viewer,
                                       const SigningKey& key, absl::Time now, RandomSource& random,
                                       absl::string_view url_query) {
  EDGEPASS_RETURN_IF_ERROR(ValidateTokenPolicy(policy, "token_policy."));
  if (!IsValidKeyId(key.id)) return absl::InvalidArgumentError("key.id: may hold only [A-Za-z0-9_-]");
  IssuedToken out;
  const int64_t iat = absl::ToUnixSeconds(now);  // floor, as jsonwebtoken does
  out.issued_at = absl::FromUnixSeconds(iat);
  out.expires_at = policy.exp.relative ? out.issued_at + absl::Trunc(policy.exp.after, absl::Seconds(1))
                                       : policy.exp.at;
  if (out.expires_at <= out.issued_at) {
    return absl::InvalidArgumentError("token_policy.exp: the token would already be expired");
  }

  // Claim order and types are exactly those of SMD's SDK (Token.generate).
  OrderedJson payload = {{"ip", policy.ip},   {"co", policy.co},   {"cty", policy.cty},
                         {"reg", policy.reg}, {"ssn", policy.ssn}, {"exp", absl::ToUnixSeconds(out.expires_at)},
                         {"headers", policy.headers}, {"qs", policy.querystrings}};
  std::vector<std::string> intsig_parts;
  int ip_version = 0;
  if (policy.ip) {
    if (viewer.ip.empty()) return Missing("viewer.ip", "ip");
    auto ip = CanonicalizeIp(viewer.ip);
    if (!ip.ok()) return absl::InvalidArgumentError(absl::StrCat("viewer.ip: ", ip.status().message()));
    ip_version = ip->version;
    intsig_parts.push_back(std::move(ip->text));
  }
  if (policy.co) {
    if (viewer.co.empty()) return Missing("viewer.co", "co");
    intsig_parts.push_back(viewer.co);
  }
  if (policy.cty) {
    if (viewer.cty.empty()) return Missing("viewer.cty", "cty");
    intsig_parts.push_back(viewer.cty);
  }
  if (policy.reg) {
    if (viewer.reg.empty()) return Missing("viewer.reg", "reg");
    intsig_parts.push_back(viewer.reg);
  }
  if (policy.ssn) {
    if (!viewer.session_id.empty()) {
      if (!IsValidSessionId(viewer.session_id)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "viewer.sessionId: must be 1 to ", kMaxSessionIdLength, " characters of [A-Za-z0-9_-]"));
      }
      out.session_id = viewer.session_id;
    } else {
      out.session_id = GenerateSessionId(
          policy.session_auto_generate ? policy.session_auto_generate : kDefaultSessionIdLength, random);
    }
    intsig_parts.push_back(out.session_id);
  }
  for (const std::string& name : policy.headers) {
    if (const std::string* v = FindViewerHeader(viewer, name); v != nullptr && !v->empty()) {
      intsig_parts.push_back(*v);
    }
  }
  if (!policy.querystrings.empty()) {
    const std::vector<std::pair<std::string, std::string>> url_params = ParseQueryString(url_query);
    for (const std::string& name : policy.querystrings) {
      const std::string* v = nullptr;
      for (const auto& [n, value] : url_params) {
        if (n == name) { v = &value; break; }
      }
      if (v == nullptr || v->empty()) v = FindViewerQuery(viewer, name);
      if (v != nullptr && !v->empty()) intsig_parts.push_back(*v);
    }
  }
  out.intsig_input = absl::StrJoin(intsig_parts, ":");
  if (!out.intsig_input.empty()) {
    payload["intsig"] = Base64UrlEncode(HmacSha256(key.value, out.intsig_input));
  }
  payload["paths"] = policy.paths;
  payload["exc"] = policy.exc;
  if (ip_version) payload["ip_ver"] = ip_version;
  if (policy.co && policy.co_fallback) payload["co_fallback"] = true;
  if (policy.reg && policy.reg_fallback) payload["reg_fallback"] = true;
  if (policy.nbf) payload["nbf"] = absl::ToUnixSeconds(*policy.nbf);
  payload["iat"] = iat;

  std::string jwt =
      absl::StrCat(Base64UrlEncode(JwtHeaderJson(key.id)), ".", Base64UrlEncode(Dump(payload)));
  const std::string signature = Base64UrlEncode(HmacSha256(key.value, jwt));
  out.token = out.session_id.empty() ? absl::StrCat(jwt, ".", signature)
                                     : absl::StrCat(out.session_id, ".", jwt, ".", signature);
  return out;
}

absl::StatusOr<std::string> InsertTokenIntoUrl(absl::string_view url, absl::string_view token) {
  size_t host_start = 0;
  if (absl::StartsWithIgnoreCase(url, "https://")) {
    host_start = 8;
  } else if (absl::StartsWithIgnoreCase(url, "http://")) {
    host_start = 7;
  } else {
    return absl::InvalidArgumentError("url: must be an absolute http:// or https:// URL");
  }
  const size_t path_start = url.find('/', host_start);
  if (path_start == absl::string_view::npos || path_start == host_start) {
    return absl::InvalidArgumentError("url: must have a host and a path");
  }
  const absl::string_view host = url.substr(host_start, path_start - host_start);
  if (host.find_first_of("?#@ ") != absl::string_view::npos) {
    return absl::InvalidArgumentError("url: malformed host");
  }
  return absl::StrCat(url.substr(0, path_start), "/", token, url.substr(path_start));
}

}  // namespace edgepass::core
