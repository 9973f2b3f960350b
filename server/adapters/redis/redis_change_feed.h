// ChangeFeed over Redis pub/sub: Publish() is a PUBLISH on
// "<key_prefix>changes" with the kind's name; a subscriber thread with its own
// connection delivers every replica's notifications to local listeners.
//
//   RedisChangeFeed feed(*redis);
//   feed.Subscribe([&](ChangeKind kind) { if (kind == ChangeKind::kCatalog) Reload(); });
//   feed.Publish(ChangeKind::kCatalog);
#ifndef EDGEPASS_SERVER_ADAPTERS_REDIS_REDIS_CHANGE_FEED_H_
#define EDGEPASS_SERVER_ADAPTERS_REDIS_REDIS_CHANGE_FEED_H_

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "server/adapters/redis/redis_client.h"
#include "server/state/change_feed.h"

namespace edgepass::server {

// Thread-safe. The subscriber thread (re)connects with the client's connect
// timeout and a backoff (reconnect_backoff doubling up to
// max_reconnect_backoff); after each successful SUBSCRIBE, listeners are told
// every kind changed, since notifications may have been missed meanwhile.
// In Sentinel mode a lost subscription reconnects to the primary the
// sentinels name then, and a subscription on a primary the client has moved
// away from (a failover of a node that still runs) is replaced within 200 ms,
// so the feed follows a failover (and listeners reload).
// The subscriber thread and its connection start with the first Subscribe()
// (a feed used only to publish has none).
// The destructor stops the thread promptly (within the connect timeout).
class RedisChangeFeed : public ChangeFeed {
 public:
  // `redis` must outlive the feed.
  explicit RedisChangeFeed(RedisClient& redis);
  ~RedisChangeFeed() override;
  RedisChangeFeed(const RedisChangeFeed&) = delete;
  RedisChangeFeed& operator=(const RedisChangeFeed&) = delete;

  // Best effort: a failed PUBLISH is counted in publish_failures(), not
  // retried (other replicas catch up on their next reconnect or reload).
  void Publish(ChangeKind kind) override;
  void Subscribe(Listener listener) override;

  const std::string& channel() const { return channel_; }
  int64_t publish_failures() const { return publish_failures_.load(std::memory_order_relaxed); }
  // Successful (re)subscriptions so far (tests, metrics).
  int64_t subscriptions() const { return subscriptions_.load(std::memory_order_relaxed); }

 private:
  void Run();
  // Reads messages until the connection fails, the feed stops or (Sentinel
  // mode) the client's failover_count() is no longer `failovers`.
  void ReadMessages(struct redisContext* context, int64_t failovers);
  void Deliver(ChangeKind kind);

  RedisClient& redis_;
  const std::string channel_;
  int wake_fd_ = -1;  // eventfd: wakes the subscriber thread to stop

  absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;

  absl::Mutex listeners_mu_;
  std::vector<Listener> listeners_ ABSL_GUARDED_BY(listeners_mu_);

  std::atomic<int64_t> publish_failures_{0};
  std::atomic<int64_t> subscriptions_{0};
  std::thread thread_ ABSL_GUARDED_BY(listeners_mu_);
};

}  // namespace edgepass::server

#endif  // EDGEPASS_SERVER_ADAPTERS_REDIS_REDIS_CHANGE_FEED_H_
