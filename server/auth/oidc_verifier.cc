#include "server/auth/oidc_verifier.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/crypto.h"
#include "server/auth/jwks_fetch.h"

namespace edgepass::server {
namespace {

using Json = nlohmann::json;

constexpr absl::string_view kReasonPayload = "type.edgepass.dev/oidc-reason";

constexpr OidcReason kAllReasons[] = {
    OidcReason::kMalformed,    OidcReason::kAlgNotAllowed,  OidcReason::kUnknownKid,
    OidcReason::kBadSignature, OidcReason::kIssuerMismatch, OidcReason::kAudienceMismatch,
    OidcReason::kExpired,      OidcReason::kNotYetValid,    OidcReason::kIssuedInFuture,
    OidcReason::kMissingClaim, OidcReason::kWrongTokenUse,
};

absl::string_view ReasonMessage(OidcReason reason) {
  switch (reason) {
    case OidcReason::kMalformed:
      return "malformed";
    case OidcReason::kAlgNotAllowed:
      return "alg must be RS256";
    case OidcReason::kUnknownKid:
      return "unknown kid";
    case OidcReason::kBadSignature:
      return "bad signature";
    case OidcReason::kIssuerMismatch:
      return "issuer mismatch";
    case OidcReason::kAudienceMismatch:
      return "audience mismatch";
    case OidcReason::kExpired:
      return "expired";
    case OidcReason::kNotYetValid:
      return "not yet valid";
    case OidcReason::kIssuedInFuture:
      return "issued in the future";
    case OidcReason::kMissingClaim:
      return "missing claim";
    case OidcReason::kWrongTokenUse:
      return "token_use must be \"id\"";
  }
  return "malformed";
}

// UNAUTHENTICATED "id token: <reason>[ <detail>]". `detail` names a claim or a
// structural fault, never token content.
absl::Status Refuse(OidcReason reason, absl::string_view detail = "") {
  absl::Status status = absl::UnauthenticatedError(
      absl::StrCat("id token: ", ReasonMessage(reason), detail.empty() ? "" : " ", detail));
  status.SetPayload(kReasonPayload, absl::Cord(OidcReasonName(reason)));
  return status;
}

absl::Status Malformed(absl::string_view what) {
  return Refuse(OidcReason::kMalformed, absl::StrCat("(", what, ")"));
}

// A JSON object from one base64url part of the token.
absl::StatusOr<Json> DecodeJsonPart(absl::string_view part, absl::string_view name) {
  std::string bytes;
  if (part.empty() || !core::Base64UrlDecode(part, &bytes)) {
    return Malformed(absl::StrCat(name, " is not unpadded base64url"));
  }
  Json j = Json::parse(bytes, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return Malformed(absl::StrCat(name, " is not a JSON object"));
  }
  return j;
}

// The three parts of a compact JWS, or the refusal of anything else.
absl::StatusOr<std::vector<absl::string_view>> SplitToken(absl::string_view id_token, size_t max_bytes) {
  if (id_token.size() > max_bytes) {
    return Malformed(absl::StrCat("larger than ", max_bytes, " bytes"));
  }
  std::vector<absl::string_view> parts = absl::StrSplit(id_token, '.');
  if (parts.size() == 5) return Malformed("encrypted tokens (JWE) are not supported");
  if (parts.size() != 3) return Malformed("not three dot-separated parts");
  return parts;
}

// The header's kid (nullopt when it names none), or the header's refusal.
absl::StatusOr<std::optional<std::string>> HeaderKid(absl::string_view header_part) {
  absl::StatusOr<Json> header = DecodeJsonPart(header_part, "header");
  if (!header.ok()) return header.status();
  auto alg = header->find("alg");
  if (alg == header->end() || !alg->is_string() || *alg != "RS256") {
    return Refuse(OidcReason::kAlgNotAllowed);
  }
  // RFC 7515 4.1.11: a critical extension we do not understand must fail.
  if (header->contains("crit")) return Malformed("\"crit\" header is not supported");
  std::optional<std::string> kid;
  if (auto it = header->find("kid"); it != header->end()) {
    if (!it->is_string()) return Malformed("\"kid\" is not a string");
    kid = it->get<std::string>();
  }
  return kid;
}

// A JWT NumericDate: seconds since the epoch, integer or not.
std::optional<absl::Time> NumericDate(const Json& j) {
  if (j.is_number_unsigned()) {
    const uint64_t v = j.get<uint64_t>();
    if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return absl::InfiniteFuture();
    }
    return absl::FromUnixSeconds(static_cast<int64_t>(v));
  }
  if (j.is_number_integer()) return absl::FromUnixSeconds(j.get<int64_t>());
  if (j.is_number_float()) {
    const double v = j.get<double>();
    if (!std::isfinite(v)) return std::nullopt;
    return absl::UnixEpoch() + absl::Seconds(v);
  }
  return std::nullopt;
}

// Looks up an optional NumericDate claim; Malformed when present but not a number.
absl::Status DateClaim(const Json& claims, const char* name, std::optional<absl::Time>* out) {
  out->reset();
  auto it = claims.find(name);
  if (it == claims.end()) return absl::OkStatus();
  *out = NumericDate(*it);
  if (!out->has_value()) return Malformed(absl::StrCat("\"", name, "\" is not a number"));
  return absl::OkStatus();
}

// A string, or a list of strings, as a list. Malformed otherwise.
absl::Status StringOrList(const Json& j, absl::string_view name, std::vector<std::string>* out) {
  out->clear();
  if (j.is_string()) {
    out->push_back(j.get<std::string>());
    return absl::OkStatus();
  }
  if (j.is_array()) {
    for (const Json& item : j) {
      if (!item.is_string()) break;
      out->push_back(item.get<std::string>());
    }
    if (out->size() == j.size()) return absl::OkStatus();
  }
  return Malformed(absl::StrCat("\"", name, "\" is not a string or a list of strings"));
}

absl::Status CheckOptions(const OidcOptions& o) {
  auto bad = [](absl::string_view field, absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("oidc.", field, ": ", why));
  };
  if (o.issuer.empty()) return bad("issuer", "is required");
  if (o.audiences.empty()) return bad("audiences", "needs at least one audience");
  for (const std::string& a : o.audiences) {
    if (a.empty()) return bad("audiences", "has an empty audience");
  }
  if (o.groups_claim.empty()) return bad("groups_claim", "is empty");
  if (o.leeway < absl::ZeroDuration() || o.leeway > absl::Minutes(5)) {
    return bad("leeway", "must be 0 to 5 minutes");
  }
  if (o.jwks_source.empty()) return bad("jwks_source", "is required (a file path or a URL)");
  if (o.jwks_refresh < absl::Seconds(1)) return bad("jwks_refresh", "must be at least 1s");
  if (o.jwks_min_refresh_interval < absl::ZeroDuration()) {
    return bad("jwks_min_refresh_interval", "must not be negative");
  }
  if (o.jwks_fetch_timeout <= absl::ZeroDuration()) {
    return bad("jwks_fetch_timeout", "must be positive");
  }
  if (o.max_token_bytes < 256) return bad("max_token_bytes", "must be at least 256");
  return absl::OkStatus();
}

}  // namespace

absl::string_view OidcReasonName(OidcReason reason) {
  switch (reason) {
    case OidcReason::kMalformed:
      return "malformed";
    case OidcReason::kAlgNotAllowed:
      return "alg_not_allowed";
    case OidcReason::kUnknownKid:
      return "unknown_kid";
    case OidcReason::kBadSignature:
      return "bad_signature";
    case OidcReason::kIssuerMismatch:
      return "issuer_mismatch";
    case OidcReason::kAudienceMismatch:
      return "audience_mismatch";
    case OidcReason::kExpired:
      return "expired";
    case OidcReason::kNotYetValid:
      return "not_yet_valid";
    case OidcReason::kIssuedInFuture:
      return "issued_in_future";
    case OidcReason::kMissingClaim:
      return "missing_claim";
    case OidcReason::kWrongTokenUse:
      return "wrong_token_use";
  }
  return "malformed";
}

std::optional<OidcReason> OidcReasonOf(const absl::Status& status) {
  const auto payload = status.GetPayload(kReasonPayload);
  if (!payload.has_value()) return std::nullopt;
  for (OidcReason reason : kAllReasons) {
    if (*payload == OidcReasonName(reason)) return reason;
  }
  return std::nullopt;
}

OidcVerifier::OidcVerifier(OidcOptions options, std::function<absl::Time()> clock)
    : options_(std::move(options)), clock_(std::move(clock)) {}

absl::StatusOr<std::unique_ptr<OidcVerifier>> OidcVerifier::Create(
    OidcOptions options, std::function<absl::Time()> clock) {
  if (absl::Status s = CheckOptions(options); !s.ok()) return s;
  if (!clock) clock = [] { return absl::Now(); };
  std::unique_ptr<OidcVerifier> verifier(new OidcVerifier(std::move(options), std::move(clock)));
  {
    absl::MutexLock lock(&verifier->mu_);
    verifier->refreshing_ = true;
  }
  if (absl::Status s = verifier->RunRefresh(); !s.ok()) return s;
  return verifier;
}

absl::Status OidcVerifier::RunRefresh() const {
  const absl::Time started = clock_();
  absl::StatusOr<JwksKeySet> parsed = [&]() -> absl::StatusOr<JwksKeySet> {
    absl::StatusOr<std::string> text =
        FetchJwks(options_.jwks_source,
                  {.timeout = options_.jwks_fetch_timeout, .ca_file = options_.jwks_ca_file});
    if (!text.ok()) return text.status();
    const std::string source = IsJwksUrl(options_.jwks_source)
                                   ? absl::StrCat("jwks url ", options_.jwks_source)
                                   : absl::StrCat("jwks file ", options_.jwks_source);
    return JwksKeySet::Parse(*text, source);
  }();
  absl::MutexLock lock(&mu_);
  refreshing_ = false;
  last_attempt_ = started;
  if (!parsed.ok()) {
    last_error_ = std::string(parsed.status().message());
    next_refresh_ = started + options_.jwks_min_refresh_interval;
    return parsed.status();
  }
  keys_ = std::make_shared<const JwksKeySet>(*std::move(parsed));
  loaded_at_ = started;
  last_error_.clear();
  next_refresh_ = started + options_.jwks_refresh;
  return absl::OkStatus();
}

absl::Status OidcVerifier::Refresh() const {
  {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(
        +[](bool* refreshing) { return !*refreshing; }, &refreshing_));
    refreshing_ = true;
  }
  return RunRefresh();
}

std::shared_ptr<const JwksKeySet> OidcVerifier::CurrentKeys() const {
  const absl::Time now = clock_();
  {
    absl::MutexLock lock(&mu_);
    if (refreshing_ || now < next_refresh_) return keys_;
    refreshing_ = true;
  }
  RunRefresh().IgnoreError();  // a failure keeps the old keys and is in KeysStatus()
  absl::MutexLock lock(&mu_);
  return keys_;
}

std::shared_ptr<const JwksKeySet> OidcVerifier::KeysAfterKidMiss(
    const std::shared_ptr<const JwksKeySet>& missed) const {
  const absl::Time now = clock_();
  {
    absl::MutexLock lock(&mu_);
    if (keys_ != missed) return keys_;  // someone re-read meanwhile
    // A re-read is running: not waited for, or forged kids could hold every
    // thread that may wait for its whole fetch timeout.
    if (refreshing_) return keys_;
    if (now < last_attempt_ + options_.jwks_min_refresh_interval) return keys_;
    refreshing_ = true;
  }
  RunRefresh().IgnoreError();
  absl::MutexLock lock(&mu_);
  return keys_;
}

OidcKeysStatus OidcVerifier::KeysStatus() const {
  absl::MutexLock lock(&mu_);
  return {.keys = keys_ ? keys_->size() : 0,
          .loaded_at = loaded_at_,
          .last_attempt = last_attempt_,
          .last_error = last_error_};
}

bool OidcVerifier::MayWait(absl::string_view id_token) const {
  absl::StatusOr<std::vector<absl::string_view>> parts = SplitToken(id_token, options_.max_token_bytes);
  if (!parts.ok()) return false;
  absl::StatusOr<std::optional<std::string>> kid = HeaderKid((*parts)[0]);
  if (!kid.ok()) return false;
  const absl::Time now = clock_();
  absl::MutexLock lock(&mu_);
  if (!refreshing_ && now >= next_refresh_) return true;  // CurrentKeys() would re-read
  if (keys_->Find(*kid) != nullptr || refreshing_) return false;
  return now >= last_attempt_ + options_.jwks_min_refresh_interval;  // KeysAfterKidMiss() would re-read
}

absl::StatusOr<OidcIdentity> OidcVerifier::Verify(absl::string_view id_token, JwksWait wait) const {
  absl::StatusOr<std::vector<absl::string_view>> split = SplitToken(id_token, options_.max_token_bytes);
  if (!split.ok()) return split.status();
  const std::vector<absl::string_view>& parts = *split;
  absl::StatusOr<std::optional<std::string>> kid = HeaderKid(parts[0]);
  if (!kid.ok()) return kid.status();
  absl::StatusOr<Json> claims = DecodeJsonPart(parts[1], "payload");
  if (!claims.ok()) return claims.status();
  std::string signature;
  if (parts[2].empty() || !core::Base64UrlDecode(parts[2], &signature)) {
    return Malformed("signature is not unpadded base64url");
  }

  std::shared_ptr<const JwksKeySet> keys;
  if (wait == JwksWait::kAllowed) {
    keys = CurrentKeys();
  } else {
    absl::MutexLock lock(&mu_);
    keys = keys_;
  }
  const JwksKey* key = keys->Find(*kid);
  if (key == nullptr) {
    if (wait == JwksWait::kNever) return Refuse(OidcReason::kUnknownKid);
    keys = KeysAfterKidMiss(keys);
    key = keys->Find(*kid);
    if (key == nullptr) return Refuse(OidcReason::kUnknownKid);
  }
  const absl::string_view signing_input(
      parts[0].data(), static_cast<size_t>(parts[1].data() + parts[1].size() - parts[0].data()));
  if (!key->VerifyRs256(signing_input, signature)) return Refuse(OidcReason::kBadSignature);

  // Authentic from here on: check what it says.
  for (const char* required : {"iss", "aud", "exp", "sub"}) {
    if (!claims->contains(required)) {
      return Refuse(OidcReason::kMissingClaim, absl::StrCat("\"", required, "\""));
    }
  }
  const Json& iss = (*claims)["iss"];
  if (!iss.is_string()) return Malformed("\"iss\" is not a string");
  if (iss.get_ref<const std::string&>() != options_.issuer) {
    return Refuse(OidcReason::kIssuerMismatch);
  }
  std::vector<std::string> token_audiences;
  if (absl::Status s = StringOrList((*claims)["aud"], "aud", &token_audiences); !s.ok()) return s;
  bool audience_ok = false;
  for (const std::string& a : token_audiences) {
    for (const std::string& ours : options_.audiences) audience_ok = audience_ok || a == ours;
  }
  if (!audience_ok) return Refuse(OidcReason::kAudienceMismatch);
  if (auto use = claims->find("token_use"); use != claims->end() && *use != "id") {
    return Refuse(OidcReason::kWrongTokenUse);
  }

  const absl::Time now = clock_();
  std::optional<absl::Time> exp, nbf, iat;
  if (absl::Status s = DateClaim(*claims, "exp", &exp); !s.ok()) return s;
  if (absl::Status s = DateClaim(*claims, "nbf", &nbf); !s.ok()) return s;
  if (absl::Status s = DateClaim(*claims, "iat", &iat); !s.ok()) return s;
  if (now >= *exp + options_.leeway) return Refuse(OidcReason::kExpired);
  if (nbf.has_value() && now + options_.leeway < *nbf) return Refuse(OidcReason::kNotYetValid);
  if (iat.has_value() && now + options_.leeway < *iat) return Refuse(OidcReason::kIssuedInFuture);

  OidcIdentity identity;
  const Json& sub = (*claims)["sub"];
  if (!sub.is_string() || sub.get_ref<const std::string&>().empty()) {
    return Malformed("\"sub\" is not a non-empty string");
  }
  identity.subject = sub.get<std::string>();
  if (auto groups = claims->find(options_.groups_claim); groups != claims->end()) {
    if (absl::Status s = StringOrList(*groups, options_.groups_claim, &identity.groups); !s.ok()) {
      return s;
    }
  }
  identity.expires_at = *exp;
  return identity;
}

}  // namespace edgepass::server
