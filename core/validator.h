// Edge validation of SMD-compatible tokens: turns a request, the keyring, the
// revoked sessions and the time into allow + origin path + session id, or deny
// + the first reason the request fails.
//
//   EdgeRequest req{.uri = "/<token>/video/1/index.m3u8", .client_ip = "203.0.113.9"};
//   Decision d = Validate(req, keyring, revoked, absl::Now());
//   if (d.allow) forward(d.path); else reject(ReasonName(d.reason));
#ifndef EDGEPASS_CORE_VALIDATOR_H_
#define EDGEPASS_CORE_VALIDATOR_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "core/keyring.h"
#include "core/revocation.h"

namespace edgepass::core {

// Closed set of outcomes; ReasonName() gives the stable string used in metric
// labels, logs and the sidecar's reason header.
enum class Reason {
  kOk,
  kMissingToken,        // no token segment, or nothing after it
  kTokenTooLarge,       // over ValidateOptions::max_token_bytes
  kMalformedToken,      // not [sid.]h.p.s, bad base64url/JSON, bad claim types,
                        // a repeated key, exp/nbf/iat outside [1970, 9999]
  kUnsupportedAlg,      // header alg is not HS256
  kUnknownKid,          // kid missing or not in the keyring
  kBadSignature,        // JWT signature mismatch
  kKeyExpired,          // the signing key is past its not_after
  kMissingExp,          // no exp claim
  kExpired,             // now > exp (+ leeway)
  kNotYetValid,         // now < nbf (- leeway)
  kRevoked,             // session id is on the revocation list
  kUnsafePath,          // see IsSafePath
  kPathNotAllowed,      // no `paths` prefix matches
  kIpVersionMismatch,   // viewer IP version differs from ip_ver
  kMissingViewerIp,     // ip bound but the request has no (valid) client IP
  kMissingSession,      // ssn bound but the token has no session id
  kMissingGeo,          // geo bound, header missing, no *_fallback
  kGeoUnavailable,      // geo missing with fallback, but other bindings need intsig
  kBindingMismatch,     // intsig does not match the request's viewer attributes
  kDuplicateBinding,    // a bound header or query parameter appears more than once
};
inline constexpr size_t kReasonCount = static_cast<size_t>(Reason::kDuplicateBinding) + 1;

absl::string_view ReasonName(Reason reason);

inline constexpr size_t kDefaultMaxTokenBytes = 4096;
inline constexpr absl::Duration kMaxLeeway = absl::Minutes(5);

struct ValidateOptions {
  size_t max_token_bytes = kDefaultMaxTokenBytes;
  absl::Duration leeway = absl::ZeroDuration();  // clamped to [0, kMaxLeeway]
  // SMD's behaviour for a missing geo header with *_fallback: skip every
  // binding, not only the geo one. Off by default (see DESIGN.md).
  bool smd_geo_fallback_compat = false;
};

using NameValue = std::pair<absl::string_view, absl::string_view>;

struct EdgeRequest {
  absl::string_view uri;          // path only, token in the first segment, no query
  absl::string_view client_ip;    // as received; canonicalized here
  absl::Span<const NameValue> headers;  // names matched case-insensitively
  absl::Span<const NameValue> query;    // decoded names and values
};

struct Decision {
  bool allow = false;
  Reason reason = Reason::kOk;
  absl::string_view path;        // origin path (token stripped); views request.uri
  absl::string_view session_id;  // views request.uri; empty when none
};

// Checks one request in the order DESIGN.md gives. Thread-safe. Allocates
// nothing when it allows a token in the form edgepass and SMD issue, except
// to canonicalize a bound IPv6 address (and to retry it in upper case); a payload with JSON escapes or
// non-ASCII text, or a non-standard header, is decoded with allocations.
// `revoked` may view memory mapped from a file (RevocationView::FromBytes):
// nothing of it is copied.
Decision Validate(const EdgeRequest& request, const Keyring& keys, RevocationView revoked,
                  absl::Time now, const ValidateOptions& options = {});
inline Decision Validate(const EdgeRequest& request, const Keyring& keys,
                         const RevocationSet& revoked, absl::Time now,
                         const ValidateOptions& options = {}) {
  return Validate(request, keys, revoked.view(), now, options);
}

// What Validate computed on its way to a decision, for diagnostics such as
// `edgepass token explain`; not meant for the request path.
struct ValidateTrace {
  struct Part {
    std::string name;   // "ip", "co", "cty", "reg", "ssn", "header:<name>", "query:<name>"
    std::string value;  // as it went into the string; empty when absent
    bool present = false;  // false: absent from the request, so left out of the string
  };
  bool reached_bindings = false;  // the viewer-binding step (7) was entered
  // The viewer-attribute string the validator built from the request: the
  // present values of `parts` joined by ':' (what `intsig` is the HMAC of).
  // As far as it got when a binding check refused before the end.
  std::string viewer_attributes;
  std::vector<Part> parts;  // every bound attribute, in the issuer's order
  bool intsig_checked = false;  // the HMAC of the string was compared with intsig
  bool intsig_matched = false;
};

// Validate, also filling *trace (which must not be null). Same decision as
// Validate for the same inputs; allocates. Thread-safe.
Decision ValidateTraced(const EdgeRequest& request, const Keyring& keys, RevocationView revoked,
                        absl::Time now, const ValidateOptions& options, ValidateTrace* trace);

// Path safety and matching, exposed for the sidecar and tests.
//
// A path is safe when no server between here and the origin can read it as a
// different path: it starts with '/', and it has no empty segment ("//"), no
// segment that is "." or ".." once its ";params" are removed ("/..;x/", which
// servlet-style origins resolve as ".."), no '\' or control character, no
// percent escape that decodes to '.', '/', '\', ';' or a control character,
// no encoded '%' that itself encodes one of those or another escape (double
// encoding), no "%u" or other malformed escape, and no byte sequence (raw or
// decoded) that is not valid UTF-8 (overlong forms such as "%c0%ae").
bool IsSafePath(absl::string_view path);
// `prefix` ending in '/' matches as a plain prefix; otherwise only at a segment
// boundary ("/live/ch1" matches "/live/ch1" and "/live/ch1/x", not "/live/ch10").
bool PathPrefixMatches(absl::string_view prefix, absl::string_view path);

}  // namespace edgepass::core

#endif  // EDGEPASS_CORE_VALIDATOR_H_
