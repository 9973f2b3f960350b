#include "core/revocation_list.h"

#include <algorithm>
#include <cmath>
#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/json_internal.h"
#include "core/status_macros.h"
#include "core/token_issuer.h"
#include "text/json_doc.h"

namespace edgepass::core {
namespace {

using internal::Json;

constexpr size_t kMaxEntryJsonBytes = 64 * 1024;
constexpr int64_t kMaxEpochSeconds = int64_t{1} << 40;

absl::Status GetEpoch(const Json& j, absl::string_view path, absl::Time* out) {
  if (!j.is_number_integer()) return FieldError(path, "must be an integer (epoch seconds)");
  const int64_t v = j.get<int64_t>();
  if (v < 0 || v > kMaxEpochSeconds) return FieldError(path, "out of range");
  *out = absl::FromUnixSeconds(v);
  return absl::OkStatus();
}

absl::Status GetNumber(const Json& j, absl::string_view path, double* out) {
  if (!j.is_number()) return FieldError(path, "must be a number");
  *out = j.get<double>();
  return absl::OkStatus();
}

}  // namespace

absl::string_view RevocationTypeName(RevocationType type) {
  return type == RevocationType::kAuto ? "AUTO" : "MANUAL";
}

absl::Status ValidateRevocationEntry(const RevocationEntry& entry, absl::string_view prefix) {
  const auto field = [&](absl::string_view name) { return absl::StrCat(prefix, ".", name); };
  EDGEPASS_RETURN_IF_ERROR(CheckSessionId(entry.session_id, field("session_id")));
  if (entry.reason.size() > kMaxRevocationReasonBytes) {
    return FieldError(field("reason"),
                      absl::StrCat("longer than ", kMaxRevocationReasonBytes, " bytes"));
  }
  if (!std::isfinite(entry.score) || entry.score < 0) {
    return FieldError(field("score"), "must be a finite number >= 0");
  }
  if (entry.score_components.size() > kMaxScoreComponents) {
    return FieldError(field("score_components"),
                      absl::StrCat("at most ", kMaxScoreComponents, " components"));
  }
  for (const auto& [name, value] : entry.score_components) {
    if (!IsIdentifier(name, 64)) {
      return FieldError(field("score_components"),
                        absl::StrCat("component name \"", name.substr(0, 64),
                                     "\" must be 1 to 64 characters of [A-Za-z0-9_-]"));
    }
    if (!std::isfinite(value)) {
      return FieldError(absl::StrCat(field("score_components"), ".", name), "must be finite");
    }
  }
  if (entry.expires_at <= entry.added_at) {
    return FieldError(field("expires_at"), "must be after added_at");
  }
  return absl::OkStatus();
}

std::vector<const RevocationEntry*> CompileRevocationList(
    absl::Span<const RevocationEntry> entries, absl::Time now, const RevocationListOptions& options) {
  std::vector<const RevocationEntry*> manual;
  std::vector<const RevocationEntry*> automatic;
  for (const RevocationEntry& e : entries) {
    if (e.expires_at <= now || e.added_at + options.retention < now) continue;
    (e.type == RevocationType::kManual ? manual : automatic).push_back(&e);
  }
  std::sort(manual.begin(), manual.end(), [](const RevocationEntry* a, const RevocationEntry* b) {
    return std::tie(b->added_at, a->session_id) < std::tie(a->added_at, b->session_id);
  });
  std::sort(automatic.begin(), automatic.end(),
            [](const RevocationEntry* a, const RevocationEntry* b) {
              return std::tie(b->score, a->session_id) < std::tie(a->score, b->session_id);
            });
  std::vector<const RevocationEntry*> out;
  out.reserve(std::min(options.capacity, manual.size() + automatic.size()));
  for (const auto* list : {&manual, &automatic}) {
    for (const RevocationEntry* e : *list) {
      if (out.size() >= options.capacity) return out;
      out.push_back(e);
    }
  }
  return out;
}

RevocationSet ToRevocationSet(absl::Span<const RevocationEntry* const> compiled) {
  RevocationSet set;
  set.Reserve(compiled.size());
  for (const RevocationEntry* e : compiled) set.Add(e->session_id, e->expires_at);
  return set;
}

std::string RevocationEntryToJson(const RevocationEntry& entry) {
  Json components = Json::object();
  for (const auto& [name, value] : entry.score_components) components[name] = value;
  Json j = {{"session_id", entry.session_id},
            {"type", std::string(RevocationTypeName(entry.type))},
            {"reason", entry.reason},
            {"score", entry.score},
            {"score_components", std::move(components)},
            {"added_at", absl::ToUnixSeconds(entry.added_at)}};
  if (entry.expires_at != absl::InfiniteFuture()) {
    j["expires_at"] = absl::ToUnixSeconds(entry.expires_at);
  }
  return j.dump();
}

absl::StatusOr<RevocationEntry> ParseRevocationEntryJson(absl::string_view text) {
  EDGEPASS_ASSIGN_OR_RETURN(
      Json j, text::ParseJson(text, "entry", {.max_bytes = kMaxEntryJsonBytes, .object = true}));
  RevocationEntry e;
  for (const auto& [key, value] : j.items()) {
    if (key == "session_id") {
      EDGEPASS_RETURN_IF_ERROR(internal::GetString(value, "entry.session_id", &e.session_id));
    } else if (key == "type") {
      std::string type;
      EDGEPASS_RETURN_IF_ERROR(internal::GetString(value, "entry.type", &type));
      if (type == "MANUAL") {
        e.type = RevocationType::kManual;
      } else if (type == "AUTO") {
        e.type = RevocationType::kAuto;
      } else {
        return FieldError("entry.type", "must be \"MANUAL\" or \"AUTO\"");
      }
    } else if (key == "reason") {
      EDGEPASS_RETURN_IF_ERROR(internal::GetString(value, "entry.reason", &e.reason));
    } else if (key == "score") {
      EDGEPASS_RETURN_IF_ERROR(GetNumber(value, "entry.score", &e.score));
    } else if (key == "score_components") {
      if (!value.is_object()) return FieldError("entry.score_components", "must be an object");
      for (const auto& [name, v] : value.items()) {
        double d = 0;
        EDGEPASS_RETURN_IF_ERROR(
            GetNumber(v, absl::StrCat("entry.score_components.", name), &d));
        e.score_components[name] = d;
      }
    } else if (key == "added_at") {
      EDGEPASS_RETURN_IF_ERROR(GetEpoch(value, "entry.added_at", &e.added_at));
    } else if (key == "expires_at") {
      EDGEPASS_RETURN_IF_ERROR(GetEpoch(value, "entry.expires_at", &e.expires_at));
    } else {
      return FieldError(absl::StrCat("entry.", key), "unknown field");
    }
  }
  EDGEPASS_RETURN_IF_ERROR(ValidateRevocationEntry(e, "entry"));
  return e;
}

}  // namespace edgepass::core
