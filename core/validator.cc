#include "core/validator.h"

#include <algorithm>
#include <string>
#include <tuple>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "core/crypto.h"
#include "core/ip_address.h"
#include "core/json_internal.h"
#include "core/token_issuer.h"

namespace edgepass::core {
namespace {

using internal::Json;

constexpr absl::string_view kCountryHeader = "cloudfront-viewer-country";
constexpr absl::string_view kRegionHeader = "cloudfront-viewer-country-region";
constexpr absl::string_view kCityHeader = "cloudfront-viewer-city";

Decision Deny(Reason reason) { return Decision{false, reason, {}, {}}; }

// Present and non-empty value of a header (case-insensitive) or query param.
absl::string_view FindValue(absl::Span<const NameValue> pairs, absl::string_view name,
                            bool ignore_case) {
  for (const auto& [n, v] : pairs) {
    if (ignore_case ? absl::EqualsIgnoreCase(n, name) : n == name) return v;
  }
  return {};
}

bool DecodeJsonObject(absl::string_view b64, std::string* scratch, Json* out) {
  if (!Base64UrlDecode(b64, scratch)) return false;
  *out = Json::parse(*scratch, nullptr, /*allow_exceptions=*/false);
  return out->is_object();
}

// Reads an optional bool claim; false when absent, nullopt-like failure via ok.
bool BoolClaim(const Json& payload, const char* name, bool* ok) {
  auto it = payload.find(name);
  if (it == payload.end() || it->is_null()) return false;
  if (!it->is_boolean()) {
    *ok = false;
    return false;
  }
  return it->get<bool>();
}

// A list-of-strings claim; nullptr (and *ok=false) when it has another type.
const Json* StringListClaim(const Json& payload, const char* name, bool* ok) {
  auto it = payload.find(name);
  if (it == payload.end() || it->is_null()) return nullptr;
  if (!it->is_array() ||
      !std::all_of(it->begin(), it->end(), [](const Json& e) { return e.is_string(); })) {
    *ok = false;
    return nullptr;
  }
  return &*it;
}

bool VerifyHmac(absl::string_view key, absl::string_view data, absl::string_view b64_mac,
                std::string* scratch) {
  if (!Base64UrlDecode(b64_mac, scratch) || scratch->size() != 32) return false;
  const Sha256Digest mac = HmacSha256(key, data);
  return ConstantTimeEquals(
      absl::string_view(reinterpret_cast<const char*>(mac.data()), mac.size()), *scratch);
}

}  // namespace

absl::string_view ReasonName(Reason reason) {
  switch (reason) {
    case Reason::kOk: return "ok";
    case Reason::kMissingToken: return "missing_token";
    case Reason::kTokenTooLarge: return "token_too_large";
    case Reason::kMalformedToken: return "malformed_token";
    case Reason::kUnsupportedAlg: return "unsupported_alg";
    case Reason::kUnknownKid: return "unknown_kid";
    case Reason::kBadSignature: return "bad_signature";
    case Reason::kKeyExpired: return "key_expired";
    case Reason::kMissingExp: return "missing_exp";
    case Reason::kExpired: return "expired";
    case Reason::kNotYetValid: return "not_yet_valid";
    case Reason::kRevoked: return "revoked";
    case Reason::kUnsafePath: return "unsafe_path";
    case Reason::kPathNotAllowed: return "path_not_allowed";
    case Reason::kIpVersionMismatch: return "ip_version_mismatch";
    case Reason::kMissingViewerIp: return "missing_viewer_ip";
    case Reason::kMissingSession: return "missing_session";
    case Reason::kMissingGeo: return "missing_geo";
    case Reason::kGeoUnavailable: return "geo_unavailable";
    case Reason::kBindingMismatch: return "binding_mismatch";
  }
  return "unknown";
}

bool IsSafePath(absl::string_view path) {
  if (path.empty() || path[0] != '/') return false;
  for (size_t i = 0; i < path.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(path[i]);
    if (c < 0x20 || c == 0x7f || c == '\\') return false;
    if (c == '%' && i + 2 < path.size()) {
      const char hi = path[i + 1];
      const char lo = static_cast<char>(absl::ascii_tolower(static_cast<unsigned char>(path[i + 2])));
      // %2e '.', %2f '/', %5c '\', and %00-%1f control characters.
      if ((hi == '2' && (lo == 'e' || lo == 'f')) || (hi == '5' && lo == 'c') || hi == '0' || hi == '1') {
        return false;
      }
    }
    if (c == '/' && i + 1 < path.size()) {
      const absl::string_view rest = path.substr(i + 1);
      if (rest[0] == '/') return false;  // "//"
      if (rest == "." || rest == ".." || absl::StartsWith(rest, "./") || absl::StartsWith(rest, "../")) {
        return false;
      }
    }
  }
  return true;
}

bool PathPrefixMatches(absl::string_view prefix, absl::string_view path) {
  if (prefix.empty() || !absl::StartsWith(path, prefix)) return false;
  if (prefix.back() == '/' || path.size() == prefix.size()) return true;
  return path[prefix.size()] == '/';
}

Decision Validate(const EdgeRequest& request, const Keyring& keys, const RevocationSet& revoked,
                  absl::Time now, const ValidateOptions& options) {
  // 1. Token in the first path segment; the rest is the origin path.
  const absl::string_view uri = request.uri;
  if (uri.size() < 2 || uri[0] != '/') return Deny(Reason::kMissingToken);
  const size_t slash = uri.find('/', 1);
  if (slash == absl::string_view::npos || slash == 1) return Deny(Reason::kMissingToken);
  absl::string_view token = uri.substr(1, slash - 1);
  const absl::string_view path = uri.substr(slash);
  if (token.size() > options.max_token_bytes) return Deny(Reason::kTokenTooLarge);

  // 2. Optional session id: four dot-separated parts.
  const size_t dots = std::count(token.begin(), token.end(), '.');
  absl::string_view session_id;
  if (dots == 3) {
    const size_t dot = token.find('.');
    session_id = token.substr(0, dot);
    token.remove_prefix(dot + 1);
    if (!IsValidSessionId(session_id)) return Deny(Reason::kMalformedToken);
  } else if (dots != 2) {
    return Deny(Reason::kMalformedToken);
  }
  const size_t dot1 = token.find('.');
  const size_t dot2 = token.find('.', dot1 + 1);
  const absl::string_view header_b64 = token.substr(0, dot1);
  const absl::string_view payload_b64 = token.substr(dot1 + 1, dot2 - dot1 - 1);
  const absl::string_view signing_input = token.substr(0, dot2);
  const absl::string_view signature_b64 = token.substr(dot2 + 1);

  // 3. Header: HS256 and a known kid. Tokens in the standard form match a
  //    key's precomputed header and skip the decode.
  std::string scratch;
  const SigningKey* key = keys.FindByEncodedHeader(header_b64);
  if (key == nullptr) {
    Json header;
    if (!DecodeJsonObject(header_b64, &scratch, &header)) return Deny(Reason::kMalformedToken);
    auto alg = header.find("alg");
    if (alg == header.end() || !alg->is_string() || alg->get_ref<const std::string&>() != "HS256") {
      return Deny(Reason::kUnsupportedAlg);
    }
    auto kid = header.find("kid");
    if (kid != header.end() && kid->is_string()) key = keys.Find(kid->get_ref<const std::string&>());
    if (key == nullptr) return Deny(Reason::kUnknownKid);
  }

  // 4. Signature, compared in constant time.
  if (!VerifyHmac(key->value, signing_input, signature_b64, &scratch)) {
    return Deny(Reason::kBadSignature);
  }
  if (now > key->not_after) return Deny(Reason::kKeyExpired);

  // 5. Time claims.
  Json payload;
  if (!DecodeJsonObject(payload_b64, &scratch, &payload)) return Deny(Reason::kMalformedToken);
  const absl::Duration leeway = std::clamp(options.leeway, absl::ZeroDuration(), kMaxLeeway);
  auto exp = payload.find("exp");
  if (exp == payload.end() || exp->is_null()) return Deny(Reason::kMissingExp);
  if (!exp->is_number_integer()) return Deny(Reason::kMalformedToken);
  if (now > absl::FromUnixSeconds(exp->get<int64_t>()) + leeway) return Deny(Reason::kExpired);
  if (auto nbf = payload.find("nbf"); nbf != payload.end() && !nbf->is_null()) {
    if (!nbf->is_number_integer()) return Deny(Reason::kMalformedToken);
    if (now < absl::FromUnixSeconds(nbf->get<int64_t>()) - leeway) return Deny(Reason::kNotYetValid);
  }
  if (!session_id.empty() && revoked.Contains(session_id, now)) return Deny(Reason::kRevoked);

  // 6. Path: safe first, then exclusions, then the allowed prefixes.
  if (!IsSafePath(path)) return Deny(Reason::kUnsafePath);
  const Decision allow{true, Reason::kOk, path, session_id};
  bool ok = true;
  const Json* exc = StringListClaim(payload, "exc", &ok);
  const Json* paths = StringListClaim(payload, "paths", &ok);
  if (!ok || paths == nullptr || paths->empty()) return Deny(Reason::kMalformedToken);
  // The session id prefix is not signed: without it a revoked viewer could
  // strip it and still reach the exclusions.
  bool ssn_ok = true;
  if (BoolClaim(payload, "ssn", &ssn_ok) && session_id.empty()) return Deny(Reason::kMissingSession);
  if (exc != nullptr) {
    for (const Json& p : *exc) {
      if (PathPrefixMatches(p.get_ref<const std::string&>(), path)) return allow;
    }
  }
  if (std::none_of(paths->begin(), paths->end(), [&](const Json& p) {
        return PathPrefixMatches(p.get_ref<const std::string&>(), path);
      })) {
    return Deny(Reason::kPathNotAllowed);
  }

  // 7. Viewer bindings, rebuilt in the issuer's order: ip, co, cty, reg, ssn,
  //    headers, query values.
  const bool ip = BoolClaim(payload, "ip", &ok);
  const bool co = BoolClaim(payload, "co", &ok);
  const bool cty = BoolClaim(payload, "cty", &ok);
  const bool reg = BoolClaim(payload, "reg", &ok);
  const bool ssn = BoolClaim(payload, "ssn", &ok);
  const bool co_fallback = BoolClaim(payload, "co_fallback", &ok);
  const bool reg_fallback = BoolClaim(payload, "reg_fallback", &ok);
  const Json* bound_headers = StringListClaim(payload, "headers", &ok);
  const Json* bound_query = StringListClaim(payload, "qs", &ok);
  if (!ok) return Deny(Reason::kMalformedToken);
  std::string input;
  auto append = [&input](absl::string_view v) {
    if (!input.empty()) input.push_back(':');
    input.append(v.data(), v.size());
  };
  if (ip) {
    auto ver = payload.find("ip_ver");
    if (ver == payload.end() || !ver->is_number_integer() ||
        (ver->get<int64_t>() != 4 && ver->get<int64_t>() != 6)) {
      return Deny(Reason::kMalformedToken);
    }
    auto client = CanonicalizeIp(request.client_ip);
    if (!client.ok()) return Deny(Reason::kMissingViewerIp);
    if (client->version != ver->get<int64_t>()) return Deny(Reason::kIpVersionMismatch);
    append(client->text);
  }
  bool geo_missing = false;
  bool geo_present = false;
  for (auto [bound, fallback, name] :
       {std::tuple{co, co_fallback, kCountryHeader}, std::tuple{cty, false, kCityHeader},
        std::tuple{reg, reg_fallback, kRegionHeader}}) {
    if (!bound) continue;
    const absl::string_view v = FindValue(request.headers, name, /*ignore_case=*/true);
    if (v.empty()) {
      if (!fallback) return Deny(Reason::kMissingGeo);
      geo_missing = true;
    } else {
      geo_present = true;
      append(v);
    }
  }
  if (ssn) {
    if (session_id.empty()) return Deny(Reason::kMissingSession);
    append(session_id);
  }
  const auto append_values = [&](const Json* names, absl::Span<const NameValue> pairs, bool ignore_case) {
    if (names == nullptr) return false;
    for (const Json& n : *names) {
      const absl::string_view v = FindValue(pairs, n.get_ref<const std::string&>(), ignore_case);
      if (!v.empty()) append(v);
    }
    return !names->empty();
  };
  const bool binds_headers = append_values(bound_headers, request.headers, /*ignore_case=*/true);
  const bool binds_query = append_values(bound_query, request.query, /*ignore_case=*/false);

  if (geo_missing) {
    // The shared intsig cannot be checked without the missing geo value.
    if (options.smd_geo_fallback_compat) return allow;
    if (ip || ssn || binds_headers || binds_query || geo_present) return Deny(Reason::kGeoUnavailable);
    return allow;
  }
  auto intsig = payload.find("intsig");
  if (intsig != payload.end() && !intsig->is_null()) {
    if (!intsig->is_string()) return Deny(Reason::kMalformedToken);
    if (!VerifyHmac(key->value, input, intsig->get_ref<const std::string&>(), &scratch)) {
      return Deny(Reason::kBindingMismatch);
    }
  } else if (!input.empty()) {
    return Deny(Reason::kBindingMismatch);  // attributes bound, nothing to check them against
  }
  return allow;
}

}  // namespace edgepass::core
