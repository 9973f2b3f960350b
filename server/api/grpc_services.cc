#include "server/api/grpc_services.h"

#include <grpcpp/support/message_allocator.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/status_macros.h"
#include "google/protobuf/arena.h"
#include "edgepass/v1/catalog.grpc.pb.h"
#include "edgepass/v1/edge_sync.grpc.pb.h"
#include "edgepass/v1/keys.grpc.pb.h"
#include "edgepass/v1/playback.grpc.pb.h"
#include "edgepass/v1/session.grpc.pb.h"
#include "server/api/playback_reply.h"
#include "server/api/playback_request.h"
#include "server/api/status_map.h"
#include "server/server_metrics.h"

namespace edgepass::server {
namespace {

// One unary call from its start: Finish() records its method, status and
// time in ServerMetrics (edgepass_grpc_requests_total,
// edgepass_grpc_request_duration_seconds), then sends the status. Recorded
// here, not by the metrics interceptor, which leaves these methods alone:
// gRPC's interception machinery cost every call about 15% of the server's
// CPU (docs/benchmarks.md, tenth pass).
class UnaryCall {
 public:
  UnaryCall(ServerMetrics* metrics, absl::string_view method)
      : metrics_(metrics),
        method_(method),
        start_(metrics != nullptr ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point()) {}

  void Finish(grpc::ServerUnaryReactor* reactor, const grpc::Status& status) const {
    if (metrics_ != nullptr) {
      metrics_->RecordGrpcRequest(method_, status.error_code(),
                                  absl::FromChrono(std::chrono::steady_clock::now() - start_), /*unary=*/true);
    }
    reactor->Finish(status);
  }

 private:
  ServerMetrics* metrics_;
  absl::string_view method_;  // a literal
  std::chrono::steady_clock::time_point start_;
};

// The calls that may block (store I/O, a revoke waiting for this replica's
// snapshot), answered on one of the blocking pool's threads: gRPC's callback
// threads are few and must not wait, or every other call waits with them. At
// most `max` of them are queued or running at once; one more is refused at
// once, so a burst or a slow store cannot grow the pool's queue without
// bound (REST's hand-offs have the same bound, http::ServerOptions).
class WaitingCalls {
 public:
  WaitingCalls(BlockingPool* pool, int max) : pool_(pool), max_(max) {}

  template <typename Call>
  void Answer(grpc::ServerUnaryReactor* reactor, const UnaryCall& unary, Call call) {
    int count = count_.load(std::memory_order_relaxed);
    do {
      if (count >= max_) {
        unary.Finish(reactor, grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                           absl::StrCat("too many calls waiting (", max_, "); retry")));
        return;
      }
    } while (!count_.compare_exchange_weak(count, count + 1, std::memory_order_relaxed));
    pool_->Run([this, reactor, unary, call] {
      grpc::Status status = ToGrpcStatus(call());
      count_.fetch_sub(1, std::memory_order_relaxed);  // before Finish: a retry right after it is let in
      unary.Finish(reactor, status);
    });
  }

 private:
  BlockingPool* const pool_;
  const int max_;
  std::atomic<int> count_{0};
};

// What every adapter answers through: the scope check, the metrics each
// unary call is recorded in (may be null), the pool of calls that wait.
struct Calls {
  const GrpcAccess* access;
  ServerMetrics* metrics;
  WaitingCalls waiting;
};

// Answers a unary call inline: the caller's scope, then `call`.
template <typename Call>
grpc::ServerUnaryReactor* Answer(grpc::CallbackServerContext* context, Calls* calls, absl::string_view method,
                                 Call call) {
  const UnaryCall unary(calls->metrics, method);
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  grpc::Status allowed = calls->access->Check(*context, method);
  unary.Finish(reactor, allowed.ok() ? ToGrpcStatus(call()) : allowed);
  return reactor;
}

// Answers a call that may block on the pool of calls that wait, after the
// scope check.
template <typename Call>
grpc::ServerUnaryReactor* AnswerOffThread(grpc::CallbackServerContext* context, Calls* calls,
                                          absl::string_view method, Call call) {
  const UnaryCall unary(calls->metrics, method);
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (grpc::Status allowed = calls->access->Check(*context, method); !allowed.ok()) {
    unary.Finish(reactor, allowed);
    return reactor;
  }
  calls->waiting.Answer(reactor, unary, std::move(call));
  return reactor;
}

// One adapter line per unary RPC: `api->Method(*request, response)` under
// the scope of "/edgepass.v1.<Service>/<Method>" (one string literal);
// answered inline, or on the blocking pool for calls that wait on a store.
#define EDGEPASS_UNARY(Service, Method, Request, Response, api)                                       \
  grpc::ServerUnaryReactor* Method(grpc::CallbackServerContext* c, const Request* q, Response* r) override { \
    return Answer(c, calls_, "/edgepass.v1." #Service "/" #Method, [&] { return api->Method(*q, r); });       \
  }
#define EDGEPASS_UNARY_BLOCKING(Service, Method, Request, Response, api)                                \
  grpc::ServerUnaryReactor* Method(grpc::CallbackServerContext* c, const Request* q, Response* r) override { \
    return AnswerOffThread(c, calls_, "/edgepass.v1." #Service "/" #Method,                                  \
                           [api = api, q, r] { return api->Method(*q, r); });                               \
  }

// An arena whose first block is `block` (a holder's member, a stack array):
// a call that fits allocates nothing for its messages.
google::protobuf::ArenaOptions ArenaOptionsOn(char* block, size_t size) {
  google::protobuf::ArenaOptions options;
  options.initial_block = block;
  options.initial_block_size = size;
  return options;
}

// Request and reply of one call on one protobuf arena whose first block
// comes with the holder: one allocation per call instead of one per field.
template <typename Request, typename Response>
class ArenaAllocator final : public grpc::MessageAllocator<Request, Response> {
 public:
  grpc::MessageHolder<Request, Response>* AllocateMessages() override { return new Holder(); }

 private:
  class Holder final : public grpc::MessageHolder<Request, Response> {
   public:
    Holder() : arena_(ArenaOptionsOn(block_, sizeof(block_))) {
      this->set_request(google::protobuf::Arena::CreateMessage<Request>(&arena_));
      this->set_response(google::protobuf::Arena::CreateMessage<Response>(&arena_));
    }
    void Release() override { delete this; }

   private:
    // The messages: an issue call uses about 1 KiB of arena (strings, the
    // policy, cleanup entries), so one block holds it.
    alignas(8) char block_[1536];
    google::protobuf::Arena arena_;
  };
};

// Parses a raw call's request on `arena` with gRPC's own protobuf reader
// (over the buffer's slices, however many); INVALID_ARGUMENT when the bytes
// are not a `Message`.
template <typename Message>
absl::StatusOr<Message*> ParseRequest(const grpc::ByteBuffer& bytes, google::protobuf::Arena* arena) {
  auto* message = google::protobuf::Arena::CreateMessage<Message>(arena);
  grpc::ByteBuffer consumed(bytes);  // Deserialize empties what it reads; this shares the slices
  if (!grpc::SerializationTraits<Message>::Deserialize(&consumed, message).ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("request: not a valid ", Message::descriptor()->full_name(), " message"));
  }
  return message;
}

class PlaybackGrpc final
    : public v1::PlaybackService::WithRawCallbackMethod_IssuePlayback<v1::PlaybackService::CallbackService> {
 public:
  PlaybackGrpc(const PlaybackApi* api, Calls* calls) : api_(api), calls_(calls) {
    SetMessageAllocatorFor_IssueToken(&issue_token_messages_);
  }
  // The hot path, raw: the request read straight from its bytes when it has
  // the common shape (playback_request.h), else parsed on a stack-first
  // arena; the reply written as wire bytes straight from the issued playback
  // (playback_reply.h).
  grpc::ServerUnaryReactor* IssuePlayback(grpc::CallbackServerContext* c, const grpc::ByteBuffer* q,
                                          grpc::ByteBuffer* r) override {
    return Answer(c, calls_, "/edgepass.v1.PlaybackService/IssuePlayback", [&]() -> absl::Status {
      EDGEPASS_ASSIGN_OR_RETURN(const IssuedPlayback issued, Issue(*q));
      // The slice takes the bytes over: no second copy of the reply.
      auto* wire = new std::string();
      AppendIssuePlaybackResponse(issued, wire);
      grpc::Slice slice(wire->data(), wire->size(), +[](void* s) { delete static_cast<std::string*>(s); }, wire);
      *r = grpc::ByteBuffer(&slice, 1);
      return absl::OkStatus();
    });
  }
  EDGEPASS_UNARY(PlaybackService, IssueToken, v1::IssueTokenRequest, v1::IssueTokenResponse, api_)

 private:
  // The request read fast when it is one flat buffer of the common shape,
  // else by protobuf on a stack-first arena (which names what is wrong).
  absl::StatusOr<IssuedPlayback> Issue(const grpc::ByteBuffer& bytes) const {
    grpc::Slice slice;
    if (bytes.TrySingleSlice(&slice).ok() || bytes.DumpToSingleSlice(&slice).ok()) {
      PlaybackRequest request;
      if (DecodeCommonIssuePlaybackRequest(
              absl::string_view(reinterpret_cast<const char*>(slice.begin()), slice.size()), &request)) {
        return api_->IssuePlayback(request);
      }
    }
    alignas(8) char block[512];
    google::protobuf::Arena arena(ArenaOptionsOn(block, sizeof(block)));
    EDGEPASS_ASSIGN_OR_RETURN(const v1::IssuePlaybackRequest* request,
                              ParseRequest<v1::IssuePlaybackRequest>(bytes, &arena));
    return api_->IssuePlayback(*request);
  }

  // IssueToken is on the hot path too: its messages live on an arena.
  ArenaAllocator<v1::IssueTokenRequest, v1::IssueTokenResponse> issue_token_messages_;
  const PlaybackApi* const api_;
  Calls* const calls_;
};

class CatalogGrpc final : public v1::CatalogService::CallbackService {
 public:
  CatalogGrpc(const CatalogApi* api, Calls* calls) : api_(api), calls_(calls) {}
  EDGEPASS_UNARY_BLOCKING(CatalogService, PutAsset, v1::PutAssetRequest, v1::Asset, api_)
  EDGEPASS_UNARY_BLOCKING(CatalogService, GetAsset, v1::GetAssetRequest, v1::Asset, api_)
  EDGEPASS_UNARY_BLOCKING(CatalogService, ListAssets, v1::ListAssetsRequest, v1::ListAssetsResponse, api_)
  EDGEPASS_UNARY_BLOCKING(CatalogService, DeleteAsset, v1::DeleteAssetRequest, google::protobuf::Empty, api_)
  EDGEPASS_UNARY_BLOCKING(CatalogService, PutPolicy, v1::PutPolicyRequest, v1::NamedPolicy, api_)
  EDGEPASS_UNARY_BLOCKING(CatalogService, GetPolicy, v1::GetPolicyRequest, v1::NamedPolicy, api_)
  EDGEPASS_UNARY_BLOCKING(CatalogService, ListPolicies, v1::ListPoliciesRequest, v1::ListPoliciesResponse, api_)
  EDGEPASS_UNARY_BLOCKING(CatalogService, DeletePolicy, v1::DeletePolicyRequest, google::protobuf::Empty, api_)

 private:
  const CatalogApi* const api_;
  Calls* const calls_;
};

class SessionGrpc final : public v1::SessionService::CallbackService {
 public:
  SessionGrpc(const SessionApi* api, Calls* calls) : api_(api), calls_(calls) {}
  EDGEPASS_UNARY_BLOCKING(SessionService, RevokeSession, v1::RevokeSessionRequest, v1::RevokedSession, api_)
  EDGEPASS_UNARY_BLOCKING(SessionService, ReportSession, v1::ReportSessionRequest, v1::RevokedSession, api_)
  EDGEPASS_UNARY_BLOCKING(SessionService, ReportSessions, v1::ReportSessionsRequest, v1::ReportSessionsResponse, api_)
  EDGEPASS_UNARY_BLOCKING(SessionService, ListRevokedSessions, v1::ListRevokedSessionsRequest,
                 v1::ListRevokedSessionsResponse, api_)
  EDGEPASS_UNARY_BLOCKING(SessionService, RestoreSession, v1::RestoreSessionRequest, google::protobuf::Empty, api_)

 private:
  const SessionApi* const api_;
  Calls* const calls_;
};

class KeyGrpc final : public v1::KeyService::CallbackService {
 public:
  KeyGrpc(const KeyApi* api, Calls* calls) : api_(api), calls_(calls) {}
  EDGEPASS_UNARY_BLOCKING(KeyService, PutCloudFrontKey, v1::PutCloudFrontKeyRequest, v1::CloudFrontKey, api_)
  EDGEPASS_UNARY_BLOCKING(KeyService, RotateKeys, v1::RotateKeysRequest, v1::RotateKeysResponse, api_)
  EDGEPASS_UNARY_BLOCKING(KeyService, GetKeyStatus, v1::GetKeyStatusRequest, v1::KeyStatus, api_)
  EDGEPASS_UNARY_BLOCKING(KeyService, RevokeKey, v1::RevokeKeyRequest, v1::KeyStatus, api_)

 private:
  const KeyApi* const api_;
  Calls* const calls_;
};

constexpr absl::string_view kSubscribe = "/edgepass.v1.EdgeSyncService/Subscribe";

// One Subscribe stream: pulls from its EdgeSubscription whenever no write is
// in flight (after each write, and when the hub wakes it). Deletes itself
// when gRPC is done with it.
class SubscribeReactor final : public grpc::ServerWriteReactor<v1::EdgeUpdate> {
 public:
  SubscribeReactor(EdgeSyncHub* hub, const GrpcAccess* access, grpc::CallbackServerContext* context,
                   const v1::SubscribeRequest& request)
      : hub_(hub) {
    if (grpc::Status allowed = access->Check(*context, kSubscribe); !allowed.ok()) {
      End(allowed);
      return;
    }
    absl::StatusOr<std::shared_ptr<EdgeSubscription>> sub =
        hub->Subscribe({.validator_id = request.validator_id(),
                        .peer = context->peer(),
                        .have_version = request.have_version(),
                        .have_keyring_fingerprint = request.have_keyring_fingerprint()},
                       [this] { Pump(); });
    if (!sub.ok()) {
      End(ToGrpcStatus(sub.status()));
      return;
    }
    {
      absl::MutexLock lock(&mu_);
      subscription_ = *std::move(sub);
    }
    Pump();
  }

  void OnWriteDone(bool ok) override {
    {
      absl::MutexLock lock(&mu_);
      writing_ = false;
    }
    if (!ok) {
      End(grpc::Status::OK);  // the validator went away
      return;
    }
    Pump();
  }
  void OnCancel() override { End(grpc::Status::OK); }
  void OnDone() override {
    std::shared_ptr<EdgeSubscription> sub;
    {
      absl::MutexLock lock(&mu_);
      sub = subscription_;
    }
    if (sub != nullptr) hub_->Unsubscribe(sub);  // no Pump() after this returns
    delete this;
  }

 private:
  // Starts the next write when none is in flight and there is something to send.
  void Pump() {
    bool start_write = false;
    {
      absl::MutexLock lock(&mu_);
      if (writing_ || finished_ || subscription_ == nullptr) return;
      std::optional<EdgeMessage> next = subscription_->Pull();
      if (!next.has_value()) {
        if (!subscription_->ended()) return;
        finished_ = true;
      } else {
        update_.Clear();
        EdgeMessageToProto(*next, &update_);
        writing_ = start_write = true;
      }
    }
    // Outside the lock: gRPC may run a reaction before these return.
    if (start_write) {
      StartWrite(&update_);
    } else {
      Finish(grpc::Status::OK);  // the replica is shutting down
    }
  }

  void End(const grpc::Status& status) {
    {
      absl::MutexLock lock(&mu_);
      if (finished_) return;
      finished_ = true;
    }
    Finish(status);
  }

  EdgeSyncHub* const hub_;
  absl::Mutex mu_;
  std::shared_ptr<EdgeSubscription> subscription_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  v1::EdgeUpdate update_;  // the write in flight
};

class EdgeSyncGrpc final : public v1::EdgeSyncService::CallbackService {
 public:
  EdgeSyncGrpc(const EdgeSyncApi* api, EdgeSyncHub* hub, Calls* calls) : api_(api), hub_(hub), calls_(calls) {}
  grpc::ServerWriteReactor<v1::EdgeUpdate>* Subscribe(grpc::CallbackServerContext* c,
                                                      const v1::SubscribeRequest* q) override {
    return new SubscribeReactor(hub_, calls_->access, c, *q);
  }
  EDGEPASS_UNARY(EdgeSyncService, Acknowledge, v1::AcknowledgeRequest, v1::AcknowledgeResponse, api_)
  EDGEPASS_UNARY(EdgeSyncService, ListValidators, v1::ListValidatorsRequest, v1::ListValidatorsResponse, api_)

 private:
  const EdgeSyncApi* const api_;
  EdgeSyncHub* const hub_;
  Calls* const calls_;
};

#undef EDGEPASS_UNARY
#undef EDGEPASS_UNARY_BLOCKING

}  // namespace

struct GrpcServices::Services {
  Services(const GrpcApis& apis, const GrpcAccess* access)
      : calls{.access = access, .metrics = apis.metrics, .waiting{apis.blocking, apis.max_waiting_calls}},
        playback(apis.playback, &calls),
        catalog(apis.catalog, &calls),
        sessions(apis.sessions, &calls),
        edge_sync(apis.edge_sync, apis.hub, &calls),
        keys(apis.keys, &calls) {}

  Calls calls;
  PlaybackGrpc playback;
  CatalogGrpc catalog;
  SessionGrpc sessions;
  EdgeSyncGrpc edge_sync;
  KeyGrpc keys;
};

GrpcServices::GrpcServices(GrpcApis apis, const GrpcAccess* access)
    : services_(std::make_unique<Services>(apis, access)) {}

GrpcServices::~GrpcServices() = default;

void GrpcServices::RegisterWith(grpc::ServerBuilder& builder) {
  builder.RegisterService(&services_->playback);
  builder.RegisterService(&services_->catalog);
  builder.RegisterService(&services_->sessions);
  builder.RegisterService(&services_->edge_sync);
  builder.RegisterService(&services_->keys);
}

}  // namespace edgepass::server
