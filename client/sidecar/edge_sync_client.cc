#include "client/sidecar/edge_sync_client.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <random>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "client/channel/api_key.h"
#include "core/status_macros.h"
#include "edgepass/v1/edge_sync.grpc.pb.h"
#include "text/json_string.h"

namespace edgepass::sidecar {
namespace {

// The most a snapshot's announced count reserves (the server's
// --revocation-capacity is at most 10 million).
constexpr uint64_t kMaxSnapshotReserve = 10'000'000;

absl::Time TimeFromProto(bool has, const google::protobuf::Timestamp& ts) {
  return has ? absl::FromUnixSeconds(ts.seconds()) : absl::InfiniteFuture();
}

absl::StatusOr<core::KeyState> KeyStateFromProto(v1::KeyState state,
                                                 absl::string_view field) {
  switch (state) {
    case v1::PENDING:
      return core::KeyState::kPending;
    case v1::DISTRIBUTED:
      return core::KeyState::kDistributed;
    case v1::PRIMARY:
      return core::KeyState::kPrimary;
    case v1::SECONDARY:
      return core::KeyState::kSecondary;
    case v1::RETIRED:
      return core::KeyState::kRetired;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": unknown key state"));
  }
}

absl::StatusOr<core::Keyring> KeyringFromUpdate(const v1::EdgeUpdate& update) {
  std::vector<core::SigningKey> keys;
  for (int i = 0; i < update.keys_size(); ++i) {
    const v1::EdgeKey& k = update.keys(i);
    core::SigningKey key{.id = k.id(), .value = k.value()};
    EDGEPASS_ASSIGN_OR_RETURN(
        key.state,
        KeyStateFromProto(k.state(), absl::StrCat("keys[", i, "].state")));
    key.created_at = TimeFromProto(k.has_created_at(), k.created_at());
    if (!k.has_created_at()) key.created_at = absl::UnixEpoch();
    key.not_after = TimeFromProto(k.has_not_after(), k.not_after());
    keys.push_back(std::move(key));
  }
  return core::Keyring::Create(std::move(keys));
}

// The delta's changes in the order the server means them: its removals,
// then its additions (an added id already present keeps the later expiry).
std::vector<client::RevocationChange> DeltaChanges(const v1::EdgeUpdate& update) {
  std::vector<client::RevocationChange> changes;
  changes.reserve(update.revoked_remove_size() + update.revoked_add_size());
  for (const std::string& id : update.revoked_remove()) {
    changes.push_back({.session_id = id, .remove = true});
  }
  for (const v1::RevokedId& r : update.revoked_add()) {
    changes.push_back({.session_id = r.session_id(),
                       .expires_at = TimeFromProto(r.has_expires_at(), r.expires_at())});
  }
  return changes;
}

bool IsAuthError(grpc::StatusCode code) {
  return code == grpc::StatusCode::UNAUTHENTICATED ||
         code == grpc::StatusCode::PERMISSION_DENIED;
}

// The server refused this validator: say why and what to check. The server's
// message names the caller and the scope, never the key; the key is masked
// all the same, should a server ever echo it.
std::string AuthErrorLine(const std::string& server, const grpc::Status& status,
                          const std::string& api_key) {
  const bool unauthenticated =
      status.error_code() == grpc::StatusCode::UNAUTHENTICATED;
  std::string message = status.error_message();
  if (!api_key.empty()) {
    message = absl::StrReplaceAll(message, {{api_key, "<api key>"}});
  }
  return absl::StrCat(
      "{\"event\":\"edge_sync_denied\",\"level\":\"error\",\"server\":",
      text::JsonString(server), ",\"code\":\"",
      unauthenticated ? "UNAUTHENTICATED" : "PERMISSION_DENIED",
      "\",\"error\":", text::JsonString(message), ",\"hint\":\"",
      unauthenticated
          ? "the server does not know this caller: check --api-key-file or "
            "--client-cert against its access file"
          : "this caller lacks scope edge-sync in the server's access file",
      "\"}");
}

}  // namespace

EdgeSyncState::EdgeSyncState(const ValidatorState& state)
    : version_(state.version),
      fingerprint_(state.keyring_fingerprint),
      keyring_(state.keyring),
      have_keyring_(!state.keyring.keys().empty()),
      revoked_(state.revoked != nullptr ? state.revoked
                                        : EmptyRevocationSet()) {}

absl::StatusOr<std::optional<ValidatorState>> EdgeSyncState::Apply(
    const v1::EdgeUpdate& update) {
  std::optional<uint64_t> delta_from;  // set for a delta of revocations only
  std::vector<client::RevocationChange> changes;
  if (update.snapshot()) {
    if (update.keyring_changed()) {  // the first message of a snapshot
      EDGEPASS_ASSIGN_OR_RETURN(pending_keyring_, KeyringFromUpdate(update));
      pending_revoked_ = core::RevocationSet();
      // Sized once (a million ids would otherwise regrow it 17 times); capped
      // so that a wrong count cannot make the validator reserve gigabytes.
      pending_revoked_.Reserve(static_cast<size_t>(std::min<uint64_t>(
          update.snapshot_revoked_count(), kMaxSnapshotReserve)));
      receiving_snapshot_ = true;
    } else if (!receiving_snapshot_) {
      return absl::InvalidArgumentError(
          "snapshot: continuation without a first message");
    }
    for (const v1::RevokedId& r : update.revoked_add()) {
      pending_revoked_.Add(r.session_id(),
                           TimeFromProto(r.has_expires_at(), r.expires_at()));
    }
    if (!update.complete()) return std::nullopt;
    receiving_snapshot_ = false;
    keyring_ = std::move(pending_keyring_);
    revoked_ = client::RevokedSessions::Share(
        std::exchange(pending_revoked_, core::RevocationSet()));
    have_keyring_ = true;
  } else {
    if (!have_keyring_ && !update.keyring_changed()) {
      return absl::InvalidArgumentError("update: a delta before any snapshot");
    }
    if (update.keyring_changed()) {
      EDGEPASS_ASSIGN_OR_RETURN(keyring_, KeyringFromUpdate(update));
      have_keyring_ = true;
    }
    if (update.revoked_add_size() > 0 || update.revoked_remove_size() > 0) {
      // Costs the change: the new set shares its base with the old one.
      changes = DeltaChanges(update);
      revoked_ = revoked_->Apply(changes);
    }
    // Only the revocations changed: a sink holding version_ can persist
    // just `changes`.
    if (!update.keyring_changed() && update.keyring_fingerprint() == fingerprint_) delta_from = version_;
  }
  version_ = update.version();
  fingerprint_ = update.keyring_fingerprint();
  ValidatorState out{.version = version_,
                     .keyring_fingerprint = fingerprint_,
                     .keyring = keyring_,
                     .revoked = revoked_};
  if (delta_from.has_value()) {
    out.delta_from = delta_from;
    out.changes = std::move(changes);
  }
  return out;
}

EdgeSyncClient::EdgeSyncClient(EdgeSyncClientOptions options, StateSink* sink,
                               const ValidatorState& initial, Logger log)
    : options_(std::move(options)),
      sink_(sink),
      log_(std::move(log)),
      state_(initial) {}

EdgeSyncClient::~EdgeSyncClient() { Stop(); }

void EdgeSyncClient::Start() {
  thread_ = std::thread([this] { Run(); });
}

void EdgeSyncClient::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
    if (cancel_) cancel_();
  }
  if (thread_.joinable()) thread_.join();
}

std::string EdgeSyncClient::connected_server() const {
  absl::MutexLock lock(&mu_);
  return connected_;
}

void EdgeSyncClient::Run() {
  std::mt19937_64 jitter(std::random_device{}());
  absl::Duration backoff = options_.initial_backoff;
  for (size_t attempt = 0;; ++attempt) {
    {
      absl::MutexLock lock(&mu_);
      if (stop_) return;
    }
    const std::string& server =
        options_.servers[attempt % options_.servers.size()];
    if (StreamFrom(server)) backoff = options_.initial_backoff;
    // Wait backoff * [0.5, 1.5), stopping early on Stop().
    const double factor =
        0.5 + std::uniform_real_distribution<double>(0, 1)(jitter);
    absl::MutexLock lock(&mu_);
    auto stopped = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return stop_; };
    if (mu_.AwaitWithTimeout(absl::Condition(&stopped), backoff * factor))
      return;
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
}

bool EdgeSyncClient::StreamFrom(const std::string& server) {
  auto channel =
      grpc::CreateChannel(server, options_.credentials != nullptr
                                      ? options_.credentials
                                      : grpc::InsecureChannelCredentials());
  auto stub = v1::EdgeSyncService::NewStub(channel);
  grpc::ClientContext context;
  client::AddApiKey(options_.api_key, &context);
  {
    absl::MutexLock lock(&mu_);
    if (stop_) return false;
    cancel_ = [&context] { context.TryCancel(); };
  }
  v1::SubscribeRequest request;
  request.set_validator_id(options_.validator_id);
  request.set_have_version(state_.version());
  request.set_have_keyring_fingerprint(state_.keyring_fingerprint());
  // Short waits, so Stop() is not held up by a server that does not answer.
  const absl::Time connect_deadline = absl::Now() + options_.connect_timeout;
  bool connected = false;
  while (!connected && absl::Now() < connect_deadline) {
    connected = channel->WaitForConnected(
        absl::ToChronoTime(absl::Now() + absl::Milliseconds(200)));
    absl::MutexLock lock(&mu_);
    if (stop_) break;
  }
  if (!connected) {
    absl::MutexLock lock(&mu_);
    cancel_ = nullptr;
    if (stop_) return false;
    log_(absl::StrCat(
        "{\"event\":\"edge_sync_unreachable\",\"level\":\"warning\","
        "\"server\":",
        text::JsonString(server), "}"));
    return false;
  }
  std::unique_ptr<grpc::ClientReader<v1::EdgeUpdate>> reader =
      stub->Subscribe(&context, request);
  bool got_any = false;
  v1::EdgeUpdate update;
  // When the first message of the version being received arrived, and how
  // many it took.
  absl::Time receiving_since = absl::InfinitePast();
  int messages = 0;
  while (reader->Read(&update)) {
    if (messages++ == 0) receiving_since = absl::Now();
    if (!got_any) {
      got_any = true;
      absl::MutexLock lock(&mu_);
      connected_ = server;
      log_(absl::StrCat("{\"event\":\"edge_sync_connected\",\"server\":",
                        text::JsonString(server),
                        ",\"version\":", update.version(), "}"));
    }
    absl::StatusOr<std::optional<ValidatorState>> applied =
        state_.Apply(update);
    if (!applied.ok()) {
      log_(absl::StrCat("{\"event\":\"edge_sync_bad_update\",\"server\":",
                        text::JsonString(server), ",\"error\":",
                        text::JsonString(applied.status().message()), "}"));
      context.TryCancel();
      break;
    }
    if (!applied->has_value()) continue;
    const size_t keys = (*applied)->keyring.keys().size();
    const size_t revoked = (*applied)->revoked->size();
    const absl::Time received_at = absl::Now();
    StateSink::Timing timing;
    sink_->ApplyState(**std::move(applied), &timing).IgnoreError();  // each failure logged below
    // One line per version once it is applied and the snapshot file written
    // (tools and benchmarks wait for it). From the version's first message:
    // receive_ms to the state built, apply_ms to the validator checking
    // against it; save_ms for the snapshot file after that.
    auto ms = [](absl::Duration d) { return absl::ToInt64Milliseconds(d); };
    log_(absl::StrCat(
        "{\"event\":\"edge_sync_applied\",\"version\":", update.version(),
        ",\"snapshot\":", update.snapshot() ? "true" : "false",
        ",\"messages\":", messages, ",\"revoked\":", revoked, ",\"keys\":",
        keys, ",\"receive_ms\":", ms(received_at - receiving_since),
        ",\"apply_ms\":", ms(timing.applied_at - receiving_since),
        ",\"save_ms\":", ms(timing.saved_at - timing.applied_at), "}"));
    messages = 0;
    if (!timing.snapshot.ok()) {
      log_(absl::StrCat("{\"event\":\"snapshot_save_failed\",\"level\":\"error\",\"version\":",
                        update.version(), ",\"error\":", text::JsonString(timing.snapshot.message()), "}"));
    }
    if (!timing.module_state.ok()) {
      // nginx's workers do not hold this version: acknowledging it would let
      // the server promote a key they lack. Stay subscribed (a validator that
      // leaves stops counting, and a rotation would go on without it) and
      // acknowledge once the file is written.
      log_(absl::StrCat("{\"event\":\"module_state_failed\",\"level\":\"error\",\"version\":",
                        update.version(), ",\"error\":", text::JsonString(timing.module_state.message()), "}"));
      if (!AwaitModuleState()) break;  // Stop()
      log_(absl::StrCat("{\"event\":\"module_state_written\",\"version\":", update.version(), "}"));
    }
    grpc::ClientContext ack_context;
    ack_context.set_deadline(
        absl::ToChronoTime(absl::Now() + absl::Seconds(2)));
    client::AddApiKey(options_.api_key, &ack_context);
    v1::AcknowledgeRequest ack;
    ack.set_validator_id(options_.validator_id);
    ack.set_version(state_.version());
    ack.set_keyring_fingerprint(state_.keyring_fingerprint());
    v1::AcknowledgeResponse ack_response;
    (void)stub->Acknowledge(&ack_context, ack,
                            &ack_response);  // best effort; the stream goes on
  }
  grpc::Status status = reader->Finish();
  absl::MutexLock lock(&mu_);
  cancel_ = nullptr;
  connected_.clear();
  if (!stop_ && IsAuthError(status.error_code())) {
    log_(AuthErrorLine(server, status, options_.api_key));
  } else if (!stop_) {
    log_(absl::StrCat(
        "{\"event\":\"edge_sync_disconnected\",\"level\":\"warning\","
        "\"server\":",
        text::JsonString(server),
        ",\"code\":", static_cast<int>(status.error_code()), "}"));
  }
  return got_any;
}

bool EdgeSyncClient::AwaitModuleState() {
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (mu_.AwaitWithTimeout(absl::Condition(&stop_), absl::Seconds(1))) return false;
    }
    // OK: written now, or nothing pending any more. An error is the one
    // already logged, or its like.
    if (sink_->RetryModuleState().ok()) return true;
  }
}

}  // namespace edgepass::sidecar
