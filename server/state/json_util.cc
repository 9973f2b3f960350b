#include "server/state/json_util.h"

#include "absl/strings/str_cat.h"

namespace edgepass::server {

absl::StatusOr<nlohmann::json> ParseJson(absl::string_view text, absl::string_view source) {
  try {
    return nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": invalid JSON: ", e.what()));
  }
}

std::string DumpJson(const nlohmann::json& value, int indent) {
  return value.dump(indent, ' ', /*ensure_ascii=*/false,
                    nlohmann::json::error_handler_t::replace);
}

std::string JsonTypeName(const nlohmann::json& value) { return value.type_name(); }

}  // namespace edgepass::server
