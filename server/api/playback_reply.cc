#include "server/api/playback_reply.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/api/proto_convert.h"

namespace edgepass::server {
namespace {

// Wire types of the protobuf encoding.
constexpr uint32_t kVarint = 0;
constexpr uint32_t kLengthDelimited = 2;

// Field numbers of edgepass.v1.IssuePlaybackResponse, TokenPolicy, Cookie
// (proto/edgepass/v1/playback.proto, policy.proto) and
// google.protobuf.Timestamp.
namespace response {
constexpr uint32_t kPlaybackUrl = 1, kToken = 2, kSessionId = 3, kExpiresAt = 4, kTokenPolicy = 5,
                   kAssetId = 6, kVariant = 7, kScheme = 8, kCookies = 9;
}
namespace policy {
constexpr uint32_t kPaths = 1, kExc = 2, kExp = 3, kNbf = 4, kIp = 5, kCo = 6, kCoFallback = 7, kCty = 8,
                   kReg = 9, kRegFallback = 10, kSsn = 11, kSessionAutoGenerate = 12, kHeaders = 13,
                   kQuerystrings = 14;
}
namespace cookie {
constexpr uint32_t kName = 1, kValue = 2, kSetCookie = 3;
}
namespace timestamp {
constexpr uint32_t kSeconds = 1;
}

void AppendVarint(uint64_t v, std::string* out) {
  char bytes[10];
  size_t n = 0;
  while (v >= 0x80) {
    bytes[n++] = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  bytes[n++] = static_cast<char>(v);
  out->append(bytes, n);
}

void AppendTag(uint32_t field, uint32_t wire_type, std::string* out) { AppendVarint(field << 3 | wire_type, out); }

// proto3 singular fields: left out at their default.
void AppendString(uint32_t field, absl::string_view s, std::string* out) {
  if (s.empty()) return;
  AppendTag(field, kLengthDelimited, out);
  AppendVarint(s.size(), out);
  out->append(s.data(), s.size());
}

// Repeated strings: every element, empty ones too.
void AppendStrings(uint32_t field, const std::vector<std::string>& list, std::string* out) {
  for (const std::string& s : list) {
    AppendTag(field, kLengthDelimited, out);
    AppendVarint(s.size(), out);
    out->append(s);
  }
}

void AppendBool(uint32_t field, bool v, std::string* out) {
  if (!v) return;
  AppendTag(field, kVarint, out);
  out->push_back(1);
}

// int32 and int64 alike: a negative value is its 64-bit two's complement.
void AppendInt(uint32_t field, int64_t v, std::string* out) {
  if (v == 0) return;
  AppendTag(field, kVarint, out);
  AppendVarint(static_cast<uint64_t>(v), out);
}

// A sub-message field (present, even when empty): `write` appends its body
// after a one-byte length, widened in place when the body is 128 bytes or
// more.
template <typename Write>
void AppendMessage(uint32_t field, std::string* out, Write write) {
  AppendTag(field, kLengthDelimited, out);
  const size_t length_at = out->size();
  out->push_back('\0');
  write();
  const size_t length = out->size() - length_at - 1;
  if (length < 0x80) {
    (*out)[length_at] = static_cast<char>(length);
    return;
  }
  std::string varint;
  AppendVarint(length, &varint);
  out->replace(length_at, 1, varint);
}

size_t ListBytes(const std::vector<std::string>& list) {
  size_t n = 0;
  for (const std::string& s : list) n += s.size() + 3;
  return n;
}

// Room for the whole reply (lengths and tags at most 3 bytes each but the
// large strings'), so it is written without growing.
size_t ReplyBytes(const IssuedPlayback& p) {
  const core::TokenPolicy& tp = *p.policy;
  size_t n = 96 + p.playback_url.size() + p.token.size() + p.session_id.size() + p.asset_id.size() +
             p.variant.size() + p.scheme.size() + tp.exp.text.size() + ListBytes(tp.paths) + ListBytes(tp.exc) +
             ListBytes(tp.headers) + ListBytes(tp.querystrings);
  for (const IssuedCookie& c : p.cookies) n += 16 + c.name.size() + c.value.size() + c.set_cookie.size();
  return n;
}

}  // namespace

void PlaybackToProto(IssuedPlayback p, v1::IssuePlaybackResponse* r) {
  r->set_playback_url(std::move(p.playback_url));
  r->set_token(std::move(p.token));
  r->set_session_id(std::move(p.session_id));
  SetTimestamp(p.expires_at, r->mutable_expires_at());
  TokenPolicyToProto(*p.policy, r->mutable_token_policy());
  r->set_asset_id(std::move(p.asset_id));
  r->set_variant(std::move(p.variant));
  r->set_scheme(std::move(p.scheme));
  for (IssuedCookie& c : p.cookies) {
    v1::Cookie* out = r->add_cookies();
    out->set_name(std::move(c.name));
    out->set_value(std::move(c.value));
    out->set_set_cookie(std::move(c.set_cookie));
  }
}

void AppendIssuePlaybackResponse(const IssuedPlayback& p, std::string* out) {
  out->reserve(out->size() + ReplyBytes(p));
  AppendString(response::kPlaybackUrl, p.playback_url, out);
  AppendString(response::kToken, p.token, out);
  AppendString(response::kSessionId, p.session_id, out);
  AppendMessage(response::kExpiresAt, out,
                [&] { AppendInt(timestamp::kSeconds, absl::ToUnixSeconds(p.expires_at), out); });
  AppendMessage(response::kTokenPolicy, out, [&] {
    const core::TokenPolicy& tp = *p.policy;
    AppendStrings(policy::kPaths, tp.paths, out);
    AppendStrings(policy::kExc, tp.exc, out);
    AppendString(policy::kExp, PolicyExpText(tp), out);
    AppendString(policy::kNbf, PolicyNbfText(tp), out);
    AppendBool(policy::kIp, tp.ip, out);
    AppendBool(policy::kCo, tp.co, out);
    AppendBool(policy::kCoFallback, tp.co_fallback, out);
    AppendBool(policy::kCty, tp.cty, out);
    AppendBool(policy::kReg, tp.reg, out);
    AppendBool(policy::kRegFallback, tp.reg_fallback, out);
    AppendBool(policy::kSsn, tp.ssn, out);
    AppendInt(policy::kSessionAutoGenerate, static_cast<int32_t>(tp.session_auto_generate), out);
    AppendStrings(policy::kHeaders, tp.headers, out);
    AppendStrings(policy::kQuerystrings, tp.querystrings, out);
  });
  AppendString(response::kAssetId, p.asset_id, out);
  AppendString(response::kVariant, p.variant, out);
  AppendString(response::kScheme, p.scheme, out);
  for (const IssuedCookie& c : p.cookies) {
    AppendMessage(response::kCookies, out, [&] {
      AppendString(cookie::kName, c.name, out);
      AppendString(cookie::kValue, c.value, out);
      AppendString(cookie::kSetCookie, c.set_cookie, out);
    });
  }
}

}  // namespace edgepass::server
