#include "server/api/session_service.h"

#include <algorithm>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "core/token_issuer.h"
#include "google/protobuf/timestamp.pb.h"
#include "server/api/proto_convert.h"
#include "server/api/status_map.h"

namespace edgepass::server {
namespace {

constexpr int64_t kMaxEpochSeconds = int64_t{1} << 40;
// How long a revoke or restore waits for this replica's edge snapshot to
// include it before answering.
constexpr absl::Duration kLocalPropagationWait = absl::Seconds(1);

absl::StatusOr<absl::Time> ExpiryFromProto(bool has, const google::protobuf::Timestamp& ts,
                                           absl::Time now, absl::Duration default_ttl) {
  if (!has) return now + default_ttl;
  if (ts.seconds() <= 0 || ts.seconds() > kMaxEpochSeconds || ts.nanos() < 0 ||
      ts.nanos() >= 1000000000) {
    return absl::InvalidArgumentError("expires_at: not a valid timestamp");
  }
  const absl::Time t = absl::FromUnixSeconds(ts.seconds());
  if (t <= now) return absl::InvalidArgumentError("expires_at: must be in the future");
  return t;
}

void EntryToProto(const core::RevocationEntry& e, v1::RevokedSession* out) {
  out->set_session_id(e.session_id);
  out->set_type(e.type == core::RevocationType::kAuto ? v1::AUTO : v1::MANUAL);
  out->set_reason(e.reason);
  out->set_score(e.score);
  for (const auto& [name, value] : e.score_components) (*out->mutable_score_components())[name] = value;
  SetTimestamp(e.added_at, out->mutable_added_at());
  SetTimestampUnlessInfinite(e.expires_at, [&] { return out->mutable_expires_at(); });
}

// Field names in errors are the request's ("session_id: ..."), not the
// stored entry's ("entry.session_id: ...").
absl::Status CheckEntry(const core::RevocationEntry& entry) {
  absl::Status s = core::ValidateRevocationEntry(entry, "entry");
  if (s.ok()) return s;
  return absl::Status(s.code(), s.message().substr(std::string("entry.").size()));
}

}  // namespace

absl::Status SessionServiceImpl::Store(const core::RevocationEntry& entry,
                                       v1::RevokedSession* response) {
  EDGEPASS_RETURN_IF_ERROR(CheckEntry(entry));
  EDGEPASS_ASSIGN_OR_RETURN(uint64_t version, store_->Put(entry));
  // Durable now; also hand it to this replica's validators before answering
  // (bounded: the other replicas get it through the feed anyway).
  live_->RequestReload(ChangeKind::kSessions);
  live_->AwaitEdgeVersion(version, kLocalPropagationWait);
  EntryToProto(entry, response);
  return absl::OkStatus();
}

grpc::Status SessionServiceImpl::RevokeSession(grpc::ServerContext*,
                                               const v1::RevokeSessionRequest* request,
                                               v1::RevokedSession* response) {
  auto run = [&]() -> absl::Status {
    const absl::Time now = clock_();
    core::RevocationEntry entry{.session_id = request->session_id(),
                                .type = core::RevocationType::kManual,
                                .reason = request->reason(),
                                .added_at = now};
    EDGEPASS_ASSIGN_OR_RETURN(entry.expires_at,
                              ExpiryFromProto(request->has_expires_at(), request->expires_at(), now,
                                              options_.default_revocation_ttl));
    return Store(entry, response);
  };
  return ToGrpcStatus(run());
}

grpc::Status SessionServiceImpl::ReportSession(grpc::ServerContext*,
                                               const v1::ReportSessionRequest* request,
                                               v1::RevokedSession* response) {
  auto run = [&]() -> absl::Status {
    const absl::Time now = clock_();
    core::RevocationEntry entry{.session_id = request->session_id(),
                                .type = core::RevocationType::kAuto,
                                .reason = request->reason(),
                                .score = request->score(),
                                .added_at = now};
    if (request->score_components_size() > static_cast<int>(core::kMaxScoreComponents)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "score_components: at most ", core::kMaxScoreComponents, " components"));
    }
    for (const auto& [name, value] : request->score_components()) entry.score_components[name] = value;
    EDGEPASS_ASSIGN_OR_RETURN(entry.expires_at,
                              ExpiryFromProto(request->has_expires_at(), request->expires_at(), now,
                                              options_.default_revocation_ttl));
    return Store(entry, response);
  };
  return ToGrpcStatus(run());
}

grpc::Status SessionServiceImpl::ListRevokedSessions(grpc::ServerContext*,
                                                     const v1::ListRevokedSessionsRequest* request,
                                                     v1::ListRevokedSessionsResponse* response) {
  auto run = [&]() -> absl::Status {
    if (request->limit() < 0) return absl::InvalidArgumentError("limit: must be >= 0");
    EDGEPASS_ASSIGN_OR_RETURN(SessionList list, store_->List());
    std::vector<const core::RevocationEntry*> selected;
    if (request->compiled()) {
      selected = core::CompileRevocationList(list.entries, clock_(), options_.revocations);
    } else {
      for (const auto& e : list.entries) selected.push_back(&e);
      std::sort(selected.begin(), selected.end(),
                [](const auto* a, const auto* b) { return a->session_id < b->session_id; });
    }
    const size_t limit = request->limit() == 0 ? selected.size() : static_cast<size_t>(request->limit());
    for (size_t i = 0; i < selected.size() && i < limit; ++i) {
      EntryToProto(*selected[i], response->add_sessions());
    }
    response->set_version(list.version);
    return absl::OkStatus();
  };
  return ToGrpcStatus(run());
}

grpc::Status SessionServiceImpl::RestoreSession(grpc::ServerContext*,
                                                const v1::RestoreSessionRequest* request,
                                                google::protobuf::Empty*) {
  auto run = [&]() -> absl::Status {
    if (!core::IsValidSessionId(request->session_id())) {
      return absl::InvalidArgumentError(absl::StrCat(
          "session_id: must be 1 to ", core::kMaxSessionIdLength, " characters of [A-Za-z0-9_-]"));
    }
    EDGEPASS_ASSIGN_OR_RETURN(uint64_t version, store_->Remove(request->session_id()));
    live_->RequestReload(ChangeKind::kSessions);
    live_->AwaitEdgeVersion(version, kLocalPropagationWait);
    return absl::OkStatus();
  };
  return ToGrpcStatus(run());
}

}  // namespace edgepass::server
