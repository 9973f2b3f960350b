#include "core/cloudfront_url.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "core/base64_internal.h"
#include "core/text_internal.h"
#include "core/url_query.h"

namespace edgepass::core {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-~";
constexpr char kPad = '_';
constexpr char kHex[] = "0123456789ABCDEF";

constexpr base64_internal::DecodeTable kDecode = base64_internal::MakeDecodeTable(kAlphabet);

using internal::HexValue;

bool IsHexEscape(absl::string_view s, size_t i) { return internal::PercentByte(s, i) >= 0; }

}  // namespace

bool IsStrictUtf8(absl::string_view s) {
  internal::Utf8Check utf8;
  for (char c : s) {
    if (!utf8.Feed(static_cast<unsigned char>(c))) return false;
  }
  return utf8.complete();
}

namespace {

// The characters encodeURIComponent leaves alone.
bool IsUriComponentSafe(uint8_t c) {
  if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '-':
    case '_':
    case '.':
    case '!':
    case '~':
    case '*':
    case '\'':
    case '(':
    case ')':
      return true;
    default:
      return false;
  }
}

void AppendEscape(uint8_t c, std::string* out) {
  out->push_back('%');
  out->push_back(kHex[c >> 4]);
  out->push_back(kHex[c & 15]);
}

// JavaScript's encodeURIComponent over UTF-8 bytes (valid UTF-8 assumed).
void AppendUriComponent(absl::string_view bytes, std::string* out) {
  for (char ch : bytes) {
    const auto c = static_cast<uint8_t>(ch);
    if (IsUriComponentSafe(c)) {
      out->push_back(ch);
    } else {
      AppendEscape(c, out);
    }
  }
}

// JavaScript's decodeURIComponent over UTF-8 bytes: false where it throws
// (a '%' without two hex digits, or escapes that do not form valid UTF-8).
// With valid UTF-8 input, decoding escapes bytewise and validating the result
// throws exactly when the code-point-wise JavaScript algorithm does.
bool DecodeUriComponent(absl::string_view s, std::string* out) {
  out->clear();
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out->push_back(s[i]);
      continue;
    }
    if (!IsHexEscape(s, i)) return false;
    out->push_back(static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2])));
    i += 2;
  }
  return IsStrictUtf8(*out);
}

// getSignedUrl's encodeQueryComponent.
void AppendQueryComponent(absl::string_view s, std::string* out) {
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<uint8_t>(s[i]);
    if (IsHexEscape(s, i)) {
      out->push_back('%');
      out->push_back(kHex[HexValue(s[i + 1])]);
      out->push_back(kHex[HexValue(s[i + 2])]);
      i += 2;
    } else if (c == '+') {
      out->push_back('+');
    } else if (c == '\'') {
      out->append("%27");
    } else if (IsUriComponentSafe(c)) {
      out->push_back(s[i]);
    } else {
      AppendEscape(c, out);
    }
  }
}

bool IsHostChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '-' || c == ':' || c == '[' || c == ']' || c == '_';
}

}  // namespace

std::string CloudFrontBase64Encode(absl::string_view bytes) {
  return base64_internal::Encode(bytes, kAlphabet, kPad);
}

bool CloudFrontBase64Decode(absl::string_view text, std::string* out) {
  out->clear();
  if (text.size() % 4 != 0) return false;
  if (!text.empty()) {
    size_t pad = 0;
    while (pad < 2 && text[text.size() - 1 - pad] == kPad) ++pad;
    text.remove_suffix(pad);
  }
  return base64_internal::Decode(text, kDecode, out);
}

absl::Status ValidateCloudFrontUrl(absl::string_view url, absl::string_view field) {
  auto error = [&](absl::string_view message) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": ", message));
  };
  if (url.empty()) return error("must not be empty");
  if (url.size() > kMaxCloudFrontUrlBytes) {
    return error(absl::StrCat("longer than ", kMaxCloudFrontUrlBytes, " bytes"));
  }
  for (char c : url) {
    const auto u = static_cast<uint8_t>(c);
    if (u < 0x20 || u == 0x7F) return error("contains a control character");
  }
  if (!IsStrictUtf8(url)) return error("is not valid UTF-8");
  const size_t scheme_end = url.find("://");
  if (scheme_end == absl::string_view::npos) {
    return error("must be an absolute URL (https://host/path)");
  }
  const absl::string_view scheme = url.substr(0, scheme_end);
  if (scheme != "https" && scheme != "http" && scheme != "wss" && scheme != "ws") {
    return error("scheme must be https, http, wss or ws");
  }
  const absl::string_view after = url.substr(scheme_end + 3);
  const size_t host_end = after.find_first_of("/?#");
  const absl::string_view host = after.substr(0, host_end);
  if (host.empty()) return error("has no host");
  for (char c : host) {
    if (c == '@') return error("must not carry user info");
    if (!IsHostChar(c)) return error("host must be ASCII letters, digits, '.', '-' (use punycode)");
  }
  if (host_end == absl::string_view::npos || after[host_end] != '/') {
    return error("must have a path starting with '/' after the host");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> NormalizeCloudFrontUrl(absl::string_view url, absl::string_view field) {
  if (absl::Status s = ValidateCloudFrontUrl(url, field); !s.ok()) return s;
  const size_t path_start = url.find('/', url.find("//") + 2);
  std::string out(url.substr(0, path_start));
  const absl::string_view rest = url.substr(path_start);
  const size_t q = rest.find('?');
  const absl::string_view path = rest.substr(0, q);

  std::string decoded;
  size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') {
      out.push_back('/');
      ++i;
      continue;
    }
    const size_t end = std::min(path.find('/', i), path.size());
    const absl::string_view segment = path.substr(i, end - i);
    if (DecodeUriComponent(segment, &decoded)) {
      AppendUriComponent(decoded, &out);
    } else {
      AppendUriComponent(segment, &out);
    }
    i = end;
  }

  if (q != absl::string_view::npos) {
    std::vector<std::string> pairs;
    for (absl::string_view pair : absl::StrSplit(rest.substr(q + 1), '&', absl::SkipEmpty())) {
      const size_t eq = pair.find('=');
      std::string encoded;
      AppendQueryComponent(pair.substr(0, eq), &encoded);
      encoded.push_back('=');
      if (eq != absl::string_view::npos) AppendQueryComponent(pair.substr(eq + 1), &encoded);
      pairs.push_back(std::move(encoded));
    }
    if (!pairs.empty()) absl::StrAppend(&out, "?", absl::StrJoin(pairs, "&"));
  }
  if (out.size() > kMaxCloudFrontUrlBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": longer than ", kMaxCloudFrontUrlBytes, " bytes once encoded"));
  }
  return out;
}

absl::StatusOr<CloudFrontUrlParams> SplitCloudFrontUrl(absl::string_view url) {
  if (url.find('#') != absl::string_view::npos) {
    return absl::InvalidArgumentError("url: must not contain '#'");
  }
  CloudFrontUrlParams params;
  const size_t q = url.find('?');
  params.unsigned_url = std::string(url.substr(0, q));
  if (q == absl::string_view::npos) return params;

  std::vector<absl::string_view> kept;
  for (absl::string_view part : absl::StrSplit(url.substr(q + 1), '&')) {
    const absl::string_view name = part.substr(0, part.find('='));
    std::optional<std::string>* slot = nullptr;
    if (name == "Expires") {
      slot = &params.expires;
    } else if (name == "Policy") {
      slot = &params.policy;
    } else if (name == "Signature") {
      slot = &params.signature;
    } else if (name == "Key-Pair-Id") {
      slot = &params.key_pair_id;
    } else if (name == "Hash-Algorithm") {
      slot = &params.hash_algorithm;
    }
    if (slot == nullptr) {
      kept.push_back(part);
      continue;
    }
    if (slot->has_value()) {
      return absl::InvalidArgumentError(absl::StrCat("url: parameter ", name, " repeated"));
    }
    const size_t eq = part.find('=');
    *slot = eq == absl::string_view::npos ? std::string() : PercentDecode(part.substr(eq + 1));
  }
  if (!kept.empty()) absl::StrAppend(&params.unsigned_url, "?", absl::StrJoin(kept, "&"));
  return params;
}

}  // namespace edgepass::core
