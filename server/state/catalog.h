// The asset catalog: which manifest an asset id plays and under which token
// policy. Policies are validated when the catalog is parsed, so a bad policy
// is refused with the entry and field named, never discovered at issue time.
//
//   absl::StatusOr<Catalog> c = Catalog::Parse(text, "catalog.json");
//   const Asset* a = c->Find("1");     // nullptr when unknown
//   std::string url = "https://" + a->hostname + a->url_path;
#ifndef EDGEPASS_SERVER_STATE_CATALOG_H_
#define EDGEPASS_SERVER_STATE_CATALOG_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/cloudfront_cookie.h"
#include "core/token_policy.h"

namespace edgepass::server {

// How an asset's playback is protected: an SMD token in the URL (default),
// a CloudFront signed URL, or CloudFront signed cookies.
inline constexpr absl::string_view kSmdTokenScheme = "smd-token";
inline constexpr absl::string_view kCloudFrontUrlScheme = "cloudfront-url";
inline constexpr absl::string_view kCloudFrontCookieScheme = "cloudfront-cookie";
inline constexpr size_t kMaxAssetIdLength = 128;
inline constexpr size_t kMaxHostnameLength = 253;
inline constexpr size_t kMaxUrlPathLength = 2048;
inline constexpr size_t kMaxCatalogAssets = 100000;

struct NamedPolicy {
  std::string json;  // the SMD policy object as written (compact JSON)
  core::TokenPolicy policy;
};

inline constexpr size_t kMaxAssetVariants = 16;

// What one entitlement of an asset plays: its manifest and token policy.
struct AssetVariant {
  std::string url_path;            // entry manifest path, starts with '/'
  std::string policy_name;         // set when the policy is referenced by name
  std::string inline_policy_json;  // set when the policy is inline
  core::TokenPolicy policy;        // resolved, validated
};

struct Asset {
  std::string id;
  std::string hostname;  // origin/CDN host the playback URL points at
  std::string scheme = std::string(kSmdTokenScheme);
  // The default variant: url_path and policy (policy_name or inline).
  std::string url_path;
  std::string policy_name;
  std::string inline_policy_json;
  core::TokenPolicy policy;
  // Per-entitlement variants ("premium" -> full ladder, ...).
  std::map<std::string, AssetVariant, std::less<>> variants;
  // Played instead, for a viewer whose entitlement has no variant; "" = the
  // default variant instead.
  std::string fallback_asset;
  // CloudFront schemes only. The key pair id of a key in the secrets store
  // (required; its existence is checked when issuing, since keys and the
  // catalog are written separately).
  std::string cloudfront_key_pair_id;
  // cloudfront-cookie only: the cookies' Domain ("" = host-only) and SameSite
  // ("Strict", "Lax" or "None"; "" = Lax). Path is the policy's one path;
  // Secure and HttpOnly are always set.
  std::string cookie_domain;
  std::string cookie_same_site;

  bool is_cloudfront() const { return scheme == kCloudFrontUrlScheme || scheme == kCloudFrontCookieScheme; }
};

// What a viewer gets for an asset (see Catalog::Resolve).
struct Playable {
  const Asset* asset = nullptr;  // the asset served (the fallback, maybe)
  std::string variant;           // the entitlement whose variant it is; "" = default
  absl::string_view url_path;
  const core::TokenPolicy* policy = nullptr;
};

// Immutable once built; thread-compatible (share it const).
class Catalog {
 public:
  Catalog() = default;

  // Parses
  //   {"policies":{"name":{SMD policy}},
  //    "assets":[{"id","hostname","url_path","scheme","token_policy":"name"|{..},
  //               "variants":{"premium":{"url_path","token_policy"}},  // optional
  //               "fallback_asset":"id",                               // optional
  //               "cloudfront_key_pair_id":"K..",                      // CloudFront schemes
  //               "cookie_domain":"d", "cookie_same_site":"Lax"}]}     // cloudfront-cookie
  // A CloudFront scheme maps a policy to CloudFront conditions: exp ->
  // DateLessThan, nbf -> DateGreaterThan, ip -> IpAddress (the viewer's
  // IPv4 address /32). Bindings CloudFront cannot check (ssn, headers,
  // querystrings, co/cty/reg, exc) are refused, never silently dropped; the
  // cookie scheme takes exactly one path (the cookies' Path; the resource is
  // "https://" + hostname + path + "*").
  // INVALID_ARGUMENT "<source>: assets[1] (id \"2\"): token_policy.paths[0]: ..."
  // naming the entry and field at fault. Unknown fields are refused.
  static absl::StatusOr<Catalog> Parse(absl::string_view json, absl::string_view source);

  // `overlay`'s policies and assets replace `base`'s of the same name / id;
  // the rest of `base` is kept. The result is validated as a whole (a
  // replaced policy must still suit every asset naming it); errors name
  // `source`.
  static absl::StatusOr<Catalog> Merge(const Catalog& base, const Catalog& overlay,
                                       absl::string_view source);

  // `base` with one asset added or replaced: a policy named (policy_name)
  // must exist in `base` and its `policy` is filled from there; an inline
  // one is `policy` itself (inline_policy_json is written from it). Errors
  // are INVALID_ARGUMENT "<where>: <field>: ..." (e.g. "asset: url_path: ...").
  static absl::StatusOr<Catalog> WithAsset(const Catalog& base, Asset asset, absl::string_view where);
  // `base` with the named policy added or replaced; every asset naming it is
  // re-validated. INVALID_ARGUMENT "<where>: <field>: ..." for a bad name,
  // FAILED_PRECONDITION when an asset using it would no longer be valid.
  static absl::StatusOr<Catalog> WithPolicy(const Catalog& base, absl::string_view name,
                                            const core::TokenPolicy& policy, absl::string_view where);
  // `base` without the asset. NOT_FOUND "id: unknown asset \"x\"".
  static absl::StatusOr<Catalog> WithoutAsset(const Catalog& base, absl::string_view id);
  // `base` without the policy. NOT_FOUND when unknown; FAILED_PRECONDITION
  // naming an asset that still uses it.
  static absl::StatusOr<Catalog> WithoutPolicy(const Catalog& base, absl::string_view name);

  // The asset with this id, or nullptr.
  const Asset* Find(absl::string_view id) const;
  // What a viewer with `entitlement` ("" = none) plays for asset `id`: the
  // variant of that entitlement; else, for an asset with variants or a
  // fallback, the fallback asset's default; else the asset's default.
  // NOT_FOUND "asset_id: unknown asset \"x\"". Pointers live as long as the
  // catalog.
  absl::StatusOr<Playable> Resolve(absl::string_view id, absl::string_view entitlement) const;
  const std::vector<Asset>& assets() const { return assets_; }
  const std::map<std::string, NamedPolicy>& policies() const { return policies_; }

  // The catalog file format Parse() reads (pretty-printed).
  std::string ToJson() const;
  // An asset as the catalog file writes it (compact JSON object).
  static std::string AssetToJson(const Asset& asset);

 private:
  // `base` with `asset` (checked) added or replaced.
  static absl::StatusOr<Catalog> Put(const Catalog& base, Asset asset, absl::string_view where);
  static absl::StatusOr<Catalog> Put(const Catalog& base, absl::string_view name, NamedPolicy named,
                                     absl::string_view where);
  // The catalog of these parts, each asset checked against catalog_rules
  // (named policies resolved again, ids unique, fallbacks known), without a
  // trip through JSON. Errors name "<source>: assets[i] (id \"x\")".
  static absl::StatusOr<Catalog> FromParts(std::map<std::string, NamedPolicy> policies,
                                           std::vector<Asset> assets, absl::string_view source);

  std::map<std::string, NamedPolicy> policies_;
  std::vector<Asset> assets_;
  std::map<std::string, size_t, std::less<>> index_;  // id -> assets_ position
};

// An asset's cookie_same_site ("" = Lax). INVALID_ARGUMENT
// "cookie_same_site: ..." otherwise.
absl::StatusOr<core::CookieSameSite> ParseCookieSameSite(absl::string_view text);

// The sample catalog written to a fresh data directory: HLS asset "1" and
// DASH asset "2" on cdn.example.com.
absl::string_view SampleCatalogJson();

}  // namespace edgepass::server

#endif  // EDGEPASS_SERVER_STATE_CATALOG_H_
