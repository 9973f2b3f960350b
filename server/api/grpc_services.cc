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
#include "server/app/server_metrics.h"

namespace edgepass::server {
namespace {

// Answers a unary call inline: the caller's scope, then `call`. With
// `record_in`, also records the call there (edgepass_grpc_requests_total,
// edgepass_grpc_request_duration_seconds from here to the status), for the
// methods the metrics interceptor leaves alone (GrpcServices::RecordsCallsOf).
template <typename Call>
grpc::ServerUnaryReactor* Answer(grpc::CallbackServerContext* context, const GrpcAccess* access,
                                 absl::string_view method, Call call, ServerMetrics* record_in = nullptr) {
  const auto start =
      record_in != nullptr ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point();
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  grpc::Status allowed = access->Check(*context, method);
  const grpc::Status status = allowed.ok() ? ToGrpcStatus(call()) : allowed;
  if (record_in != nullptr) {
    record_in->RecordGrpcRequest(method, status.error_code(), absl::FromChrono(std::chrono::steady_clock::now() - start),
                                 /*unary=*/true);
  }
  reactor->Finish(status);
  return reactor;
}

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
  void Answer(grpc::ServerUnaryReactor* reactor, Call call) {
    int count = count_.load(std::memory_order_relaxed);
    do {
      if (count >= max_) {
        reactor->Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                     absl::StrCat("too many calls waiting (", max_, "); retry")));
        return;
      }
    } while (!count_.compare_exchange_weak(count, count + 1, std::memory_order_relaxed));
    pool_->Run([this, reactor, call] {
      grpc::Status status = ToGrpcStatus(call());
      count_.fetch_sub(1, std::memory_order_relaxed);  // before Finish: a retry right after it is let in
      reactor->Finish(status);
    });
  }

 private:
  BlockingPool* const pool_;
  const int max_;
  std::atomic<int> count_{0};
};

// Answers a call that may block on `waiting`'s pool, after the scope check.
template <typename Call>
grpc::ServerUnaryReactor* AnswerOffThread(grpc::CallbackServerContext* context, const GrpcAccess* access,
                                          absl::string_view method, WaitingCalls* waiting, Call call) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (grpc::Status allowed = access->Check(*context, method); !allowed.ok()) {
    reactor->Finish(allowed);
    return reactor;
  }
  waiting->Answer(reactor, std::move(call));
  return reactor;
}

// One adapter line per unary RPC: `api->Method(*request, response)` under
// the scope of "/edgepass.v1.<Service>/<Method>" (one string literal),
// answered inline, or on the blocking pool when the rule table says the call
// may wait on a store (RpcMayWait, looked up once per method). A service
// using it has `api_`, `access_` and `waiting_`.
#define EDGEPASS_UNARY(Service, Method, Request, Response)                                                   \
  grpc::ServerUnaryReactor* Method(grpc::CallbackServerContext* c, const Request* q, Response* r) override { \
    static constexpr absl::string_view kMethod = "/edgepass.v1." #Service "/" #Method;                       \
    static const bool waits = RpcMayWait(kMethod);                                                           \
    if (waits) {                                                                                             \
      return AnswerOffThread(c, access_, kMethod, waiting_,                                                  \
                             [api = api_, q, r] { return api->Method(*q, r); });                             \
    }                                                                                                        \
    return Answer(c, access_, kMethod, [&] { return api_->Method(*q, r); });                                 \
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
  PlaybackGrpc(const PlaybackApi* api, const GrpcAccess* access, WaitingCalls* waiting,
               ServerMetrics* metrics)
      : api_(api), access_(access), waiting_(waiting), metrics_(metrics) {
    SetMessageAllocatorFor_IssueToken(&issue_token_messages_);
  }
  // The hot path, raw: the request read straight from its bytes when it has
  // the common shape (playback_request.h), else parsed on a stack-first
  // arena; the reply written as wire bytes straight from the issued playback
  // (playback_reply.h). Recorded in the metrics here, without gRPC's
  // interception machinery, which cost every call about 15% of the server's
  // CPU (docs/benchmarks.md, tenth pass); a request it cannot parse is
  // answered here too, so it is counted.
  grpc::ServerUnaryReactor* IssuePlayback(grpc::CallbackServerContext* c, const grpc::ByteBuffer* q,
                                          grpc::ByteBuffer* r) override {
    return Answer(c, access_, GrpcServices::kIssuePlayback, [&]() -> absl::Status {
      EDGEPASS_ASSIGN_OR_RETURN(const IssuedPlayback issued, Issue(*q));
      // The slice takes the bytes over: no second copy of the reply.
      auto* wire = new std::string();
      AppendIssuePlaybackResponse(issued, wire);
      grpc::Slice slice(wire->data(), wire->size(), +[](void* s) { delete static_cast<std::string*>(s); }, wire);
      *r = grpc::ByteBuffer(&slice, 1);
      return absl::OkStatus();
    }, metrics_);
  }
  EDGEPASS_UNARY(PlaybackService, IssueToken, v1::IssueTokenRequest, v1::IssueTokenResponse)

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
  const GrpcAccess* const access_;
  WaitingCalls* const waiting_;
  ServerMetrics* const metrics_;
};

class CatalogGrpc final : public v1::CatalogService::CallbackService {
 public:
  CatalogGrpc(const CatalogApi* api, const GrpcAccess* access, WaitingCalls* waiting)
      : api_(api), access_(access), waiting_(waiting) {}
  EDGEPASS_UNARY(CatalogService, PutAsset, v1::PutAssetRequest, v1::Asset)
  EDGEPASS_UNARY(CatalogService, GetAsset, v1::GetAssetRequest, v1::Asset)
  EDGEPASS_UNARY(CatalogService, ListAssets, v1::ListAssetsRequest, v1::ListAssetsResponse)
  EDGEPASS_UNARY(CatalogService, DeleteAsset, v1::DeleteAssetRequest, google::protobuf::Empty)
  EDGEPASS_UNARY(CatalogService, PutPolicy, v1::PutPolicyRequest, v1::NamedPolicy)
  EDGEPASS_UNARY(CatalogService, GetPolicy, v1::GetPolicyRequest, v1::NamedPolicy)
  EDGEPASS_UNARY(CatalogService, ListPolicies, v1::ListPoliciesRequest, v1::ListPoliciesResponse)
  EDGEPASS_UNARY(CatalogService, DeletePolicy, v1::DeletePolicyRequest, google::protobuf::Empty)

 private:
  const CatalogApi* const api_;
  const GrpcAccess* const access_;
  WaitingCalls* const waiting_;
};

class SessionGrpc final : public v1::SessionService::CallbackService {
 public:
  SessionGrpc(const SessionApi* api, const GrpcAccess* access, WaitingCalls* waiting)
      : api_(api), access_(access), waiting_(waiting) {}
  EDGEPASS_UNARY(SessionService, RevokeSession, v1::RevokeSessionRequest, v1::RevokedSession)
  EDGEPASS_UNARY(SessionService, ReportSession, v1::ReportSessionRequest, v1::RevokedSession)
  EDGEPASS_UNARY(SessionService, ReportSessions, v1::ReportSessionsRequest, v1::ReportSessionsResponse)
  EDGEPASS_UNARY(SessionService, ListRevokedSessions, v1::ListRevokedSessionsRequest,
                 v1::ListRevokedSessionsResponse)
  EDGEPASS_UNARY(SessionService, RestoreSession, v1::RestoreSessionRequest, google::protobuf::Empty)

 private:
  const SessionApi* const api_;
  const GrpcAccess* const access_;
  WaitingCalls* const waiting_;
};

class KeyGrpc final : public v1::KeyService::CallbackService {
 public:
  KeyGrpc(const KeyApi* api, const GrpcAccess* access, WaitingCalls* waiting)
      : api_(api), access_(access), waiting_(waiting) {}
  EDGEPASS_UNARY(KeyService, PutCloudFrontKey, v1::PutCloudFrontKeyRequest, v1::CloudFrontKey)
  EDGEPASS_UNARY(KeyService, RotateKeys, v1::RotateKeysRequest, v1::RotateKeysResponse)
  EDGEPASS_UNARY(KeyService, GetKeyStatus, v1::GetKeyStatusRequest, v1::KeyStatus)
  EDGEPASS_UNARY(KeyService, RevokeKey, v1::RevokeKeyRequest, v1::KeyStatus)

 private:
  const KeyApi* const api_;
  const GrpcAccess* const access_;
  WaitingCalls* const waiting_;
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
  EdgeSyncGrpc(const EdgeSyncApi* api, EdgeSyncHub* hub, const GrpcAccess* access, WaitingCalls* waiting)
      : api_(api), hub_(hub), access_(access), waiting_(waiting) {}
  grpc::ServerWriteReactor<v1::EdgeUpdate>* Subscribe(grpc::CallbackServerContext* c,
                                                      const v1::SubscribeRequest* q) override {
    return new SubscribeReactor(hub_, access_, c, *q);
  }
  EDGEPASS_UNARY(EdgeSyncService, Acknowledge, v1::AcknowledgeRequest, v1::AcknowledgeResponse)
  EDGEPASS_UNARY(EdgeSyncService, ListValidators, v1::ListValidatorsRequest, v1::ListValidatorsResponse)

 private:
  const EdgeSyncApi* const api_;
  EdgeSyncHub* const hub_;
  const GrpcAccess* const access_;
  WaitingCalls* const waiting_;
};

#undef EDGEPASS_UNARY

}  // namespace

struct GrpcServices::Services {
  Services(const GrpcApis& apis, const GrpcAccess* access)
      : waiting(apis.blocking, apis.max_waiting_calls),
        playback(apis.playback, access, &waiting, apis.metrics),
        catalog(apis.catalog, access, &waiting),
        sessions(apis.sessions, access, &waiting),
        edge_sync(apis.edge_sync, apis.hub, access, &waiting),
        keys(apis.keys, access, &waiting) {}

  WaitingCalls waiting;  // the services' calls on the blocking pool
  PlaybackGrpc playback;
  CatalogGrpc catalog;
  SessionGrpc sessions;
  EdgeSyncGrpc edge_sync;
  KeyGrpc keys;
};

GrpcServices::GrpcServices(GrpcApis apis, const GrpcAccess* access)
    : services_(std::make_unique<Services>(apis, access)) {}

GrpcServices::~GrpcServices() = default;

bool GrpcServices::RecordsCallsOf(absl::string_view method) { return method == kIssuePlayback; }

void GrpcServices::RegisterWith(grpc::ServerBuilder& builder) {
  builder.RegisterService(&services_->playback);
  builder.RegisterService(&services_->catalog);
  builder.RegisterService(&services_->sessions);
  builder.RegisterService(&services_->edge_sync);
  builder.RegisterService(&services_->keys);
}

}  // namespace edgepass::server
