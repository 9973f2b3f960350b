// The rules a catalog entry must satisfy, whatever way it arrives (the
// catalog file's JSON, catalog_json.cc; a typed edit, catalog.cc): ids and
// host names, manifest paths opened by their policy, and what a CloudFront
// scheme can express. Errors name the entry and field at fault.
//
//   EDGEPASS_RETURN_IF_ERROR(catalog_rules::CheckAsset(asset, "assets[3]"));
//   if (!catalog_rules::IsValidAssetId(id)) return core::FieldError("asset", "id: ...");
#ifndef EDGEPASS_SERVER_STATE_CATALOG_RULES_H_
#define EDGEPASS_SERVER_STATE_CATALOG_RULES_H_

#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/status_macros.h"
#include "core/token_policy.h"
#include "server/state/catalog.h"

namespace edgepass::server::catalog_rules {

// `status` with "<where>: " before its message; same code.
absl::Status Within(absl::string_view where, const absl::Status& status);

// 1 to kMaxAssetIdLength characters of [A-Za-z0-9._:-]: asset ids,
// entitlements and policy names.
bool IsValidAssetId(absl::string_view id);
// OK when IsValidAssetId(id), else INVALID_ARGUMENT "<field>: must be
// 1-<kMaxAssetIdLength> characters of [A-Za-z0-9._:-]": the one asset id rule
// of the catalog and of every route that names an asset.
absl::Status CheckAssetId(absl::string_view id, absl::string_view field);
// CheckAssetId's error under "<where>: ", for an id IsValidAssetId refuses.
absl::Status BadAssetId(absl::string_view where, absl::string_view field);

// The policy named `name` in `policies` (an asset's or variant's
// token_policy); INVALID_ARGUMENT "<where>: token_policy: unknown policy
// \"name\"" when there is none.
absl::StatusOr<const NamedPolicy*> FindNamedPolicy(const std::map<std::string, NamedPolicy>& policies,
                                                   absl::string_view where, absl::string_view name);

// A host name or IP literal with an optional :port, at most
// kMaxHostnameLength; no userinfo, path or whitespace.
bool IsValidHostname(absl::string_view host);

// `url_path` is an absolute, safe path of at most kMaxUrlPathLength that one
// of `policy`'s paths (or exc) opens. INVALID_ARGUMENT otherwise
// ("<where>: url_path: ...").
absl::Status CheckServed(absl::string_view url_path,
                         const core::TokenPolicy& policy,
                         absl::string_view where);

// `policy` binds only what a CloudFront policy can check (paths, exp, nbf,
// ip; exactly one path for the cookie scheme). INVALID_ARGUMENT
// "<where>: token_policy.<field>: ..." naming the first binding refused.
absl::Status CheckCloudFrontPolicy(const core::TokenPolicy& policy,
                                   absl::string_view scheme,
                                   absl::string_view where);

// The CloudFront fields (key pair id, cookie domain and SameSite) suit the
// asset's scheme. INVALID_ARGUMENT "<where>: <field>: ...".
absl::Status CheckCloudFrontFields(const Asset& asset, absl::string_view where);

// Everything about one asset that does not need the rest of the catalog: host
// name, scheme, CloudFront fields, each served path against its policy, and a
// fallback other than itself. INVALID_ARGUMENT "<where>: <field>: ...".
absl::Status CheckAsset(const Asset& asset, absl::string_view where);

}  // namespace edgepass::server::catalog_rules

#endif  // EDGEPASS_SERVER_STATE_CATALOG_RULES_H_
