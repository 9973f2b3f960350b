#include "core/token_issuer.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <optional>
#include <utility>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/base64_internal.h"
#include "core/crypto.h"
#include "core/ip_address.h"
#include "core/status_macros.h"
#include "core/url_query.h"
#include "text/json_string.h"

namespace edgepass::core {
namespace {

using text::AppendJsonStringList;

constexpr char kSessionAlphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

// JwtHeaderJson(kid) is kHeaderOpen + kid + kHeaderClose (keyring.cc).
constexpr absl::string_view kHeaderOpen =
    R"({"alg":"HS256","typ":"JWT","kid":")";
constexpr absl::string_view kHeaderClose = R"("})";
constexpr size_t kMaxHeaderBytes =
    kHeaderOpen.size() + kMaxKeyIdLength + kHeaderClose.size();

constexpr size_t kSignatureB64Bytes =
    base64_internal::EncodedSize(sizeof(Sha256Digest), false);

absl::Status Missing(absl::string_view field, absl::string_view claim) {
  return absl::InvalidArgumentError(
      absl::StrCat(field, ": required because the token policy binds ", claim));
}

absl::string_view View(const Sha256Digest& digest) {
  return absl::string_view(reinterpret_cast<const char*>(digest.data()),
                           digest.size());
}

void AppendInt(int64_t v, std::string* out) {
  char buf[24];
  const std::to_chars_result r = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, static_cast<size_t>(r.ptr - buf));
}

void AppendBool(bool v, std::string* out) { out->append(v ? "true" : "false"); }

// Bytes of a list's JSON when nothing in it needs escaping.
size_t ListBytes(const std::vector<std::string>& list) {
  size_t n = 2;
  for (const std::string& s : list) n += s.size() + 3;
  return n;
}

// The payload JSON, exactly as SMD's SDK (Token.generate) writes it through
// JSON.stringify: these claims, in this order, with these types.
void WritePayload(const TokenPolicy& policy, int64_t exp, int64_t iat,
                  int ip_version, const std::optional<Sha256Digest>& intsig,
                  std::string* out) {
  out->reserve(220 + ListBytes(policy.headers) +
               ListBytes(policy.querystrings) + ListBytes(policy.paths) +
               ListBytes(policy.exc));
  out->append(R"({"ip":)");
  AppendBool(policy.ip, out);
  out->append(R"(,"co":)");
  AppendBool(policy.co, out);
  out->append(R"(,"cty":)");
  AppendBool(policy.cty, out);
  out->append(R"(,"reg":)");
  AppendBool(policy.reg, out);
  out->append(R"(,"ssn":)");
  AppendBool(policy.ssn, out);
  out->append(R"(,"exp":)");
  AppendInt(exp, out);
  out->append(R"(,"headers":)");
  AppendJsonStringList(policy.headers, out);
  out->append(R"(,"qs":)");
  AppendJsonStringList(policy.querystrings, out);
  if (intsig) {  // base64url: nothing to escape
    out->append(R"(,"intsig":")");
    Base64UrlAppend(View(*intsig), out);
    out->push_back('"');
  }
  out->append(R"(,"paths":)");
  AppendJsonStringList(policy.paths, out);
  out->append(R"(,"exc":)");
  AppendJsonStringList(policy.exc, out);
  if (ip_version != 0) {
    out->append(R"(,"ip_ver":)");
    AppendInt(ip_version, out);
  }
  if (policy.co && policy.co_fallback) out->append(R"(,"co_fallback":true)");
  if (policy.reg && policy.reg_fallback) out->append(R"(,"reg_fallback":true)");
  if (policy.nbf) {
    out->append(R"(,"nbf":)");
    AppendInt(absl::ToUnixSeconds(*policy.nbf), out);
  }
  out->append(R"(,"iat":)");
  AppendInt(iat, out);
  out->push_back('}');
}

}  // namespace

bool IsValidSessionId(absl::string_view id) { return IsIdentifier(id, kMaxSessionIdLength); }

absl::Status CheckSessionId(absl::string_view session_id, absl::string_view field) {
  if (IsValidSessionId(session_id)) return absl::OkStatus();
  return FieldError(field,
                    absl::StrCat("must be 1 to ", kMaxSessionIdLength, " characters of [A-Za-z0-9_-]"));
}

std::string GenerateSessionId(int length, RandomSource& random) {
  std::string id;
  id.reserve(length);
  uint8_t buf[64];
  while (static_cast<int>(id.size()) < length) {
    // Enough bytes for what is missing, with room for a few rejections
    // (1 in 32), not a whole buffer: the random source's refills dominate.
    const size_t missing = static_cast<size_t>(length) - id.size();
    const absl::Span<uint8_t> draw = absl::MakeSpan(buf, std::min(sizeof(buf), missing + missing / 8 + 2));
    random.Fill(draw);
    for (uint8_t b : draw) {
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
  return IssueToken(policy, viewer, key, HmacSha256Key(key.value), now, random,
                    url_query);
}

absl::StatusOr<IssuedToken> IssueToken(const TokenPolicy& policy,
                                       const ViewerAttributes& viewer,
                                       const SigningKey& key,
                                       const HmacSha256Key& mac, absl::Time now,
                                       RandomSource& random,
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

  // The viewer attributes the token binds, in SMD's order, ':'-joined into
  // the intsig input. The views point into `viewer`, `ip`, `url_params` and
  // `out.session_id`, all of which outlive them.
  absl::InlinedVector<absl::string_view, 8> intsig_parts;
  CanonicalIp ip;
  if (policy.ip) {
    if (viewer.ip.empty()) return Missing("viewer.ip", "ip");
    absl::StatusOr<CanonicalIp> canonical = CanonicalizeIp(viewer.ip);
    if (!canonical.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("viewer.ip: ", canonical.status().message()));
    }
    ip = *std::move(canonical);
    intsig_parts.push_back(ip.text);
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
      EDGEPASS_RETURN_IF_ERROR(CheckSessionId(viewer.session_id, "viewer.sessionId"));
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
  std::vector<std::pair<std::string, std::string>> url_params;
  if (!policy.querystrings.empty()) {
    url_params = ParseQueryString(url_query);
    for (const std::string& name : policy.querystrings) {
      const std::string* v = nullptr;
      for (const auto& [n, value] : url_params) {
        if (n == name) { v = &value; break; }
      }
      if (v == nullptr || v->empty()) v = FindViewerQuery(viewer, name);
      if (v != nullptr && !v->empty()) intsig_parts.push_back(*v);
    }
  }
  size_t intsig_bytes = 0;
  for (absl::string_view part : intsig_parts) intsig_bytes += part.size() + 1;
  out.intsig_input.reserve(intsig_bytes);
  for (size_t i = 0; i < intsig_parts.size(); ++i) {
    if (i > 0) out.intsig_input.push_back(':');
    out.intsig_input.append(intsig_parts[i].data(), intsig_parts[i].size());
  }

  std::optional<Sha256Digest> intsig;
  if (!out.intsig_input.empty()) intsig = mac.Mac(out.intsig_input);
  std::string payload;
  WritePayload(policy, absl::ToUnixSeconds(out.expires_at), iat, ip.version,
               intsig, &payload);

  // Key ids are [A-Za-z0-9_-] (checked above): the header needs no escaping.
  char header[kMaxHeaderBytes];
  size_t header_size = 0;
  for (absl::string_view piece :
       {kHeaderOpen, absl::string_view(key.id), kHeaderClose}) {
    std::memcpy(header + header_size, piece.data(), piece.size());
    header_size += piece.size();
  }

  // "[<session-id>.]<header>.<payload>.<signature>", written once in place;
  // the signature covers "<header>.<payload>".
  std::string& token = out.token;
  token.reserve(out.session_id.size() + 1 +
                base64_internal::EncodedSize(header_size, false) + 1 +
                base64_internal::EncodedSize(payload.size(), false) + 1 +
                kSignatureB64Bytes);
  if (!out.session_id.empty()) {
    token.append(out.session_id);
    token.push_back('.');
  }
  const size_t signing_input_start = token.size();
  Base64UrlAppend(absl::string_view(header, header_size), &token);
  token.push_back('.');
  Base64UrlAppend(payload, &token);
  const Sha256Digest signature =
      mac.Mac(absl::string_view(token).substr(signing_input_start));
  token.push_back('.');
  Base64UrlAppend(View(signature), &token);
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
