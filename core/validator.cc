#include "core/validator.h"

#include <algorithm>
#include <optional>
#include <string>
#include <tuple>
#include <utility>

#include "absl/container/inlined_vector.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "core/crypto.h"
#include "core/hmac_key.h"
#include "core/ip_address.h"
#include "core/json_internal.h"
#include "core/token_claims.h"
#include "core/token_issuer.h"

namespace edgepass::core {
namespace {

using internal::Claim;
using internal::ClaimType;
using internal::Json;
using internal::TokenClaims;

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

// An optional bool claim: false when absent or null; *ok = false for another type.
bool BoolClaim(const TokenClaims& claims, Claim claim, bool* ok) {
  switch (claims.type(claim)) {
    case ClaimType::kAbsent:
    case ClaimType::kNull: return false;
    case ClaimType::kBool: return claims.boolean(claim);
    default: *ok = false; return false;
  }
}

// An optional list-of-strings claim: *present = false when absent or null;
// *ok = false for another type.
absl::Span<const absl::string_view> StringListClaim(const TokenClaims& claims, Claim claim,
                                                    bool* present, bool* ok) {
  *present = false;
  switch (claims.type(claim)) {
    case ClaimType::kAbsent:
    case ClaimType::kNull: return {};
    case ClaimType::kStringList: *present = true; return claims.list(claim);
    default: *ok = false; return {};
  }
}

// The payload decoded into `stack` when it fits, else into `heap`.
bool DecodePayload(absl::string_view b64, absl::Span<char> stack, std::string* heap,
                   absl::string_view* out) {
  size_t size = 0;
  if (b64.size() / 4 * 3 + 3 <= stack.size()) {
    if (!Base64UrlDecode(b64, stack, &size)) return false;
    *out = absl::string_view(stack.data(), size);
    return true;
  }
  if (!Base64UrlDecode(b64, heap)) return false;
  *out = *heap;
  return true;
}

// Constant-time check of a base64url HMAC against the one computed over `parts`.
bool VerifyHmac(const HmacSha256Key& key, absl::Span<const absl::string_view> parts,
                absl::string_view b64_mac) {
  char presented[32];
  size_t size = 0;
  if (!Base64UrlDecode(b64_mac, absl::MakeSpan(presented), &size) || size != sizeof(presented)) {
    return false;
  }
  const Sha256Digest mac = key.MacOfParts(parts);
  return ConstantTimeEquals(
      absl::string_view(reinterpret_cast<const char*>(mac.data()), mac.size()),
      absl::string_view(presented, size));
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
  absl::string_view session_id;
  {
    const size_t first = token.find('.');
    const size_t second = first == absl::string_view::npos ? first : token.find('.', first + 1);
    if (second == absl::string_view::npos) return Deny(Reason::kMalformedToken);
    const size_t third = token.find('.', second + 1);
    if (third != absl::string_view::npos) {
      if (token.find('.', third + 1) != absl::string_view::npos) {
        return Deny(Reason::kMalformedToken);
      }
      session_id = token.substr(0, first);
      token.remove_prefix(first + 1);
      if (!IsValidSessionId(session_id)) return Deny(Reason::kMalformedToken);
    }
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

  // 4. Signature, compared in constant time. Keys of this keyring come with
  //    their HMAC key schedule done.
  std::optional<HmacSha256Key> own_mac;
  const HmacSha256Key* mac = keys.MacKeyOf(key);
  if (mac == nullptr) mac = &own_mac.emplace(key->value);
  if (!VerifyHmac(*mac, {signing_input}, signature_b64)) return Deny(Reason::kBadSignature);
  if (now > key->not_after) return Deny(Reason::kKeyExpired);

  // 5. Time claims. The payload is decoded on the stack and read in place
  //    unless it needs the full JSON parser (see token_claims.h).
  char payload_buf[kDefaultMaxTokenBytes];
  absl::string_view payload_json;
  if (!DecodePayload(payload_b64, absl::MakeSpan(payload_buf), &scratch, &payload_json)) {
    return Deny(Reason::kMalformedToken);
  }
  TokenClaims claims;
  if (!claims.Parse(payload_json)) return Deny(Reason::kMalformedToken);
  const absl::Duration leeway = std::clamp(options.leeway, absl::ZeroDuration(), kMaxLeeway);
  switch (claims.type(Claim::kExp)) {
    case ClaimType::kAbsent:
    case ClaimType::kNull: return Deny(Reason::kMissingExp);
    case ClaimType::kInteger: break;
    default: return Deny(Reason::kMalformedToken);
  }
  if (now > absl::FromUnixSeconds(claims.integer(Claim::kExp)) + leeway) {
    return Deny(Reason::kExpired);
  }
  if (const ClaimType nbf = claims.type(Claim::kNbf);
      nbf != ClaimType::kAbsent && nbf != ClaimType::kNull) {
    if (nbf != ClaimType::kInteger) return Deny(Reason::kMalformedToken);
    if (now < absl::FromUnixSeconds(claims.integer(Claim::kNbf)) - leeway) {
      return Deny(Reason::kNotYetValid);
    }
  }
  if (!session_id.empty() && revoked.Contains(session_id, now)) return Deny(Reason::kRevoked);

  // 6. Path: safe first, then exclusions, then the allowed prefixes.
  if (!IsSafePath(path)) return Deny(Reason::kUnsafePath);
  const Decision allow{true, Reason::kOk, path, session_id};
  bool ok = true;
  bool has_exc = false;
  bool has_paths = false;
  const absl::Span<const absl::string_view> exc =
      StringListClaim(claims, Claim::kExc, &has_exc, &ok);
  const absl::Span<const absl::string_view> paths =
      StringListClaim(claims, Claim::kPaths, &has_paths, &ok);
  if (!ok || !has_paths || paths.empty()) return Deny(Reason::kMalformedToken);
  // The session id prefix is not signed: without it a revoked viewer could
  // strip it and still reach the exclusions.
  bool ssn_ok = true;
  if (BoolClaim(claims, Claim::kSsn, &ssn_ok) && session_id.empty()) {
    return Deny(Reason::kMissingSession);
  }
  for (absl::string_view p : exc) {
    if (PathPrefixMatches(p, path)) return allow;
  }
  if (std::none_of(paths.begin(), paths.end(),
                   [&](absl::string_view p) { return PathPrefixMatches(p, path); })) {
    return Deny(Reason::kPathNotAllowed);
  }

  // 7. Viewer bindings, rebuilt in the issuer's order: ip, co, cty, reg, ssn,
  //    headers, query values; MACed as the parts joined by ':', unjoined.
  const bool ip = BoolClaim(claims, Claim::kIp, &ok);
  const bool co = BoolClaim(claims, Claim::kCo, &ok);
  const bool cty = BoolClaim(claims, Claim::kCty, &ok);
  const bool reg = BoolClaim(claims, Claim::kReg, &ok);
  const bool ssn = BoolClaim(claims, Claim::kSsn, &ok);
  const bool co_fallback = BoolClaim(claims, Claim::kCoFallback, &ok);
  const bool reg_fallback = BoolClaim(claims, Claim::kRegFallback, &ok);
  bool has_headers = false;
  bool has_query = false;
  const absl::Span<const absl::string_view> bound_headers =
      StringListClaim(claims, Claim::kHeaders, &has_headers, &ok);
  const absl::Span<const absl::string_view> bound_query =
      StringListClaim(claims, Claim::kQs, &has_query, &ok);
  if (!ok) return Deny(Reason::kMalformedToken);
  absl::InlinedVector<absl::string_view, 16> input;  // the parts and their ':' separators
  size_t input_bytes = 0;
  auto append = [&input, &input_bytes](absl::string_view v) {
    if (input_bytes > 0) {
      input.push_back(":");
      ++input_bytes;
    }
    input.push_back(v);
    input_bytes += v.size();
  };
  std::optional<CanonicalIp> client;  // owns the canonical text `input` views
  if (ip) {
    if (claims.type(Claim::kIpVer) != ClaimType::kInteger ||
        (claims.integer(Claim::kIpVer) != 4 && claims.integer(Claim::kIpVer) != 6)) {
      return Deny(Reason::kMalformedToken);
    }
    auto canonical = CanonicalizeIp(request.client_ip);
    if (!canonical.ok()) return Deny(Reason::kMissingViewerIp);
    if (canonical->version != claims.integer(Claim::kIpVer)) {
      return Deny(Reason::kIpVersionMismatch);
    }
    client = *std::move(canonical);
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
  const auto append_values = [&](absl::Span<const absl::string_view> names,
                                 absl::Span<const NameValue> pairs, bool ignore_case) {
    for (absl::string_view n : names) {
      const absl::string_view v = FindValue(pairs, n, ignore_case);
      if (!v.empty()) append(v);
    }
    return !names.empty();
  };
  const bool binds_headers = append_values(bound_headers, request.headers, /*ignore_case=*/true);
  const bool binds_query = append_values(bound_query, request.query, /*ignore_case=*/false);

  if (geo_missing) {
    // The shared intsig cannot be checked without the missing geo value.
    if (options.smd_geo_fallback_compat) return allow;
    if (ip || ssn || binds_headers || binds_query || geo_present) return Deny(Reason::kGeoUnavailable);
    return allow;
  }
  switch (claims.type(Claim::kIntsig)) {
    case ClaimType::kAbsent:
    case ClaimType::kNull:
      // Attributes bound, nothing to check them against.
      if (input_bytes > 0) return Deny(Reason::kBindingMismatch);
      return allow;
    case ClaimType::kString:
      if (!VerifyHmac(*mac, input, claims.string(Claim::kIntsig))) {
        return Deny(Reason::kBindingMismatch);
      }
      return allow;
    default:
      return Deny(Reason::kMalformedToken);
  }
}

}  // namespace edgepass::core
