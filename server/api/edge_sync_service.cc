#include "server/api/edge_sync_service.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/timestamp.pb.h"
#include "server/api/proto_convert.h"
#include "server/api/status_map.h"

namespace edgepass::server {
namespace {

constexpr size_t kMaxValidatorIdBytes = 128;

absl::Status CheckValidatorId(const std::string& id) {
  bool ok = !id.empty() && id.size() <= kMaxValidatorIdBytes;
  for (char c : id) {
    ok = ok && (absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' ||
                c == '.' || c == ':');
  }
  if (ok) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "validator_id: must be 1 to ", kMaxValidatorIdBytes, " characters of [A-Za-z0-9_.:-]"));
}

v1::KeyState KeyStateToProto(core::KeyState state) {
  switch (state) {
    case core::KeyState::kPending: return v1::PENDING;
    case core::KeyState::kDistributed: return v1::DISTRIBUTED;
    case core::KeyState::kPrimary: return v1::PRIMARY;
    case core::KeyState::kSecondary: return v1::SECONDARY;
    case core::KeyState::kRetired: return v1::RETIRED;
  }
  return v1::KEY_STATE_UNSPECIFIED;
}

void AddKeyring(const EdgeSnapshot& snap, v1::EdgeUpdate* out) {
  out->set_keyring_changed(true);
  out->set_keyring_fingerprint(snap.keyring_fingerprint);
  for (const core::SigningKey& k : snap.keyring->keys()) {
    v1::EdgeKey* key = out->add_keys();
    key->set_id(k.id);
    key->set_value(k.value);
    key->set_state(KeyStateToProto(k.state));
    SetTimestampUnlessInfinite(k.created_at, [&] { return key->mutable_created_at(); });
    SetTimestampUnlessInfinite(k.not_after, [&] { return key->mutable_not_after(); });
  }
}

void AddRevoked(const EdgeRevoked& r, v1::EdgeUpdate* out) {
  v1::RevokedId* id = out->add_revoked_add();
  id->set_session_id(r.session_id);
  SetTimestampUnlessInfinite(r.expires_at, [&] { return id->mutable_expires_at(); });
}

// Writes `snap` as a snapshot split over messages; false when the stream broke.
bool WriteSnapshot(const EdgeSnapshot& snap, grpc::ServerWriter<v1::EdgeUpdate>* writer) {
  size_t next = 0;
  bool first = true;
  do {
    v1::EdgeUpdate update;
    update.set_version(snap.version);
    update.set_snapshot(true);
    if (first) {
      AddKeyring(snap, &update);
      update.set_snapshot_revoked_count(snap.revoked.size());
    }
    update.set_keyring_fingerprint(snap.keyring_fingerprint);
    const size_t end = std::min(snap.revoked.size(), next + kRevokedPerMessage);
    for (; next < end; ++next) AddRevoked(snap.revoked[next], &update);
    update.set_complete(next == snap.revoked.size());
    if (!writer->Write(update)) return false;
    first = false;
  } while (next < snap.revoked.size());
  return true;
}

// The delta from `from` to `to` (both sorted by session id), as one message.
v1::EdgeUpdate Delta(const EdgeSnapshot& from, const EdgeSnapshot& to) {
  v1::EdgeUpdate update;
  update.set_version(to.version);
  update.set_complete(true);
  update.set_keyring_fingerprint(to.keyring_fingerprint);
  if (from.keyring_fingerprint != to.keyring_fingerprint) AddKeyring(to, &update);
  auto a = from.revoked.begin();
  auto b = to.revoked.begin();
  while (a != from.revoked.end() || b != to.revoked.end()) {
    if (b == to.revoked.end() || (a != from.revoked.end() && a->session_id < b->session_id)) {
      update.add_revoked_remove(a->session_id);
      ++a;
    } else if (a == from.revoked.end() || b->session_id < a->session_id) {
      AddRevoked(*b, &update);
      ++b;
    } else {
      if (a->expires_at != b->expires_at) AddRevoked(*b, &update);
      ++a;
      ++b;
    }
  }
  return update;
}

}  // namespace

grpc::Status EdgeSyncServiceImpl::Subscribe(grpc::ServerContext* context,
                                            const v1::SubscribeRequest* request,
                                            grpc::ServerWriter<v1::EdgeUpdate>* writer) {
  if (absl::Status s = CheckValidatorId(request->validator_id()); !s.ok()) return ToGrpcStatus(s);
  const std::string& id = request->validator_id();
  {
    absl::MutexLock lock(&mu_);
    if (validators_.size() >= kMaxTrackedValidators && validators_.count(id) == 0) {
      for (auto it = validators_.begin(); it != validators_.end();) {
        it = it->second.streams == 0 ? validators_.erase(it) : std::next(it);
      }
      if (validators_.size() >= kMaxTrackedValidators) {
        return ToGrpcStatus(absl::ResourceExhaustedError("too many validators on this replica"));
      }
    }
    Validator& v = validators_[id];
    v.peer = context->peer();
    v.connected_at = clock_();
    ++v.streams;
  }
  auto set_sent = [&](uint64_t version) {
    absl::MutexLock lock(&mu_);
    validators_[id].sent_version = version;
  };

  std::shared_ptr<const EdgeSnapshot> sent = live_->edge();
  bool ok;
  if (request->have_version() == sent->version &&
      request->have_keyring_fingerprint() == sent->keyring_fingerprint) {
    v1::EdgeUpdate marker;  // resumes: the validator already holds this version
    marker.set_version(sent->version);
    marker.set_complete(true);
    marker.set_keyring_fingerprint(sent->keyring_fingerprint);
    ok = writer->Write(marker);
  } else {
    ok = WriteSnapshot(*sent, writer);
  }
  if (ok) set_sent(sent->version);
  while (ok && !context->IsCancelled() && !stopping_.load()) {
    std::shared_ptr<const EdgeSnapshot> next = live_->WaitForEdgeChange(*sent, kCancelPoll);
    if (next->SameAs(*sent) && next->revoked == sent->revoked) continue;
    ok = writer->Write(Delta(*sent, *next));
    if (ok) {
      sent = std::move(next);
      set_sent(sent->version);
    }
  }
  absl::MutexLock lock(&mu_);
  --validators_[id].streams;
  return grpc::Status::OK;
}

grpc::Status EdgeSyncServiceImpl::Acknowledge(grpc::ServerContext*,
                                              const v1::AcknowledgeRequest* request,
                                              v1::AcknowledgeResponse*) {
  if (absl::Status s = CheckValidatorId(request->validator_id()); !s.ok()) return ToGrpcStatus(s);
  if (request->keyring_fingerprint().size() > 64) {
    return ToGrpcStatus(absl::InvalidArgumentError("keyring_fingerprint: longer than 64 bytes"));
  }
  absl::MutexLock lock(&mu_);
  auto it = validators_.find(request->validator_id());
  if (it == validators_.end()) {
    return ToGrpcStatus(absl::NotFoundError(absl::StrCat(
        "validator_id: \"", request->validator_id(), "\" has not subscribed to this replica")));
  }
  it->second.acked_version = request->version();
  it->second.acked_fingerprint = request->keyring_fingerprint();
  return grpc::Status::OK;
}

EdgeSyncServiceImpl::ValidatorSummary EdgeSyncServiceImpl::Summarize(uint64_t edge_version) const {
  ValidatorSummary summary;
  absl::MutexLock lock(&mu_);
  for (const auto& [id, v] : validators_) {
    if (v.streams <= 0) continue;
    ++summary.connected;
    if (v.acked_version < edge_version) {
      ++summary.behind;
      summary.max_lag = std::max(summary.max_lag, edge_version - v.acked_version);
    }
  }
  return summary;
}

grpc::Status EdgeSyncServiceImpl::ListValidators(grpc::ServerContext*,
                                                 const v1::ListValidatorsRequest*,
                                                 v1::ListValidatorsResponse* response) {
  response->set_current_version(live_->edge()->version);
  absl::MutexLock lock(&mu_);
  for (const auto& [id, v] : validators_) {
    v1::ValidatorInfo* info = response->add_validators();
    info->set_validator_id(id);
    info->set_peer(v.peer);
    SetTimestampUnlessInfinite(v.connected_at, [&] { return info->mutable_connected_at(); });
    info->set_sent_version(v.sent_version);
    info->set_acked_version(v.acked_version);
    info->set_acked_keyring_fingerprint(v.acked_fingerprint);
    info->set_connected(v.streams > 0);
  }
  return grpc::Status::OK;
}

}  // namespace edgepass::server
