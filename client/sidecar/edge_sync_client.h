// The sidecar's edge-sync subscriber: keeps a stream open to one of the
// configured servers (moving to the next on failure, with exponential backoff
// and jitter), applies snapshots and deltas to the StateSink, and acknowledges
// each applied version (with a module state file, once written there: a
// failed write is tried again every second before the acknowledgement). It
// resumes from the version it holds, so a reconnect to any replica of the
// fleet needs no snapshot when nothing changed.
//
//   EdgeSyncClient sync({.servers = {"10.0.0.5:50051"}, .validator_id =
//   "edge-1"}, &sink, state); sync.Start();   // returns at once; Stop() (or
//   the destructor) ends it
#ifndef EDGEPASS_CLIENT_SIDECAR_EDGE_SYNC_CLIENT_H_
#define EDGEPASS_CLIENT_SIDECAR_EDGE_SYNC_CLIENT_H_

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "client/sidecar/state_sink.h"
#include "client/sidecar/validator_state.h"

namespace grpc {
class ChannelCredentials;
}  // namespace grpc

namespace edgepass::v1 {
class EdgeUpdate;
}  // namespace edgepass::v1

namespace edgepass::sidecar {

struct EdgeSyncClientOptions {
  std::vector<std::string> servers;  // HOST:PORT, tried in order, round robin
  std::string validator_id;          // stable name of this validator
  absl::Duration initial_backoff = absl::Milliseconds(100);
  absl::Duration max_backoff = absl::Seconds(5);
  // A server that sends nothing for this long (not even the first message)
  // is given up for the next one.
  absl::Duration connect_timeout = absl::Seconds(5);
  // TLS to the servers (client/channel/grpc_channel_tls.h); null: plaintext.
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  // Sent as a bearer token on Subscribe and Acknowledge; empty: none. A
  // secret: never logged. A server refusing the caller (UNAUTHENTICATED,
  // PERMISSION_DENIED) is logged as edge_sync_denied and retried with backoff.
  std::string api_key;
};

// What the subscriber holds between updates, to apply deltas on.
class EdgeSyncState {
 public:
  EdgeSyncState() = default;
  // Starts from a state (e.g. the persisted snapshot).
  explicit EdgeSyncState(const ValidatorState& state);

  // Applies one update. Returns the state to hand to the sink when the
  // update completes a version, nullopt while a snapshot is still arriving.
  // INVALID_ARGUMENT (field named) for an update that cannot be applied (a
  // bad key, a delta before any snapshot); the held state is unchanged then.
  absl::StatusOr<std::optional<ValidatorState>> Apply(
      const v1::EdgeUpdate& update);

  uint64_t version() const { return version_; }
  const std::string& keyring_fingerprint() const { return fingerprint_; }

 private:
  uint64_t version_ = 0;
  std::string fingerprint_;
  core::Keyring keyring_;
  bool have_keyring_ = false;
  // Compact sets (not maps of strings), shared with the ValidatorStates this
  // hands out and so with the validator: a million revoked sessions are held
  // once; a delta adds to a small overlay over the shared base
  // (client/validator/revoked_sessions.h), so it costs the change.
  std::shared_ptr<const client::RevokedSessions> revoked_ = EmptyRevocationSet();
  // A snapshot being received.
  bool receiving_snapshot_ = false;
  core::Keyring pending_keyring_;
  core::RevocationSet pending_revoked_;
};

// Thread-safe. `sink` must outlive the client.
class EdgeSyncClient {
 public:
  using Logger = std::function<void(absl::string_view json_line)>;

  EdgeSyncClient(EdgeSyncClientOptions options, StateSink* sink,
                 const ValidatorState& initial, Logger log);
  ~EdgeSyncClient();  // Stop()
  EdgeSyncClient(const EdgeSyncClient&) = delete;
  EdgeSyncClient& operator=(const EdgeSyncClient&) = delete;

  void Start();
  // Cancels the stream and joins the thread; prompt.
  void Stop();

  // The server currently streamed from ("" when none).
  std::string connected_server() const;

 private:
  void Run();
  // One stream to `server` until it ends; true when any update arrived.
  bool StreamFrom(const std::string& server);
  // After a failed write of the module state: writes it again every second
  // until it is written (true) or Stop() (false).
  bool AwaitModuleState();

  const EdgeSyncClientOptions options_;
  StateSink* const sink_;
  const Logger log_;
  EdgeSyncState state_;  // only the run thread touches it after Start()

  mutable absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::string connected_ ABSL_GUARDED_BY(mu_);
  std::function<void()> cancel_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace edgepass::sidecar

#endif  // EDGEPASS_CLIENT_SIDECAR_EDGE_SYNC_CLIENT_H_
