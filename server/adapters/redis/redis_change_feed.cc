#include "server/adapters/redis/redis_change_feed.h"

#include <hiredis/hiredis.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <optional>

#include "absl/strings/str_cat.h"

namespace edgepass::server {
namespace {

// Sentinel mode: how often the subscriber checks whether the client moved to
// a new primary.
constexpr int kFailoverCheckMillis = 200;

constexpr ChangeKind kAllKinds[] = {ChangeKind::kCatalog, ChangeKind::kSessions,
                                    ChangeKind::kKeyring};

std::optional<ChangeKind> KindFromName(absl::string_view name) {
  for (ChangeKind kind : kAllKinds) {
    if (ChangeKindName(kind) == name) return kind;
  }
  return std::nullopt;
}

// The kind named by a pub/sub push ["message", channel, payload], if any.
std::optional<ChangeKind> KindOfMessage(const redisReply* r) {
  if (r == nullptr || r->type != REDIS_REPLY_ARRAY || r->elements != 3) return std::nullopt;
  const redisReply* type = r->element[0];
  const redisReply* payload = r->element[2];
  if (type->type != REDIS_REPLY_STRING || absl::string_view(type->str, type->len) != "message" ||
      payload->type != REDIS_REPLY_STRING) {
    return std::nullopt;
  }
  return KindFromName(absl::string_view(payload->str, payload->len));
}

}  // namespace

RedisChangeFeed::RedisChangeFeed(RedisClient& redis)
    : redis_(redis), channel_(redis.Key("changes")) {
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
}

RedisChangeFeed::~RedisChangeFeed() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (wake_fd_ >= 0) {
    uint64_t one = 1;
    ssize_t ignored = ::write(wake_fd_, &one, sizeof(one));
    (void)ignored;
  }
  std::thread thread;
  {
    absl::MutexLock lock(&listeners_mu_);
    thread = std::move(thread_);
  }
  if (thread.joinable()) thread.join();
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

void RedisChangeFeed::Publish(ChangeKind kind) {
  absl::StatusOr<RedisReply> r = redis_.Command({"PUBLISH", channel_, ChangeKindName(kind)});
  if (!r.ok() || r->is_error()) publish_failures_.fetch_add(1, std::memory_order_relaxed);
}

void RedisChangeFeed::Subscribe(Listener listener) {
  absl::MutexLock lock(&listeners_mu_);
  listeners_.push_back(std::move(listener));
  // The subscriber starts with the first listener, so that listener is
  // told every kind changed once subscribed.
  if (!thread_.joinable()) thread_ = std::thread([this] { Run(); });
}

void RedisChangeFeed::Deliver(ChangeKind kind) {
  std::vector<Listener> listeners;
  {
    absl::MutexLock lock(&listeners_mu_);
    listeners = listeners_;
  }
  for (const Listener& listener : listeners) listener(kind);
}

void RedisChangeFeed::Run() {
  const RedisOptions& options = redis_.options();
  absl::Duration backoff = options.reconnect_backoff;
  auto wait_or_stop = [&](absl::Duration d) {
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithTimeout(absl::Condition(&stop_), d);
    return stop_;
  };
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (stop_) return;
    }
    absl::StatusOr<redisContext*> context = redis_.Connect();
    // Sentinel mode: when the client moves to a new primary, this
    // subscription (on the old one, which may still run) is left for one
    // there.
    const int64_t failovers = redis_.failover_count();
    if (context.ok()) {
      const char* argv[] = {"SUBSCRIBE", channel_.c_str()};
      const size_t lens[] = {9, channel_.size()};
      auto* reply = static_cast<redisReply*>(redisCommandArgv(*context, 2, argv, lens));
      bool subscribed = reply != nullptr && reply->type == REDIS_REPLY_ARRAY && reply->elements == 3;
      if (reply != nullptr) freeReplyObject(reply);
      if (subscribed) {
        backoff = options.reconnect_backoff;
        subscriptions_.fetch_add(1, std::memory_order_relaxed);
        for (ChangeKind kind : kAllKinds) Deliver(kind);
        ReadMessages(*context, failovers);
      }
      redisFree(*context);
      // Lost (or never subscribed): perhaps a failover, so in Sentinel mode
      // the next connect asks the sentinels where the primary is now.
      redis_.SuspectPrimary();
    }
    if (wait_or_stop(backoff)) return;
    backoff = std::min(backoff * 2, options.max_reconnect_backoff);
  }
}

void RedisChangeFeed::ReadMessages(redisContext* context, int64_t failovers) {
  const int poll_millis = redis_.sentinel_mode() ? kFailoverCheckMillis : -1;
  while (true) {
    // Deliver whatever is already buffered.
    while (true) {
      void* raw = nullptr;
      if (redisGetReplyFromReader(context, &raw) != REDIS_OK) return;
      if (raw == nullptr) break;
      std::optional<ChangeKind> kind = KindOfMessage(static_cast<redisReply*>(raw));
      freeReplyObject(raw);
      if (kind.has_value()) Deliver(*kind);
    }
    struct pollfd fds[2] = {{context->fd, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    int n = ::poll(fds, 2, poll_millis);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (redis_.failover_count() != failovers) return;  // resubscribe on the new primary
    if (fds[1].revents != 0) return;  // stopping
    if (fds[0].revents != 0 && redisBufferRead(context) != REDIS_OK) return;  // connection lost
  }
}

}  // namespace edgepass::server
