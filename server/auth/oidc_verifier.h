// Verifies end-user OpenID Connect ID tokens (RS256 JWTs, e.g. from Amazon
// Cognito) for the REST gateway's viewer-facing mode: the signature against
// the provider's JWKS, then `iss`, `aud`, `exp`, `nbf`, `iat` and `sub`; the
// groups claim then selects the viewer's entitlement.
//
//   auto verifier = OidcVerifier::Create({.issuer = "https://idp.example", .audiences = {"app"},
//                                         .jwks_source = "/etc/edgepass/jwks.json"}, nullptr);
//   absl::StatusOr<OidcIdentity> who = (*verifier)->Verify(bearer_token);  // 401 unless ok()
//
// Only RS256 is accepted: `alg: none`, HS256 (including HS256 "signed" with the
// RSA public key as the secret), RS384, PS256, ES256 ... are refused before a
// key is looked at. Header fields that name keys elsewhere (`jku`, `x5u`,
// `jwk`, `x5c`) are ignored; keys come only from `jwks_source`.
//
// JWKS refresh is lazy, on Verify: the first call after `jwks_refresh` has
// passed re-reads the source on its own thread (blocking that one call for at
// most `jwks_fetch_timeout`) while concurrent calls go on with the old keys.
// A token whose kid is unknown triggers one early re-read, at most once per
// `jwks_min_refresh_interval`; an unknown kid arriving while it runs is
// refused at once rather than wait (a viewer retries; forged kids cannot hold
// threads). A failed re-read keeps the old keys and is retried after
// `jwks_min_refresh_interval`.
//
// A caller that must not block (an event loop) asks MayWait() first and sends
// the calls it names to a thread that may wait; the rest it verifies with
// JwksWait::kNever, which never reads the source nor waits for a read.
#ifndef EDGEPASS_SERVER_AUTH_OIDC_VERIFIER_H_
#define EDGEPASS_SERVER_AUTH_OIDC_VERIFIER_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/auth/jwks.h"

namespace edgepass::server {

inline constexpr size_t kMaxIdTokenBytes = 16 * 1024;

struct OidcOptions {
  // Required; `iss` must equal it byte for byte (Cognito:
  // "https://cognito-idp.REGION.amazonaws.com/POOL_ID").
  std::string issuer;
  // Required, non-empty; `aud` (a string or a list) must contain one of them
  // (Cognito: the app client id).
  std::vector<std::string> audiences;
  // A list of strings (or one string); absent means no groups.
  std::string groups_claim = "cognito:groups";
  // Allowed clock skew for exp, nbf and iat; 0 to 5 minutes.
  absl::Duration leeway = absl::Seconds(30);
  // Required: a file path, or an http:// or https:// URL.
  std::string jwks_source;
  // Keys are re-read this long after the last successful read (at least 1 s).
  absl::Duration jwks_refresh = absl::Minutes(10);
  // Least time between two reads caused by unknown kids or failed reads.
  absl::Duration jwks_min_refresh_interval = absl::Seconds(30);
  // Whole-exchange bound of a URL fetch.
  absl::Duration jwks_fetch_timeout = absl::Seconds(5);
  // https: PEM CA bundle trusted instead of the system store ("" = system).
  std::string jwks_ca_file;
  // Longer tokens are refused as malformed before any decoding.
  size_t max_token_bytes = kMaxIdTokenBytes;
};

// Who the token says the viewer is.
struct OidcIdentity {
  std::string subject;              // `sub`
  std::vector<std::string> groups;  // the groups claim, in token order
  absl::Time expires_at;            // `exp`
};

// Why a token was refused: a closed set, stable names for metric labels.
enum class OidcReason {
  kMalformed,         // not three base64url parts of JSON objects, too large, bad claim type
  kAlgNotAllowed,     // header alg is not RS256
  kUnknownKid,        // no JWKS key for the header's kid (even after a re-read)
  kBadSignature,      // RS256 signature does not verify
  kIssuerMismatch,    // iss != options.issuer
  kAudienceMismatch,  // aud holds none of options.audiences
  kExpired,           // now >= exp + leeway
  kNotYetValid,       // now + leeway < nbf
  kIssuedInFuture,    // now + leeway < iat
  kMissingClaim,      // iss, aud, exp or sub absent
  kWrongTokenUse,     // Cognito token_use present and not "id" (an access token)
};

// "malformed", "alg_not_allowed", "unknown_kid", ... (snake_case of the enum).
absl::string_view OidcReasonName(OidcReason reason);

// The reason a Verify() error carries (as a status payload), or nullopt for
// any other status.
std::optional<OidcReason> OidcReasonOf(const absl::Status& status);

// The state of the verifier's key set, for health endpoints and logs.
struct OidcKeysStatus {
  size_t keys = 0;
  absl::Time loaded_at;     // last successful read
  absl::Time last_attempt;  // last read, successful or not
  std::string last_error;   // of the last read; "" when it succeeded
};

// Whether Verify() may read the JWKS source, and so wait on the network.
enum class JwksWait {
  kAllowed,  // re-read stale keys, or for an unknown kid (see above)
  kNever,    // the keys as they are: stale ones are used, an unknown kid is refused
};

// Thread-safe: Verify() may be called from any number of threads.
class OidcVerifier {
 public:
  // Validates `options` (INVALID_ARGUMENT "oidc.<field>: ..."), then reads
  // and parses the JWKS once; its error names the source and what is wrong
  // (not JSON, no RSA keys, bad "n", HTTP status, TLS failure ...). `clock`
  // is the time source of every expiry and refresh decision (null: absl::Now).
  static absl::StatusOr<std::unique_ptr<OidcVerifier>> Create(OidcOptions options,
                                                              std::function<absl::Time()> clock);

  // The identity in a valid token. Every refusal is UNAUTHENTICATED
  // "id token: <reason>" ("id token: expired", "id token:
  // audience mismatch", "id token: unknown kid", "id token: alg must be
  // RS256", "id token: bad signature", "id token: malformed (...)") with the
  // OidcReason as payload (see OidcReasonOf). The message never holds the
  // token or any part of it. With kAllowed it may block for a JWKS re-read
  // (see above); with kNever it does not.
  absl::StatusOr<OidcIdentity> Verify(absl::string_view id_token,
                                      JwksWait wait = JwksWait::kAllowed) const;

  // True when Verify(id_token) could read the JWKS now: no read runs and the
  // keys are due for their re-read, or the token's header names a kid they
  // lack and an early re-read is allowed. False for a header refused before
  // any key is looked at (malformed, wrong alg). Decodes the header only; the
  // answer can be stale by the time Verify runs, so a caller that must not
  // block still verifies the others with JwksWait::kNever.
  bool MayWait(absl::string_view id_token) const;

  // Re-reads the JWKS now, after any read in progress. On failure the old
  // keys stay and the error (naming the source) is returned.
  absl::Status Refresh() const;

  OidcKeysStatus KeysStatus() const;
  const OidcOptions& options() const { return options_; }

 private:
  OidcVerifier(OidcOptions options, std::function<absl::Time()> clock);

  // Claims the single refresh slot, reads the source without the lock, then
  // installs the new keys (or records the error). Requires refreshing_ set.
  absl::Status RunRefresh() const ABSL_LOCKS_EXCLUDED(mu_);
  // The keys to use now, re-reading first when they are stale.
  std::shared_ptr<const JwksKeySet> CurrentKeys() const ABSL_LOCKS_EXCLUDED(mu_);
  // After a kid miss: re-reads when allowed and no re-read runs.
  std::shared_ptr<const JwksKeySet> KeysAfterKidMiss(
      const std::shared_ptr<const JwksKeySet>& missed) const ABSL_LOCKS_EXCLUDED(mu_);

  const OidcOptions options_;
  const std::function<absl::Time()> clock_;

  mutable absl::Mutex mu_;
  mutable std::shared_ptr<const JwksKeySet> keys_ ABSL_GUARDED_BY(mu_);
  mutable bool refreshing_ ABSL_GUARDED_BY(mu_) = false;
  mutable absl::Time next_refresh_ ABSL_GUARDED_BY(mu_);
  mutable absl::Time loaded_at_ ABSL_GUARDED_BY(mu_);
  mutable absl::Time last_attempt_ ABSL_GUARDED_BY(mu_);
  mutable std::string last_error_ ABSL_GUARDED_BY(mu_);
};

}  // namespace edgepass::server

#endif  // EDGEPASS_SERVER_AUTH_OIDC_VERIFIER_H_
