#include "aws/sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace edgepass::aws {
namespace {

constexpr absl::string_view kAlgorithm = "AWS4-HMAC-SHA256";

std::string HexOf(const unsigned char* bytes, size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(n * 2, '\0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kHex[bytes[i] >> 4];
    out[2 * i + 1] = kHex[bytes[i] & 0xf];
  }
  return out;
}

std::string Hmac(absl::string_view key, absl::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<const char*>(out), len);
}

bool IsUnreserved(unsigned char c) {
  return absl::ascii_isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decoding of a query component; a malformed escape stays as it is.
std::string PercentDecode(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && HexValue(text[i + 1]) >= 0 && HexValue(text[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(text[i + 1]) * 16 + HexValue(text[i + 2])));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

std::string NormalizePath(absl::string_view path) {
  std::vector<absl::string_view> kept;
  for (absl::string_view segment : absl::StrSplit(path, '/')) {
    if (segment.empty() || segment == ".") continue;
    if (segment == "..") {
      if (!kept.empty()) kept.pop_back();
      continue;
    }
    kept.push_back(segment);
  }
  bool trailing = absl::EndsWith(path, "/") || absl::EndsWith(path, "/.") ||
                  absl::EndsWith(path, "/..");
  std::string out = absl::StrCat("/", absl::StrJoin(kept, "/"));
  if (trailing && !kept.empty()) out.push_back('/');
  return out;
}

std::string CanonicalUri(absl::string_view path, bool normalize) {
  if (path.empty()) return "/";
  std::string p = normalize ? NormalizePath(path) : std::string(path);
  return UriEncode(p, /*keep_slash=*/true);
}

std::string CanonicalQuery(absl::string_view query) {
  std::vector<std::pair<std::string, std::string>> params;
  if (!query.empty()) {
    for (absl::string_view part : absl::StrSplit(query, '&')) {
      if (part.empty()) continue;
      std::pair<absl::string_view, absl::string_view> kv =
          absl::StrSplit(part, absl::MaxSplits('=', 1));
      params.emplace_back(UriEncode(PercentDecode(kv.first), false),
                          UriEncode(PercentDecode(kv.second), false));
    }
  }
  std::sort(params.begin(), params.end());
  std::vector<std::string> joined;
  joined.reserve(params.size());
  for (const auto& [k, v] : params) joined.push_back(absl::StrCat(k, "=", v));
  return absl::StrJoin(joined, "&");
}

// Trims and collapses runs of whitespace (folded lines included) to one space.
std::string CanonicalHeaderValue(absl::string_view value) {
  std::string out;
  bool in_space = false;
  for (char c : absl::StripAsciiWhitespace(value)) {
    if (absl::ascii_isspace(static_cast<unsigned char>(c))) {
      in_space = true;
      continue;
    }
    if (in_space) out.push_back(' ');
    in_space = false;
    out.push_back(c);
  }
  return out;
}

bool IsUnsignedHeader(absl::string_view lower_name) {
  return lower_name == "user-agent" || lower_name == "expect" ||
         lower_name == "x-amzn-trace-id" || lower_name == "authorization";
}

struct CanonicalHeaders {
  std::string block;   // "name:value\n" lines
  std::string signed_names;  // "host;x-amz-date"
};

CanonicalHeaders Canonicalize(const HttpRequest& request, absl::string_view skip_lower) {
  std::map<std::string, std::string> merged;  // sorted by lower-case name
  for (const auto& [name, value] : request.headers) {
    std::string lower = absl::AsciiStrToLower(name);
    if (IsUnsignedHeader(lower) || lower == skip_lower) continue;
    auto [it, inserted] = merged.emplace(lower, CanonicalHeaderValue(value));
    if (!inserted) absl::StrAppend(&it->second, ",", CanonicalHeaderValue(value));
  }
  CanonicalHeaders out;
  std::vector<absl::string_view> names;
  for (const auto& [name, value] : merged) {
    absl::StrAppend(&out.block, name, ":", value, "\n");
    names.push_back(name);
  }
  out.signed_names = absl::StrJoin(names, ";");
  return out;
}

std::string SigningKey(const Credentials& credentials, const SigV4Params& params) {
  std::string k = Hmac(absl::StrCat("AWS4", credentials.secret_access_key),
                       absl::FormatTime("%Y%m%d", params.time, absl::UTCTimeZone()));
  k = Hmac(k, params.region);
  k = Hmac(k, params.service);
  return Hmac(k, "aws4_request");
}

void Finish(const Credentials& credentials, const SigV4Params& params, SigV4Result* result) {
  result->string_to_sign =
      absl::StrCat(kAlgorithm, "\n", AmzDate(params.time), "\n",
                   CredentialScope(params.time, params.region, params.service), "\n",
                   Sha256Hex(result->canonical_request));
  std::string sig = Hmac(SigningKey(credentials, params), result->string_to_sign);
  result->signature =
      HexOf(reinterpret_cast<const unsigned char*>(sig.data()), sig.size());
}

}  // namespace

std::string Credentials::DebugString() const {
  return absl::StrCat("access_key_id=", access_key_id,
                      session_token.empty() ? "" : " (temporary)");
}

const std::string* HttpRequest::FindHeader(absl::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (absl::EqualsIgnoreCase(n, name)) return &v;
  }
  return nullptr;
}

std::string UriEncode(absl::string_view text, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (IsUnreserved(c) || (keep_slash && c == '/')) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
  return out;
}

std::string AmzDate(absl::Time time) {
  return absl::FormatTime("%Y%m%dT%H%M%SZ", time, absl::UTCTimeZone());
}

std::string CredentialScope(absl::Time time, absl::string_view region,
                            absl::string_view service) {
  return absl::StrCat(absl::FormatTime("%Y%m%d", time, absl::UTCTimeZone()), "/", region, "/",
                      service, "/aws4_request");
}

std::string Sha256Hex(absl::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  return HexOf(digest, sizeof(digest));
}

SigV4Result SignRequest(const Credentials& credentials, const SigV4Params& params,
                        HttpRequest* request) {
  const std::string payload_hash = Sha256Hex(request->body);
  request->headers.emplace_back("X-Amz-Date", AmzDate(params.time));
  if (!credentials.session_token.empty() && params.sign_session_token) {
    request->headers.emplace_back("X-Amz-Security-Token", credentials.session_token);
  }
  if (params.add_content_sha256_header) {
    request->headers.emplace_back("x-amz-content-sha256", payload_hash);
  }
  CanonicalHeaders headers = Canonicalize(*request, "");
  SigV4Result result;
  result.canonical_request = absl::StrCat(
      request->method, "\n", CanonicalUri(request->path, params.normalize_path), "\n",
      CanonicalQuery(request->query), "\n", headers.block, "\n", headers.signed_names, "\n",
      payload_hash);
  Finish(credentials, params, &result);
  result.authorization = absl::StrCat(
      kAlgorithm, " Credential=", credentials.access_key_id, "/",
      CredentialScope(params.time, params.region, params.service),
      ", SignedHeaders=", headers.signed_names, ", Signature=", result.signature);
  if (!credentials.session_token.empty() && !params.sign_session_token) {
    request->headers.emplace_back("X-Amz-Security-Token", credentials.session_token);
  }
  request->headers.emplace_back("Authorization", result.authorization);
  return result;
}

SigV4Result PresignRequest(const Credentials& credentials, const SigV4Params& params,
                           HttpRequest* request) {
  const std::string payload_hash = Sha256Hex(request->body);
  CanonicalHeaders headers = Canonicalize(*request, "");
  std::string added = absl::StrCat(
      "X-Amz-Algorithm=", kAlgorithm, "&X-Amz-Credential=",
      UriEncode(absl::StrCat(credentials.access_key_id, "/",
                             CredentialScope(params.time, params.region, params.service)),
                false),
      "&X-Amz-Date=", AmzDate(params.time), "&X-Amz-SignedHeaders=",
      UriEncode(headers.signed_names, false), "&X-Amz-Expires=",
      absl::ToInt64Seconds(params.expires));
  std::string token_param;
  if (!credentials.session_token.empty()) {
    token_param =
        absl::StrCat("&X-Amz-Security-Token=", UriEncode(credentials.session_token, false));
  }
  std::string query = request->query.empty() ? added : absl::StrCat(request->query, "&", added);
  if (params.sign_session_token) query += token_param;
  SigV4Result result;
  result.canonical_request = absl::StrCat(
      request->method, "\n", CanonicalUri(request->path, params.normalize_path), "\n",
      CanonicalQuery(query), "\n", headers.block, "\n", headers.signed_names, "\n",
      payload_hash);
  Finish(credentials, params, &result);
  if (!params.sign_session_token) query += token_param;
  request->query = absl::StrCat(query, "&X-Amz-Signature=", result.signature);
  return result;
}

}  // namespace edgepass::aws
