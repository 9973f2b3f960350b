// Who may call what: bearer API keys (stored as SHA-256 hashes) and mTLS
// identities (the subject CN of a client certificate that verified against
// the client CA), each with scopes. One AccessPolicy serves gRPC and REST.
//
//   EDGEPASS_ASSIGN_OR_RETURN(AccessPolicy access, AccessPolicy::LoadFile("access.json"));
//   absl::StatusOr<Caller> caller = access.Authenticate(bearer, peer_identity);
//   absl::Status allowed = access.Authorize(caller, Scope::kIssue);
//
// The access file (mode 0600 recommended; it holds hashes, never keys):
//   {"api_keys": [{"name": "playback-backend", "sha256": "<64 hex>", "scopes": ["issue"]}],
//    "mtls":     [{"identity": "edge-validator", "scopes": ["edge-sync"]}]}
// `edgepass-server --new-api-key NAME:SCOPE[,SCOPE]` prints a fresh key and
// its entry. The scope `admin` grants every scope.
#ifndef EDGEPASS_SERVER_AUTH_ACCESS_H_
#define EDGEPASS_SERVER_AUTH_ACCESS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/random.h"

namespace edgepass::server {

// kIssue: playback from catalog policies; kMint: IssueToken, tokens under any
// inline policy the caller writes (a power of its own, not part of kIssue).
enum class Scope : uint8_t {
  kIssue,
  kRevoke,
  kCatalog,
  kKeys,
  kEdgeSync,
  kMint,
  kAdmin
};
inline constexpr int kScopeCount = 7;

// "issue", "revoke", "catalog", "keys", "edge-sync", "mint", "admin".
absl::string_view ScopeName(Scope scope);
std::optional<Scope> ParseScope(absl::string_view name);

// A set of scopes.
class Scopes {
 public:
  static Scopes All() { return Scopes((1u << kScopeCount) - 1); }
  Scopes() = default;
  void Add(Scope s) { bits_ |= Bit(s); }
  // True when `s` or admin is in the set.
  bool Grants(Scope s) const { return (bits_ & (Bit(s) | Bit(Scope::kAdmin))) != 0; }
  std::string ToString() const;  // "issue,revoke"

 private:
  explicit Scopes(uint32_t bits) : bits_(bits) {}
  static uint32_t Bit(Scope s) { return 1u << static_cast<unsigned>(s); }
  uint32_t bits_ = 0;
};

// An authenticated caller. `name` is safe to log (the key's name, the
// certificate's CN, or "anonymous"), never the key itself.
struct Caller {
  enum class Kind { kAnonymous, kApiKey, kCertificate };
  Kind kind = Kind::kAnonymous;
  std::string name = "anonymous";
  Scopes scopes;
};

// API keys are at least this long (32 random bytes in base64url = 43).
inline constexpr size_t kMinApiKeyBytes = 32;
inline constexpr size_t kMaxApiKeyBytes = 512;

// Immutable after construction; thread-safe.
class AccessPolicy {
 public:
  // No authentication: every caller is anonymous with every scope. Only for
  // the embedded default on loopback (main refuses it elsewhere).
  static AccessPolicy Open();
  // Parses an access file's text. INVALID_ARGUMENT naming the entry at fault
  // ("access.json: api_keys[1].sha256: must be 64 hex digits").
  static absl::StatusOr<AccessPolicy> Parse(absl::string_view json, absl::string_view source);
  static absl::StatusOr<AccessPolicy> LoadFile(const std::string& path);

  bool open() const { return open_; }
  size_t api_key_count() const { return keys_.size(); }
  size_t identity_count() const { return identities_.size(); }

  // `authorization` is the Authorization header / metadata value (may be
  // empty); `peer_identity` the verified client certificate's CN (may be
  // empty). A bearer key, when given, decides; otherwise the certificate.
  // UNAUTHENTICATED: no credentials, unknown key, malformed header, or a
  // certificate identity that is not listed.
  absl::StatusOr<Caller> Authenticate(absl::string_view authorization,
                                      absl::string_view peer_identity) const;
  // PERMISSION_DENIED "caller NAME lacks scope SCOPE" unless granted.
  static absl::Status Authorize(const Caller& caller, Scope scope);

 private:
  struct KeyEntry {
    std::string name;
    std::string digest;  // 32 raw bytes
    Scopes scopes;
  };
  AccessPolicy() = default;

  bool open_ = false;
  absl::flat_hash_map<std::string, KeyEntry> keys_;  // by hex digest
  absl::flat_hash_map<std::string, Scopes> identities_;
};

// A new random API key ("ep_" + 43 base64url chars) and the access-file entry
// that admits it with `scopes` (the key is shown once; only its hash is kept).
struct NewApiKey {
  std::string key;
  std::string entry_json;
};
absl::StatusOr<NewApiKey> MakeApiKey(absl::string_view name, const std::vector<Scope>& scopes,
                                     core::RandomSource& random);

// Lower-case hex SHA-256 of `key`, as stored in the access file.
std::string ApiKeyHash(absl::string_view key);

// "NAME:SCOPE[,SCOPE...]" as given to --new-api-key.
absl::StatusOr<std::pair<std::string, std::vector<Scope>>> ParseKeySpec(absl::string_view spec);

}  // namespace edgepass::server

#endif  // EDGEPASS_SERVER_AUTH_ACCESS_H_
