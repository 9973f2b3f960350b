// Imports SMD's asset table items (DynamoDB JSON, as SMD's mock assets file
// and `aws dynamodb scan` print them) as catalog assets with inline policies.
//
//   absl::StatusOr<Catalog> imported = ParseSmdAssets(file_text, "assets.json");
//   absl::StatusOr<Catalog> merged = Catalog::Merge(current, *imported, "catalog.json");
#ifndef EDGEPASS_SERVER_SMD_IMPORT_H_
#define EDGEPASS_SERVER_SMD_IMPORT_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/state/catalog.h"

namespace edgepass::server {

// Converts one DynamoDB attribute value ({"S":..}, {"N":..}, {"BOOL":..},
// {"NULL":true}, {"L":[..]}, {"M":{..}}) to plain JSON text. INVALID_ARGUMENT
// "<field>: ..." for anything else (a number that is not a number, an
// unsupported type such as "B" or "SS", nesting deeper than 32).
absl::StatusOr<std::string> DynamoDbValueToJson(absl::string_view attribute_json,
                                                absl::string_view field = "value");

// Parses one item, an array of items, or {"Items":[...]}. Each item needs
// id (S), url_path (S), endpoint_hostname (S) and token_policy (M); the
// policy goes through core::ParseTokenPolicyJson, after dropping a
// co_fallback / reg_fallback whose binding (co / reg) is off, as SMD ignores
// those (its own sample asset has co_fallback without co). Returns a catalog of those
// assets (scheme "smd-token", inline policies). INVALID_ARGUMENT
// "<source>: Items[i] (id \"x\"): token_policy.paths[0]: ..." naming the item
// and field; nothing is returned unless every item is valid.
absl::StatusOr<Catalog> ParseSmdAssets(absl::string_view json, absl::string_view source);

}  // namespace edgepass::server

#endif  // EDGEPASS_SERVER_SMD_IMPORT_H_
