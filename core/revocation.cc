#include "core/revocation.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "core/json_internal.h"
#include "core/status_macros.h"

namespace edgepass::core {

void RevocationSet::Add(std::string session_id, absl::Time expires_at) {
  auto [it, inserted] = entries_.try_emplace(std::move(session_id), expires_at);
  if (!inserted && it->second < expires_at) it->second = expires_at;
}

bool RevocationSet::Contains(absl::string_view session_id, absl::Time now) const {
  auto it = entries_.find(session_id);
  return it != entries_.end() && now < it->second;
}

absl::StatusOr<RevocationSet> ParseRevocationJson(absl::string_view text) {
  using internal::FieldError;
  EDGEPASS_ASSIGN_OR_RETURN(internal::Json j,
                            internal::ParseJson(text, "revocations", 256u << 20, /*want_object=*/false));
  if (j.is_object()) {
    if (!j.contains("sessions")) return FieldError("revocations", "expected a list or {\"sessions\":[...]}");
    j = j["sessions"];
  }
  if (!j.is_array()) return FieldError("sessions", "must be a list");
  RevocationSet set;
  for (size_t i = 0; i < j.size(); ++i) {
    const std::string path = absl::StrCat("sessions[", i, "]");
    const internal::Json& e = j[i];
    std::string id;
    absl::Time expires = absl::InfiniteFuture();
    if (e.is_string()) {
      id = e.get<std::string>();
    } else if (e.is_object() && e.contains("session_id")) {
      EDGEPASS_RETURN_IF_ERROR(internal::GetString(e["session_id"], path + ".session_id", &id));
      if (e.contains("expires_at")) {
        if (!e["expires_at"].is_number_integer()) {
          return FieldError(path + ".expires_at", "must be integer epoch seconds");
        }
        expires = absl::FromUnixSeconds(e["expires_at"].get<int64_t>());
      }
    } else {
      return FieldError(path, "must be a session id or {\"session_id\":..., \"expires_at\":...}");
    }
    if (id.empty()) return FieldError(path, "empty session id");
    set.Add(std::move(id), expires);
  }
  return set;
}

}  // namespace edgepass::core
