#include "client/explain/token_explain.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "core/crypto.h"
#include "core/url_query.h"
#include "core/validator.h"

namespace edgepass::explain {
namespace {

using Json = nlohmann::ordered_json;

constexpr int64_t kMaxTimeClaim = 253402300799;  // 9999-12-31T23:59:59Z, as core

std::string Utc(absl::Time t) { return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone()); }

// A token split as the validator splits it.
struct TokenParts {
  bool ok = false;  // three or four dot-separated parts
  size_t count = 0;
  std::string session_id;
  absl::string_view header_b64, payload_b64, signature_b64;
};

TokenParts SplitToken(absl::string_view token) {
  TokenParts t;
  std::vector<absl::string_view> parts = absl::StrSplit(token, '.');
  t.count = parts.size();
  if (parts.size() != 3 && parts.size() != 4) return t;
  size_t i = 0;
  if (parts.size() == 4) t.session_id = std::string(parts[i++]);
  t.header_b64 = parts[i];
  t.payload_b64 = parts[i + 1];
  t.signature_b64 = parts[i + 2];
  t.ok = true;
  return t;
}

// A base64url JSON object, or the reason it is not one (in *error).
Json DecodeObject(absl::string_view b64, std::string* error) {
  std::string bytes;
  if (!core::Base64UrlDecode(b64, &bytes)) {
    *error = "not base64url";
    return nullptr;
  }
  Json j = Json::parse(bytes, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    *error = "not JSON";
    return nullptr;
  }
  if (!j.is_object()) {
    *error = "not a JSON object";
    return nullptr;
  }
  return j;
}

// The token segment of a URI ("/<token>/rest"); empty when there is none.
absl::string_view TokenOfUri(absl::string_view uri) {
  if (uri.size() < 2 || uri[0] != '/') return {};
  const size_t slash = uri.find('/', 1);
  if (slash == absl::string_view::npos) return {};
  return uri.substr(1, slash - 1);
}

Json TimeEntry(const Json& claims, const char* name, absl::Time now) {
  auto it = claims.find(name);
  if (it == claims.end() || it->is_null()) return nullptr;
  Json out;
  if (!it->is_number_integer()) {
    out["error"] = "not an integer";
    return out;
  }
  const bool is_unsigned = it->is_number_unsigned();
  const uint64_t u = is_unsigned ? it->get<uint64_t>() : 0;
  const int64_t s = is_unsigned ? 0 : it->get<int64_t>();
  if ((is_unsigned && u > static_cast<uint64_t>(kMaxTimeClaim)) ||
      (!is_unsigned && (s < 0 || s > kMaxTimeClaim))) {
    out["epoch"] = *it;
    out["error"] = "outside 1970..9999";
    return out;
  }
  const int64_t seconds = is_unsigned ? static_cast<int64_t>(u) : s;
  const absl::Time t = absl::FromUnixSeconds(seconds);
  out["epoch"] = seconds;
  out["utc"] = Utc(t);
  out["from_now_seconds"] = absl::ToInt64Seconds(t - now);
  return out;
}

// Bound attribute names in the issuer's order, from the claims.
Json BoundNames(const Json& claims) {
  Json names = Json::array();
  auto flag = [&claims](const char* name) {
    auto it = claims.find(name);
    return it != claims.end() && it->is_boolean() && it->get<bool>();
  };
  if (flag("ip")) {
    auto v = claims.find("ip_ver");
    names.push_back(v != claims.end() && v->is_number_integer()
                        ? absl::StrCat("ip (IPv", v->get<int64_t>(), ")")
                        : std::string("ip"));
  }
  if (flag("co")) names.push_back(flag("co_fallback") ? "co (fallback)" : "co");
  if (flag("cty")) names.push_back("cty");
  if (flag("reg")) names.push_back(flag("reg_fallback") ? "reg (fallback)" : "reg");
  if (flag("ssn")) names.push_back("ssn");
  for (const char* list : {"headers", "qs"}) {
    auto it = claims.find(list);
    if (it == claims.end() || !it->is_array()) continue;
    for (const Json& n : *it) {
      if (n.is_string()) {
        names.push_back(absl::StrCat(list[0] == 'h' ? "header:" : "query:", n.get_ref<const std::string&>()));
      }
    }
  }
  return names;
}

struct Run {
  core::Decision decision;
  core::ValidateTrace trace;
};

// Validates `request` as `token verify` does (its URI, its own query first).
Run Validate(const ExplainRequest& request, const core::Keyring& keys, const core::RevocationSet& revoked,
             absl::Time now) {
  std::vector<core::NameValue> headers(request.headers.begin(), request.headers.end());
  std::vector<core::NameValue> query(request.target.query.begin(), request.target.query.end());
  query.insert(query.end(), request.query.begin(), request.query.end());
  const core::EdgeRequest edge{
      .uri = request.target.uri,
      .client_ip = request.client_ip,
      .headers = headers,
      .query = query,
  };
  Run run;
  run.decision = core::ValidateTraced(edge, keys, revoked.view(), now, {}, &run.trace);
  return run;
}

Json TraceJson(const core::ValidateTrace& trace) {
  Json out;
  out["viewer_attributes"] = trace.reached_bindings ? Json(trace.viewer_attributes) : Json(nullptr);
  Json parts = Json::array();
  for (const core::ValidateTrace::Part& p : trace.parts) {
    parts.push_back(Json{{"name", p.name}, {"value", p.present ? Json(p.value) : Json(nullptr)}});
  }
  out["parts"] = std::move(parts);
  out["intsig_checked"] = trace.intsig_checked;
  out["intsig_matches"] = trace.intsig_matched;
  return out;
}

}  // namespace

absl::string_view ReasonHint(absl::string_view reason) {
  static constexpr std::pair<absl::string_view, absl::string_view> kHints[] = {
      {"missing_token",
       "no token as the first path segment: the player lost the token or the "
       "URL was rewritten"},
      {"token_too_large", "the token segment is over 4096 bytes: not a token edgepass issued"},
      {"malformed_token",
       "not [session.]header.payload.signature, or bad base64url/JSON/claim "
       "types: a cut or edited URL"},
      {"unsupported_alg", "the JWT header's alg is not HS256"},
      {"unknown_kid",
       "the key id is not in this keyring: a key not yet distributed to this "
       "validator, or gone"},
      {"bad_signature",
       "the signature does not match: the token was altered, or the keyring "
       "has another value for this kid"},
      {"key_expired", "the signing key is retired and past its not_after"},
      {"missing_exp", "the token has no exp claim"},
      {"expired",
       "now is after exp: the player kept a URL longer than the policy's exp "
       "allows"},
      {"not_yet_valid",
       "now is before nbf: clock skew between the issuer and the edge, or nbf "
       "in the policy"},
      {"revoked", "the session id is on the revocation list"},
      {"unsafe_path",
       "the origin path has dot segments, encoded separators, '//' or bad "
       "UTF-8"},
      {"path_not_allowed", "no prefix of the token's paths claim matches the requested path"},
      {"ip_version_mismatch", "the viewer now connects over another IP version than the one bound"},
      {"missing_viewer_ip", "the token binds the IP but the request has no valid client IP"},
      {"missing_session", "the token binds the session but the URL carries no session id"},
      {"missing_geo",
       "the token binds a geo value but the request has no such "
       "CloudFront-Viewer-* header"},
      {"geo_unavailable",
       "a geo header is missing with *_fallback, but other bindings need it to "
       "check intsig"},
      {"binding_mismatch",
       "the request's viewer attributes differ from those the token was issued "
       "for"},
      {"duplicate_binding", "a bound header or query parameter appears more than once"},
  };
  for (const auto& [name, hint] : kHints) {
    if (name == reason) return hint;
  }
  return "";
}

absl::StatusOr<ExplainTarget> ParseExplainTarget(absl::string_view input, absl::string_view path) {
  if (input.empty()) {
    // As `token verify --uri ""`: a request without a token (missing_token).
    ExplainTarget empty;
    empty.kind = "path";
    return empty;
  }
  if (input.size() > kMaxExplainInputBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("token/URL: longer than ", kMaxExplainInputBytes, " bytes"));
  }
  if (!path.empty() && path[0] != '/') {
    return absl::InvalidArgumentError(absl::StrCat("--path '", path, "': must start with '/'"));
  }
  ExplainTarget target;
  absl::string_view uri = input;
  const std::string lower = absl::AsciiStrToLower(input.substr(0, 8));
  if (absl::StartsWith(lower, "http://") || absl::StartsWith(lower, "https://")) {
    target.kind = "url";
    const size_t host = input.find("://") + 3;
    const size_t slash = input.find_first_of("/?#", host);
    if (slash == absl::string_view::npos || input[slash] != '/') {
      return absl::InvalidArgumentError("token/URL: the URL has no path");
    }
    uri = input.substr(slash);
  } else if (input[0] == '/') {
    target.kind = "path";
  } else {
    target.kind = "token";
  }
  if (target.kind != "token") {
    uri = uri.substr(0, uri.find('#'));
    const size_t q = uri.find('?');
    if (q != absl::string_view::npos) target.query = core::ParseQueryString(uri.substr(q + 1));
    target.uri = std::string(uri.substr(0, q));
    return target;
  }
  std::string origin_path(path);
  if (origin_path.empty()) {
    // The token's own first `paths` prefix, so a bare token is checked where
    // it was meant to be used.
    origin_path = "/";
    const TokenParts parts = SplitToken(input);
    std::string error;
    if (parts.ok) {
      const Json claims = DecodeObject(parts.payload_b64, &error);
      if (claims.is_object()) {
        auto paths = claims.find("paths");
        if (paths != claims.end() && paths->is_array() && !paths->empty() && (*paths)[0].is_string() &&
            absl::StartsWith((*paths)[0].get_ref<const std::string&>(), "/")) {
          origin_path = (*paths)[0].get<std::string>();
        }
      }
    }
    target.path_assumed = true;
  }
  target.uri = absl::StrCat("/", input, origin_path);
  return target;
}

Json ExplainToken(const ExplainRequest& request, const ExplainRequest* expected, const core::Keyring& keys,
                  const core::RevocationSet& revoked, absl::Time now) {
  Json report;
  const absl::string_view token = TokenOfUri(request.target.uri);
  const size_t slash = request.target.uri.find('/', 1);
  {
    Json input;
    input["kind"] = request.target.kind;
    input["uri"] = request.target.uri;
    input["origin_path"] =
        slash == std::string::npos ? Json(nullptr) : Json(request.target.uri.substr(slash));
    input["origin_path_assumed"] = request.target.path_assumed;
    input["client_ip"] = request.client_ip.empty() ? Json(nullptr) : Json(request.client_ip);
    Json headers = Json::array();
    for (const auto& [n, v] : request.headers) headers.push_back(Json::array({n, v}));
    input["headers"] = std::move(headers);
    Json query = Json::array();
    for (const auto& [n, v] : request.target.query) query.push_back(Json::array({n, v}));
    for (const auto& [n, v] : request.query) query.push_back(Json::array({n, v}));
    input["query"] = std::move(query);
    report["input"] = std::move(input);
  }

  Json claims = nullptr;
  Json header = nullptr;
  {
    Json t;
    const TokenParts parts = SplitToken(token);
    if (token.empty()) {
      t["error"] = "no token segment";
    } else if (token.size() > core::kDefaultMaxTokenBytes) {
      t["error"] = absl::StrCat("longer than ", core::kDefaultMaxTokenBytes, " bytes; not decoded");
    } else if (!parts.ok) {
      t["error"] = absl::StrCat(parts.count, " dot-separated parts; a token has 3, or 4 with a session id");
    } else {
      t["session_id"] = parts.session_id.empty() ? Json(nullptr) : Json(parts.session_id);
      std::string error;
      header = DecodeObject(parts.header_b64, &error);
      t["header"] = header;
      if (!error.empty()) t["header_error"] = error;
      error.clear();
      claims = DecodeObject(parts.payload_b64, &error);
      t["claims"] = claims;
      if (!error.empty()) t["claims_error"] = error;
      t["signature_bytes"] = (parts.signature_b64.size() * 3) / 4;
    }
    report["token"] = std::move(t);
  }

  {
    Json times;
    times["now"] = Json{{"epoch", absl::ToUnixSeconds(now)}, {"utc", Utc(now)}};
    if (claims.is_object()) {
      for (const char* name : {"iat", "nbf", "exp"}) times[name] = TimeEntry(claims, name, now);
    }
    report["times"] = std::move(times);
  }

  {
    Json key;
    std::string kid;
    if (header.is_object()) {
      auto it = header.find("kid");
      if (it != header.end() && it->is_string()) kid = it->get<std::string>();
      auto alg = header.find("alg");
      key["alg"] = alg == header.end() ? Json(nullptr) : *alg;
    }
    key["kid"] = kid.empty() ? Json(nullptr) : Json(kid);
    const core::SigningKey* found = kid.empty() ? nullptr : keys.Find(kid);
    key["known"] = found != nullptr;
    key["state"] = found ? Json(std::string(core::KeyStateName(found->state))) : Json(nullptr);
    key["not_after"] =
        found && found->not_after != absl::InfiniteFuture() ? Json(Utc(found->not_after)) : Json(nullptr);
    Json ring = Json::array();
    for (const core::SigningKey& k : keys.keys()) {
      ring.push_back(Json{{"id", k.id}, {"state", std::string(core::KeyStateName(k.state))}});
    }
    key["keyring"] = std::move(ring);
    report["key"] = std::move(key);
  }

  const Run actual = Validate(request, keys, revoked, now);
  {
    Json bindings;
    bindings["bound"] = claims.is_object() ? BoundNames(claims) : Json::array();
    bindings["has_intsig"] = claims.is_object() && claims.contains("intsig");
    bindings["request"] = TraceJson(actual.trace);
    if (expected != nullptr) {
      const Run bound = Validate(*expected, keys, revoked, now);
      Json e = TraceJson(bound.trace);
      e["client_ip"] = expected->client_ip.empty() ? Json(nullptr) : Json(expected->client_ip);
      bindings["expected"] = std::move(e);
    } else {
      bindings["expected"] = nullptr;
    }
    report["bindings"] = std::move(bindings);
  }

  {
    const core::Decision& d = actual.decision;
    Json decision;  // the fields and order of `token verify`'s line
    decision["allow"] = d.allow;
    decision["path"] = d.allow ? Json(std::string(d.path)) : Json(nullptr);
    decision["session_id"] =
        d.allow && !d.session_id.empty() ? Json(std::string(d.session_id)) : Json(nullptr);
    decision["reason"] = std::string(core::ReasonName(d.reason));
    decision["hint"] = d.allow ? Json(nullptr) : Json(std::string(ReasonHint(core::ReasonName(d.reason))));
    report["decision"] = std::move(decision);
  }
  return report;
}

}  // namespace edgepass::explain
