#include "server/auth/access.h"

#include <openssl/sha.h>

#include <array>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "core/crypto.h"
#include "core/status_macros.h"
#include "files/atomic_file.h"
#include "text/json_doc.h"

namespace edgepass::server {
namespace {

constexpr std::array<absl::string_view, kScopeCount> kScopeNames = {
    "issue", "revoke", "catalog", "keys", "edge-sync", "mint", "admin"};
constexpr size_t kMaxNameBytes = 256;
constexpr absl::string_view kBearer = "Bearer ";

std::string Sha256(absl::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  return std::string(reinterpret_cast<const char*>(digest), sizeof(digest));
}

bool IsPrintableName(absl::string_view name) {
  if (name.empty() || name.size() > kMaxNameBytes) return false;
  for (char c : name) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

absl::StatusOr<Scopes> ParseScopes(const nlohmann::json& list, const std::string& where) {
  if (!list.is_array() || list.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": must be a non-empty array of scopes"));
  }
  Scopes scopes;
  for (size_t i = 0; i < list.size(); ++i) {
    std::optional<Scope> s =
        list[i].is_string() ? ParseScope(list[i].get<std::string>()) : std::nullopt;
    if (!s) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, "[", i, "]: unknown scope (one of ", absl::StrJoin(kScopeNames, ", "), ")"));
    }
    scopes.Add(*s);
  }
  return scopes;
}

}  // namespace

absl::string_view ScopeName(Scope scope) { return kScopeNames[static_cast<size_t>(scope)]; }

std::optional<Scope> ParseScope(absl::string_view name) {
  for (size_t i = 0; i < kScopeNames.size(); ++i) {
    if (kScopeNames[i] == name) return static_cast<Scope>(i);
  }
  return std::nullopt;
}

std::string Scopes::ToString() const {
  std::vector<absl::string_view> names;
  for (size_t i = 0; i < kScopeNames.size(); ++i) {
    if (bits_ & (1u << i)) names.push_back(kScopeNames[i]);
  }
  return absl::StrJoin(names, ",");
}

AccessPolicy AccessPolicy::Open() {
  AccessPolicy p;
  p.open_ = true;
  return p;
}

absl::StatusOr<AccessPolicy> AccessPolicy::Parse(absl::string_view json, absl::string_view source) {
  EDGEPASS_ASSIGN_OR_RETURN(nlohmann::json doc,
                            text::ParseJson(json, source, {.object = true, .detail = true}));
  for (const auto& [field, value] : doc.items()) {
    if (field != "api_keys" && field != "mtls") {
      return absl::InvalidArgumentError(
          absl::StrCat(source, ": unknown field \"", field, "\" (api_keys, mtls)"));
    }
    if (!value.is_array()) {
      return absl::InvalidArgumentError(absl::StrCat(source, ": ", field, ": must be an array"));
    }
  }
  AccessPolicy p;
  const nlohmann::json empty = nlohmann::json::array();
  const nlohmann::json& keys = doc.contains("api_keys") ? doc["api_keys"] : empty;
  for (size_t i = 0; i < keys.size(); ++i) {
    const std::string where = absl::StrCat(source, ": api_keys[", i, "]");
    if (!keys[i].is_object()) return absl::InvalidArgumentError(absl::StrCat(where, ": must be an object"));
    EDGEPASS_ASSIGN_OR_RETURN(std::string name, text::RequiredString(keys[i], "name", where + ".name"));
    if (!IsPrintableName(name)) {
      return absl::InvalidArgumentError(absl::StrCat(where, ".name: 1-256 printable characters"));
    }
    EDGEPASS_ASSIGN_OR_RETURN(std::string hex, text::RequiredString(keys[i], "sha256", where + ".sha256"));
    hex = absl::AsciiStrToLower(hex);
    bool is_hex = hex.size() == 64;
    for (char c : hex) is_hex = is_hex && absl::ascii_isxdigit(c);
    if (!is_hex) return absl::InvalidArgumentError(absl::StrCat(where, ".sha256: must be 64 hex digits"));
    auto scopes_it = keys[i].find("scopes");
    EDGEPASS_ASSIGN_OR_RETURN(
        Scopes scopes, ParseScopes(scopes_it == keys[i].end() ? nlohmann::json() : *scopes_it,
                                   where + ".scopes"));
    std::string digest = absl::HexStringToBytes(hex);
    if (!p.keys_.emplace(hex, KeyEntry{std::move(name), std::move(digest), scopes}).second) {
      return absl::InvalidArgumentError(absl::StrCat(where, ".sha256: listed twice"));
    }
  }
  const nlohmann::json& ids = doc.contains("mtls") ? doc["mtls"] : empty;
  for (size_t i = 0; i < ids.size(); ++i) {
    const std::string where = absl::StrCat(source, ": mtls[", i, "]");
    if (!ids[i].is_object()) return absl::InvalidArgumentError(absl::StrCat(where, ": must be an object"));
    EDGEPASS_ASSIGN_OR_RETURN(std::string identity,
                              text::RequiredString(ids[i], "identity", where + ".identity"));
    if (!IsPrintableName(identity)) {
      return absl::InvalidArgumentError(absl::StrCat(where, ".identity: 1-256 printable characters"));
    }
    auto scopes_it = ids[i].find("scopes");
    EDGEPASS_ASSIGN_OR_RETURN(
        Scopes scopes, ParseScopes(scopes_it == ids[i].end() ? nlohmann::json() : *scopes_it,
                                   where + ".scopes"));
    if (!p.identities_.emplace(identity, scopes).second) {
      return absl::InvalidArgumentError(absl::StrCat(where, ".identity: listed twice"));
    }
  }
  return p;
}

absl::StatusOr<AccessPolicy> AccessPolicy::LoadFile(const std::string& path) {
  EDGEPASS_ASSIGN_OR_RETURN(std::string text, files::ReadFileToString(path));
  return Parse(text, path);
}

absl::StatusOr<Caller> AccessPolicy::Authenticate(absl::string_view authorization,
                                                  absl::string_view peer_identity) const {
  if (open_) return Caller{.scopes = Scopes::All()};
  if (!authorization.empty()) {
    if (!absl::StartsWithIgnoreCase(authorization, kBearer)) {
      return absl::UnauthenticatedError("authorization: expected \"Bearer <api key>\"");
    }
    absl::string_view key = absl::StripAsciiWhitespace(authorization.substr(kBearer.size()));
    if (key.size() < kMinApiKeyBytes || key.size() > kMaxApiKeyBytes) {
      return absl::UnauthenticatedError("authorization: unknown API key");
    }
    const std::string digest = Sha256(key);
    auto it = keys_.find(core::HexEncode(digest));
    if (it == keys_.end() || !core::ConstantTimeEquals(it->second.digest, digest)) {
      return absl::UnauthenticatedError("authorization: unknown API key");
    }
    return Caller{.kind = Caller::Kind::kApiKey, .name = it->second.name, .scopes = it->second.scopes};
  }
  if (!peer_identity.empty()) {
    auto it = identities_.find(peer_identity);
    if (it == identities_.end()) {
      return absl::UnauthenticatedError(
          absl::StrCat("client certificate \"", peer_identity, "\" is not admitted"));
    }
    return Caller{.kind = Caller::Kind::kCertificate, .name = std::string(peer_identity), .scopes = it->second};
  }
  return absl::UnauthenticatedError("no credentials: send \"authorization: Bearer <api key>\" or a client certificate");
}

absl::Status AccessPolicy::Authorize(const Caller& caller, Scope scope) {
  if (caller.scopes.Grants(scope)) return absl::OkStatus();
  return absl::PermissionDeniedError(
      absl::StrCat("caller ", caller.name, " lacks scope ", ScopeName(scope)));
}

std::string ApiKeyHash(absl::string_view key) { return core::HexEncode(Sha256(key)); }

absl::StatusOr<NewApiKey> MakeApiKey(absl::string_view name, const std::vector<Scope>& scopes,
                                     core::RandomSource& random) {
  if (!IsPrintableName(name)) return absl::InvalidArgumentError("name: 1-256 printable characters");
  if (scopes.empty()) return absl::InvalidArgumentError("scopes: at least one");
  std::array<uint8_t, 32> bytes;
  random.Fill(absl::MakeSpan(bytes));
  NewApiKey out;
  out.key = absl::StrCat("ep_", core::Base64UrlEncode(absl::string_view(
                                    reinterpret_cast<const char*>(bytes.data()), bytes.size())));
  std::vector<std::string> names;
  for (Scope s : scopes) names.emplace_back(ScopeName(s));
  nlohmann::json entry = {{"name", std::string(name)}, {"sha256", ApiKeyHash(out.key)}, {"scopes", names}};
  out.entry_json = text::DumpJson(entry);
  return out;
}

absl::StatusOr<std::pair<std::string, std::vector<Scope>>> ParseKeySpec(absl::string_view spec) {
  std::pair<absl::string_view, absl::string_view> parts = absl::StrSplit(spec, absl::MaxSplits(':', 1));
  if (parts.first.empty() || parts.second.empty()) {
    return absl::InvalidArgumentError("--new-api-key: expected NAME:SCOPE[,SCOPE...]");
  }
  std::vector<Scope> scopes;
  for (absl::string_view s : absl::StrSplit(parts.second, ',')) {
    std::optional<Scope> scope = ParseScope(s);
    if (!scope) {
      return absl::InvalidArgumentError(absl::StrCat("--new-api-key: unknown scope \"", s, "\" (one of ",
                                                     absl::StrJoin(kScopeNames, ", "), ")"));
    }
    scopes.push_back(*scope);
  }
  return std::make_pair(std::string(parts.first), std::move(scopes));
}

}  // namespace edgepass::server
