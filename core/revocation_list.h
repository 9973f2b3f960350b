// Revoked playback sessions as the control plane stores them, and the list
// compiled from them for validators (DESIGN.md, Revocation): entries past
// retention or past their token's expiry are dropped, then MANUAL entries
// newest first, then AUTO entries by score highest first, up to a capacity.
//
//   RevocationEntry e{.session_id = "pTq3ZkW8sN1x", .type = RevocationType::kManual, ...};
//   std::vector<const RevocationEntry*> list = CompileRevocationList(entries, now, {});
//   RevocationSet set = ToRevocationSet(list);
#ifndef EDGEPASS_CORE_REVOCATION_LIST_H_
#define EDGEPASS_CORE_REVOCATION_LIST_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "core/revocation.h"

namespace edgepass::core {

enum class RevocationType { kManual, kAuto };

absl::string_view RevocationTypeName(RevocationType type);  // "MANUAL" / "AUTO"

inline constexpr size_t kMaxRevocationReasonBytes = 1024;
inline constexpr size_t kMaxScoreComponents = 16;

struct RevocationEntry {
  std::string session_id;
  RevocationType type = RevocationType::kManual;
  std::string reason;
  double score = 0;  // AUTO: the suspicion score; MANUAL: 0
  // AUTO: what the score is made of ("rate_ratio", "ip_penalty", ...).
  std::map<std::string, double> score_components;
  absl::Time added_at = absl::UnixEpoch();
  // The session stays revoked until then (its token's expiry at the latest).
  absl::Time expires_at = absl::InfiniteFuture();
};

// INVALID_ARGUMENT naming the field (`<prefix>.session_id`, `.reason`,
// `.score`, `.score_components`, `.expires_at`) when the id is not a session
// id, the reason is over kMaxRevocationReasonBytes, the score is not finite
// or negative, or expires_at is not after added_at.
absl::Status ValidateRevocationEntry(const RevocationEntry& entry, absl::string_view prefix);

struct RevocationListOptions {
  // Entries added longer ago than this are dropped.
  absl::Duration retention = absl::Hours(24);
  // At most this many entries reach validators.
  size_t capacity = 1000000;
};

// The compiled list, pointing into `entries` (which must outlive it).
// Deterministic: ties are broken by session id.
std::vector<const RevocationEntry*> CompileRevocationList(
    absl::Span<const RevocationEntry> entries, absl::Time now, const RevocationListOptions& options);

// The validator's lookup set of a compiled list.
RevocationSet ToRevocationSet(absl::Span<const RevocationEntry* const> compiled);

// One entry as a JSON object (the storage format of the file and Redis
// stores): {"session_id","type","reason","score","score_components",
// "added_at","expires_at"} with times as epoch seconds (expires_at omitted
// when infinite).
std::string RevocationEntryToJson(const RevocationEntry& entry);
// Parses and validates RevocationEntryToJson's format; errors name the field.
absl::StatusOr<RevocationEntry> ParseRevocationEntryJson(absl::string_view json);

}  // namespace edgepass::core

#endif  // EDGEPASS_CORE_REVOCATION_LIST_H_
