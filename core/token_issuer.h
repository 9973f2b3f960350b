// Issues SMD-compatible ("smd-v1") access tokens: an HS256 JWT, optionally
// prefixed by a session id, with claims in the exact order and types SMD's SDK
// writes, so SMD's own edge validator accepts them.
//
//   SecureRandom random;
//   const SigningKey* key = keys.Primary();
//   absl::StatusOr<IssuedToken> t = IssueToken(policy, viewer, *key,
//   *keys.MacKeyOf(key), now, random); std::string url =
//   *InsertTokenIntoUrl("https://cdn.example.com/v/1/index.m3u8", t->token);
#ifndef EDGEPASS_CORE_TOKEN_ISSUER_H_
#define EDGEPASS_CORE_TOKEN_ISSUER_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "core/hmac_key.h"
#include "core/keyring.h"
#include "core/random.h"
#include "core/token_policy.h"
#include "core/viewer.h"

namespace edgepass::core {

struct IssuedToken {
  std::string token;       // "[<session-id>.]<header>.<payload>.<signature>"
  std::string session_id;  // empty when the policy does not bind a session
  absl::Time issued_at;    // the `iat` claim
  absl::Time expires_at;   // the `exp` claim
  std::string intsig_input;  // the viewer-attribute string; empty when nothing is bound
};

// Issues a token for `policy` and `viewer`, signed with `key`, at `now`
// (iat = floor(now)). The session id is the viewer's, or generated from
// `random` when the policy binds the session and the viewer has none.
// `url_query` (the playback URL's query, without '?') supplies bound query
// values the viewer does not. INVALID_ARGUMENT (field named, "viewer." or
// "token_policy." prefixed) when the policy is invalid, a bound attribute is
// missing or malformed (e.g. a non-IP `viewer.ip`), or the token would already
// be expired. Thread-safe.
absl::StatusOr<IssuedToken> IssueToken(const TokenPolicy& policy, const ViewerAttributes& viewer,
                                       const SigningKey& key, absl::Time now, RandomSource& random,
                                       absl::string_view url_query = "");

// The same, with `mac` the precomputed HMAC state of `key.value` (as
// Keyring::MacKeyOf(&key) gives it), so no key schedule is derived per call:
// the form for a hot path. A `mac` of another key gives tokens that fail
// validation. Thread-safe; allocates only the IssuedToken's strings, the
// payload buffer and, when the policy binds query values, their parse.
absl::StatusOr<IssuedToken> IssueToken(const TokenPolicy& policy,
                                       const ViewerAttributes& viewer,
                                       const SigningKey& key,
                                       const HmacSha256Key& mac, absl::Time now,
                                       RandomSource& random,
                                       absl::string_view url_query = "");

// Inserts `token` as the first path segment of an absolute http(s) URL:
// "https://h/a/b?q" -> "https://h/<token>/a/b?q". INVALID_ARGUMENT "url: ..."
// when `url` is not an absolute http(s) URL with a path.
absl::StatusOr<std::string> InsertTokenIntoUrl(absl::string_view url, absl::string_view token);

// True for 1 to kMaxSessionIdLength characters of [A-Za-z0-9_-].
bool IsValidSessionId(absl::string_view id);
// OK when IsValidSessionId(session_id), else INVALID_ARGUMENT "<field>: must
// be 1 to 64 characters of [A-Za-z0-9_-]": the one session id rule of every
// API, store and file.
absl::Status CheckSessionId(absl::string_view session_id, absl::string_view field);

// Session id of `length` characters from [A-Za-z0-9], uniformly distributed
// (rejection sampling over `random`).
std::string GenerateSessionId(int length, RandomSource& random);

}  // namespace edgepass::core

#endif  // EDGEPASS_CORE_TOKEN_ISSUER_H_
