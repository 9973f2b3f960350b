#include "server/app/revocation_desk.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/casts.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/status_macros.h"
#include "core/token_issuer.h"

namespace edgepass::server {
namespace {

// How long a revoke or restore waits for this replica's edge snapshot to
// include it before answering.
constexpr absl::Duration kLocalPropagationWait = absl::Seconds(1);

// A List() page token names the last entry of a page by its place in the
// order (keyset paging): web-safe base64 of "1.s.<session id>" (stored
// order) or "1.c.<m|a>.<added_at, Unix ns>.<score bits, hex>.<session id>"
// (compiled order). Session ids have no '.'.
constexpr size_t kMaxPageTokenBytes = 256;

struct PagePosition {
  bool automatic = false;
  absl::Time added_at;
  double score = 0;
  std::string session_id;
};

PagePosition PositionOf(const core::RevocationEntry& e) {
  return {.automatic = e.type == core::RevocationType::kAuto,
          .added_at = e.added_at,
          .score = e.score,
          .session_id = e.session_id};
}

// core::CompileRevocationList's order: MANUAL newest first, then AUTO by
// score highest first, ties by id.
bool CompiledBefore(const PagePosition& a, const PagePosition& b) {
  if (a.automatic != b.automatic) return !a.automatic;
  if (!a.automatic && a.added_at != b.added_at) return a.added_at > b.added_at;
  if (a.automatic && a.score != b.score) return a.score > b.score;
  return a.session_id < b.session_id;
}

std::string PageToken(bool compiled, const core::RevocationEntry& last) {
  std::string text;
  if (compiled) {
    text = absl::StrCat("1.c.", last.type == core::RevocationType::kAuto ? "a" : "m", ".",
                        absl::ToUnixNanos(last.added_at), ".", absl::Hex(absl::bit_cast<uint64_t>(last.score)), ".",
                        last.session_id);
  } else {
    text = absl::StrCat("1.s.", last.session_id);
  }
  return absl::WebSafeBase64Escape(text);
}

absl::StatusOr<PagePosition> ParsePageToken(absl::string_view token, bool compiled) {
  const auto bad = [] { return absl::InvalidArgumentError("page_token: not a token this service returned"); };
  std::string text;
  if (token.size() > kMaxPageTokenBytes || !absl::WebSafeBase64Unescape(token, &text)) return bad();
  std::vector<absl::string_view> parts = absl::StrSplit(text, '.');
  if (parts.size() < 3 || parts[0] != "1" || (parts[1] != "s" && parts[1] != "c")) return bad();
  if ((parts[1] == "c") != compiled) {
    return absl::InvalidArgumentError(absl::StrCat("page_token: returned for compiled=", compiled ? "false" : "true",
                                                   "; keep compiled the same for every page"));
  }
  PagePosition p;
  p.session_id = std::string(parts.back());
  if (!core::IsValidSessionId(p.session_id)) return bad();
  if (!compiled) {
    if (parts.size() != 3) return bad();
    return p;
  }
  int64_t nanos = 0;
  uint64_t score_bits = 0;
  if (parts.size() != 6 || (parts[2] != "m" && parts[2] != "a") || !absl::SimpleAtoi(parts[3], &nanos) ||
      !absl::SimpleHexAtoi(parts[4], &score_bits)) {
    return bad();
  }
  p.automatic = parts[2] == "a";
  p.added_at = absl::FromUnixNanos(nanos);
  p.score = absl::bit_cast<double>(score_bits);
  if (!std::isfinite(p.score)) return bad();
  return p;
}

}  // namespace

absl::StatusOr<core::RevocationEntry> RevocationDesk::MakeEntry(const RevocationRequest& request, absl::Time now,
                                                               absl::string_view prefix) const {
  if (request.expires_at.has_value() && *request.expires_at <= now) {
    return absl::InvalidArgumentError(absl::StrCat(prefix, "expires_at: must be in the future"));
  }
  core::RevocationEntry entry{.session_id = request.session_id,
                              .type = request.type,
                              .reason = request.reason,
                              .score = request.score,
                              .score_components = request.score_components,
                              .added_at = now,
                              .expires_at = request.expires_at.value_or(now + options_.default_revocation_ttl)};
  // Field names in errors are the request's ("session_id: ..."), not the
  // stored entry's ("entry.session_id: ...").
  if (absl::Status s = core::ValidateRevocationEntry(entry, "entry"); !s.ok()) {
    return absl::Status(s.code(), absl::StrCat(prefix, s.message().substr(std::string("entry.").size())));
  }
  return entry;
}

absl::StatusOr<core::RevocationEntry> RevocationDesk::Revoke(const RevocationRequest& request) const {
  EDGEPASS_ASSIGN_OR_RETURN(core::RevocationEntry entry, MakeEntry(request, clock_(), ""));
  uint64_t version = 0;
  if (entry.type == core::RevocationType::kAuto) {
    EDGEPASS_ASSIGN_OR_RETURN(ReportResult reported, store_->Report(absl::MakeConstSpan(&entry, 1)));
    version = reported.version;
    if (!reported.entries.empty()) entry = std::move(reported.entries[0]);
  } else {
    EDGEPASS_ASSIGN_OR_RETURN(version, store_->Put(entry));
  }
  // Durable now; also hand it to this replica's validators before answering
  // (bounded: the other replicas get it through the feed anyway).
  live_->RequestReload(ChangeKind::kSessions);
  live_->AwaitEdgeVersion(version, kLocalPropagationWait);
  return entry;
}

absl::StatusOr<ReportedSessions> RevocationDesk::Report(const std::vector<RevocationRequest>& requests) const {
  if (requests.empty()) return absl::InvalidArgumentError("sessions: at least one session to report");
  if (requests.size() > kMaxReportBatch) {
    return absl::InvalidArgumentError(
        absl::StrCat("sessions: at most ", kMaxReportBatch, " per call (got ", requests.size(), ")"));
  }
  const absl::Time now = clock_();
  std::vector<core::RevocationEntry> entries;
  entries.reserve(requests.size());
  for (size_t i = 0; i < requests.size(); ++i) {
    RevocationRequest request = requests[i];
    request.type = core::RevocationType::kAuto;
    EDGEPASS_ASSIGN_OR_RETURN(core::RevocationEntry entry, MakeEntry(request, now, absl::StrCat("sessions[", i, "].")));
    entries.push_back(std::move(entry));
  }
  EDGEPASS_ASSIGN_OR_RETURN(ReportResult reported, store_->Report(entries));
  live_->RequestReload(ChangeKind::kSessions);
  live_->AwaitEdgeVersion(reported.version, kLocalPropagationWait);
  return ReportedSessions{.outcomes = std::move(reported.outcomes),
                          .sessions = std::move(reported.entries),
                          .version = reported.version};
}

absl::StatusOr<RevokedSessions> RevocationDesk::List(bool compiled, int page_size,
                                                     absl::string_view page_token) const {
  if (page_size < 0) return absl::InvalidArgumentError("page_size: must be >= 0");
  const size_t size = page_size == 0 ? kDefaultRevokedPageSize : std::min(page_size, kMaxRevokedPageSize);
  std::optional<PagePosition> after;
  if (!page_token.empty()) {
    EDGEPASS_ASSIGN_OR_RETURN(after, ParsePageToken(page_token, compiled));
  }
  if (!compiled) {  // the store reads just the page
    EDGEPASS_ASSIGN_OR_RETURN(SessionPage page,
                              store_->ListPage(after.has_value() ? after->session_id : "", size));
    RevokedSessions out{.sessions = std::move(page.entries), .version = page.version};
    if (page.more && !out.sessions.empty()) out.next_page_token = PageToken(false, out.sessions.back());
    return out;
  }
  // The compiled order ranks the whole list.
  EDGEPASS_ASSIGN_OR_RETURN(SessionList list, store_->List());
  std::vector<const core::RevocationEntry*> rest =
      core::CompileRevocationList(list.entries, clock_(), options_.revocations);
  if (after.has_value()) {  // the entries after `after`, this page's first
    auto first = std::partition_point(rest.begin(), rest.end(), [&](const core::RevocationEntry* e) {
      return !CompiledBefore(*after, PositionOf(*e));
    });
    rest.erase(rest.begin(), first);
  }
  RevokedSessions out{.version = list.version};
  const size_t n = std::min(rest.size(), size);
  out.sessions.reserve(n);
  for (size_t i = 0; i < n; ++i) out.sessions.push_back(*rest[i]);
  if (rest.size() > n) out.next_page_token = PageToken(true, out.sessions.back());
  return out;
}

absl::Status RevocationDesk::Restore(absl::string_view session_id) const {
  EDGEPASS_RETURN_IF_ERROR(core::CheckSessionId(session_id, "session_id"));
  EDGEPASS_ASSIGN_OR_RETURN(uint64_t version, store_->Remove(session_id));
  live_->RequestReload(ChangeKind::kSessions);
  live_->AwaitEdgeVersion(version, kLocalPropagationWait);
  return absl::OkStatus();
}

}  // namespace edgepass::server
