#include "core/validator.h"

#include <algorithm>
#include <optional>
#include <string>
#include <tuple>
#include <utility>

#include "absl/container/inlined_vector.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/crypto.h"
#include "core/hmac_key.h"
#include "core/ip_address.h"
#include "core/json_internal.h"
#include "core/token_claims.h"
#include "core/text_internal.h"
#include "core/token_issuer.h"

namespace edgepass::core {
namespace {

using internal::Claim;
using internal::ClaimType;
using internal::HexValue;
using internal::PercentByte;
using internal::Utf8Check;
using internal::Json;
using internal::TokenClaims;

constexpr absl::string_view kCountryHeader = "cloudfront-viewer-country";
constexpr absl::string_view kRegionHeader = "cloudfront-viewer-country-region";
constexpr absl::string_view kCityHeader = "cloudfront-viewer-city";

Decision Deny(Reason reason) { return Decision{false, reason, {}, {}}; }

// Latest time claim accepted: 9999-12-31T23:59:59Z. Beyond it (and before
// 1970) a token is malformed rather than valid for ever or at once.
constexpr int64_t kMaxTimeClaim = 253402300799;

// How often a header (names case-insensitive) or query parameter (exact) is
// present; *value is the first occurrence's value (empty when absent).
size_t FindValues(absl::Span<const NameValue> pairs, absl::string_view name, bool ignore_case,
                  absl::string_view* value) {
  size_t count = 0;
  *value = {};
  for (const auto& [n, v] : pairs) {
    if (ignore_case ? absl::EqualsIgnoreCase(n, name) : n == name) {
      if (count++ == 0) *value = v;
    }
  }
  return count;
}

bool DecodeJsonObject(absl::string_view b64, std::string* scratch, Json* out) {
  return Base64UrlDecode(b64, scratch) && internal::ParseStrictJson(*scratch, out) &&
         out->is_object();
}

// A time claim: *present = false when absent or null; false when it is not an
// integer in [0, kMaxTimeClaim].
bool TimeClaim(const TokenClaims& claims, Claim claim, bool* present, int64_t* seconds) {
  *present = false;
  switch (claims.type(claim)) {
    case ClaimType::kAbsent:
    case ClaimType::kNull: return true;
    case ClaimType::kInteger:
      *present = true;
      *seconds = claims.integer(claim);
      return *seconds >= 0 && *seconds <= kMaxTimeClaim;
    default: return false;
  }
}

// One path segment (between slashes) without its ";params": "" means "//".
bool IsSafeSegment(absl::string_view segment, bool last) {
  const absl::string_view name = segment.substr(0, segment.find(';'));
  if (name.empty()) return last && segment.empty();  // a trailing '/' only
  return name != "." && name != "..";
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
    case Reason::kDuplicateBinding: return "duplicate_binding";
  }
  return "unknown";
}

bool IsSafePath(absl::string_view path) {
  if (path.empty() || path[0] != '/') return false;
  Utf8Check utf8;
  size_t segment_start = 1;
  for (size_t i = 1; i < path.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(path[i]);
    if (c == '/') {
      if (!IsSafeSegment(path.substr(segment_start, i - segment_start), false)) return false;
      segment_start = i + 1;
      continue;
    }
    if (c == '%') {
      const int decoded = PercentByte(path, i);
      if (decoded < 0) return false;  // "%u002e", "%zz", a cut-off escape
      if (decoded == '%') {
        // Double encoding: "%252e" (or "%25%32%65") is "%2e" to whoever
        // decodes it once more; so is "%25u002e" for "%u002e".
        const absl::string_view next = path.substr(i + 3, 2);
        if (!next.empty() && (next[0] == 'u' || next[0] == 'U' || next[0] == '%')) return false;
        if (next.size() == 2 && HexValue(next[0]) >= 0 && HexValue(next[1]) >= 0) return false;
      }
      if (decoded == '.' || decoded == '/' || decoded == '\\' || decoded == ';') return false;
      c = static_cast<unsigned char>(decoded);
      i += 2;
    } else if (c == '\\') {
      return false;
    }
    if (c < 0x20 || c == 0x7f || !utf8.Feed(c)) return false;
  }
  return utf8.complete() && IsSafeSegment(path.substr(segment_start), true);
}

bool PathPrefixMatches(absl::string_view prefix, absl::string_view path) {
  if (prefix.empty() || !absl::StartsWith(path, prefix)) return false;
  if (prefix.back() == '/' || path.size() == prefix.size()) return true;
  return path[prefix.size()] == '/';
}

namespace {

// Validate's body; `trace` is null on the request path.
Decision ValidateImpl(const EdgeRequest& request, const Keyring& keys, RevocationView revoked,
                      absl::Time now, const ValidateOptions& options, ValidateTrace* trace) {
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
  bool has_exp = false;
  bool has_nbf = false;
  bool has_iat = false;
  int64_t exp = 0;
  int64_t nbf = 0;
  int64_t iat = 0;
  if (!TimeClaim(claims, Claim::kExp, &has_exp, &exp) ||
      !TimeClaim(claims, Claim::kNbf, &has_nbf, &nbf) ||
      !TimeClaim(claims, Claim::kIat, &has_iat, &iat)) {
    return Deny(Reason::kMalformedToken);
  }
  if (!has_exp) return Deny(Reason::kMissingExp);
  if (now > absl::FromUnixSeconds(exp) + leeway) return Deny(Reason::kExpired);
  if (has_nbf && now < absl::FromUnixSeconds(nbf) - leeway) return Deny(Reason::kNotYetValid);
  // Before the exclusions: a revoked session reaches nothing with its token.
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
  // An exclusion allows before any binding is checked (DESIGN.md, SMD), so
  // also without the session id of a session-bound token.
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
  if (trace != nullptr) trace->reached_bindings = true;
  auto append = [&input, &input_bytes, trace](absl::string_view v) {
    if (input_bytes > 0) {
      input.push_back(":");
      ++input_bytes;
    }
    input.push_back(v);
    input_bytes += v.size();
    if (trace != nullptr) {
      if (input.size() > 1) trace->viewer_attributes.push_back(':');
      trace->viewer_attributes.append(v.data(), v.size());
    }
  };
  // Records a bound attribute for the trace (`value` empty: absent).
  auto note = [trace](absl::string_view kind, absl::string_view name, absl::string_view value) {
    if (trace == nullptr) return;
    trace->parts.push_back({name.empty() ? std::string(kind) : absl::StrCat(kind, ":", name),
                            std::string(value), !value.empty()});
  };
  std::optional<CanonicalIp> client;  // owns the canonical text `input` views
  if (ip) {
    if (claims.type(Claim::kIpVer) != ClaimType::kInteger ||
        (claims.integer(Claim::kIpVer) != 4 && claims.integer(Claim::kIpVer) != 6)) {
      return Deny(Reason::kMalformedToken);
    }
    auto canonical = CanonicalizeIp(request.client_ip);
    if (!canonical.ok()) {
      note("ip", "", {});
      return Deny(Reason::kMissingViewerIp);
    }
    if (canonical->version != claims.integer(Claim::kIpVer)) {
      return Deny(Reason::kIpVersionMismatch);
    }
    client = *std::move(canonical);
    note("ip", "", client->text);
    append(client->text);
  }
  // A bound value sent twice is refused: the validator and the origin could
  // read different ones.
  absl::string_view v;
  bool geo_missing = false;
  for (auto [bound, fallback, name, label] :
       {std::tuple{co, co_fallback, kCountryHeader, "co"},
        std::tuple{cty, false, kCityHeader, "cty"},
        std::tuple{reg, reg_fallback, kRegionHeader, "reg"}}) {
    if (!bound) continue;
    if (FindValues(request.headers, name, /*ignore_case=*/true, &v) > 1) {
      return Deny(Reason::kDuplicateBinding);
    }
    note(label, "", v);
    if (v.empty()) {
      if (!fallback) return Deny(Reason::kMissingGeo);
      geo_missing = true;
    } else {
      append(v);
    }
  }
  if (ssn) {
    note("ssn", "", session_id);
    if (session_id.empty()) return Deny(Reason::kMissingSession);
    append(session_id);
  }
  // False when a bound name appears more than once.
  const auto append_values = [&](absl::Span<const absl::string_view> names,
                                 absl::Span<const NameValue> pairs, bool ignore_case) {
    for (absl::string_view n : names) {
      if (FindValues(pairs, n, ignore_case, &v) > 1) return false;
      note(ignore_case ? "header" : "query", n, v);
      if (!v.empty()) append(v);
    }
    return true;
  };
  if (!append_values(bound_headers, request.headers, /*ignore_case=*/true) ||
      !append_values(bound_query, request.query, /*ignore_case=*/false)) {
    return Deny(Reason::kDuplicateBinding);
  }

  if (geo_missing) {
    // A *_fallback covers geo-only bindings. With anything else bound, the
    // shared intsig cannot be checked without the missing geo value.
    if (options.smd_geo_fallback_compat) return allow;
    if (ip || ssn || !bound_headers.empty() || !bound_query.empty()) {
      return Deny(Reason::kGeoUnavailable);
    }
    return allow;
  }
  switch (claims.type(Claim::kIntsig)) {
    case ClaimType::kAbsent:
    case ClaimType::kNull:
      // Attributes bound, nothing to check them against.
      if (input_bytes > 0) return Deny(Reason::kBindingMismatch);
      return allow;
    case ClaimType::kString: {
      const absl::string_view intsig = claims.string(Claim::kIntsig);
      if (trace != nullptr) trace->intsig_checked = true;
      if (VerifyHmac(*mac, input, intsig)) {
        if (trace != nullptr) trace->intsig_matched = true;
        return allow;
      }
      // SMD's SDK signs an IPv6 address in the case it was given: the same
      // address in upper case is the same binding.
      if (client && client->version == 6) {
        const std::string upper = absl::AsciiStrToUpper(client->text);
        if (upper != client->text) {
          input[0] = upper;
          if (VerifyHmac(*mac, input, intsig)) {
            if (trace != nullptr) trace->intsig_matched = true;
            return allow;
          }
        }
      }
      return Deny(Reason::kBindingMismatch);
    }
    default:
      return Deny(Reason::kMalformedToken);
  }
}

}  // namespace

Decision Validate(const EdgeRequest& request, const Keyring& keys, RevocationView revoked,
                  absl::Time now, const ValidateOptions& options) {
  return ValidateImpl(request, keys, revoked, now, options, nullptr);
}

Decision ValidateTraced(const EdgeRequest& request, const Keyring& keys, RevocationView revoked,
                        absl::Time now, const ValidateOptions& options, ValidateTrace* trace) {
  *trace = ValidateTrace();
  return ValidateImpl(request, keys, revoked, now, options, trace);
}

}  // namespace edgepass::core
