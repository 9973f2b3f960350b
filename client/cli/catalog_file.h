// Reads the asset and policy files `edgepass asset put` and `edgepass policy
// put` take, with errors that name the file and the line and column (syntax)
// or the field at fault. An asset file holds either form:
//   - protobuf's JSON of edgepass.v1.Asset: what `edgepass asset get --json`
//     prints and the REST gateway's PUT /v1/assets/{id} takes (proto or
//     lowerCamelCase field names; "policy_name" or "inline_policy");
//   - an asset object of a catalog file (docs/configuration.md, catalog.json): "token_policy" (a
//     policy name or an SMD policy object), "fallback_asset".
// A policy file holds an SMD policy object (as under a catalog file's
// "policies") or a NamedPolicy ({"name":..,"policy":{..}}, what `edgepass
// policy get --json` prints). Both accept JSON, and YAML of the same shape
// when the name ends in .yaml or .yml.
//
//   absl::StatusOr<v1::Asset> asset = ParseAssetDocument(text, "demo.json");
//   // INVALID_ARGUMENT "demo.json: asset.url_path: must be a string, got number"
#ifndef EDGEPASS_CLIENT_CLI_CATALOG_FILE_H_
#define EDGEPASS_CLIENT_CLI_CATALOG_FILE_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "edgepass/v1/catalog.pb.h"

namespace edgepass::cli {

// `source` names the document in messages and, by its suffix, picks YAML.
// INVALID_ARGUMENT "<source>: line L, column C: ..." for bad syntax,
// "<source>: asset.<field>: ..." for a field of the wrong type or name, an
// SMD policy that does not parse ("asset.token_policy.exp: ..."), or a
// document past 1 MiB. Whether the asset suits the catalog is the service's
// to say (PutAsset).
absl::StatusOr<v1::Asset> ParseAssetDocument(absl::string_view text, absl::string_view source);

// `name`: the policy's name when the document does not give it ("" when it
// must); INVALID_ARGUMENT when both give one and they differ.
absl::StatusOr<v1::NamedPolicy> ParsePolicyDocument(absl::string_view text, absl::string_view source,
                                                    const std::string& name);

// An SMD policy object (JSON text, e.g. from --policy-json) as the proto,
// through core's parser: "<field_prefix><field>: ..." on error.
absl::StatusOr<v1::TokenPolicy> ParseSmdPolicy(absl::string_view json, absl::string_view field_prefix);

}  // namespace edgepass::cli

#endif  // EDGEPASS_CLIENT_CLI_CATALOG_FILE_H_
