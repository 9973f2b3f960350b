// A bounded pool of blocking hiredis connections to one Redis server (a fixed
// address, or the primary that Redis Sentinel names), with connect and
// command timeouts, reconnect with backoff, failover following, and an owned
// reply type. Everything Redis-specific in the state adapters goes through it.
//
//   EDGEPASS_ASSIGN_OR_RETURN(std::unique_ptr<RedisClient> redis, RedisClient::Create(options));
//   absl::StatusOr<RedisReply> r = redis->Command({"GET", "edgepass:catalog"});
//   EDGEPASS_ASSIGN_OR_RETURN(RedisClient::Connection c, redis->Acquire());  // WATCH/MULTI/EXEC
#ifndef EDGEPASS_SERVER_ADAPTERS_REDIS_REDIS_CLIENT_H_
#define EDGEPASS_SERVER_ADAPTERS_REDIS_REDIS_CLIENT_H_

#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "server/adapters/redis/redis_options.h"
#include "server/adapters/redis/redis_reply.h"

struct redisContext;

namespace edgepass::server {

// Thread-safe. Connections are opened lazily (a Redis that is down at start
// is not an error here) and at most options.pool_size exist at once. A
// connection that fails (I/O error, timeout, protocol error) is closed and
// reopened on its next use; after a failed connect, new connects wait
// options.reconnect_backoff (doubling) and calls fail fast meanwhile.
// Creating a client sets SIGPIPE to ignored for the process, so a write to a
// connection Redis closed returns an error instead of killing the process.
//
// Sentinel mode (options.sentinels set): the primary is discovered before the
// first connect (DiscoverPrimary()) and again after any connection error or
// a READONLY / MASTERDOWN reply, i.e. after a failover; every new connection
// checks with ROLE that it reached a primary. A watcher thread also asks a
// sentinel every options.sentinel_poll_interval, so a failover is followed
// even while the old primary still answers (until the sentinels demote it, it
// would accept writes that are then lost). When the discovered primary
// changes, pooled connections to the old one are closed instead of reused.
// Once the watcher has reached a primary, a reconnect backoff still running
// ends: calls resume then, not when the backoff would have run out.
// A command whose connection fails gets UNAVAILABLE, never a silent success:
// a write in flight when the primary died may or may not have been applied.
class RedisClient {
 public:
  // One pooled connection, held exclusively until destroyed (then returned
  // to the pool). Use it for commands that must share a connection
  // (WATCH ... MULTI ... EXEC). A transaction left open (WATCH or MULTI
  // without EXEC/DISCARD/UNWATCH) is discarded when it is returned.
  class Connection {
   public:
    Connection(Connection&& other) noexcept;
    Connection& operator=(Connection&&) = delete;
    ~Connection();

    // Sends one command (binary-safe arguments) and reads its reply.
    // UNAVAILABLE "redis HOST:PORT: NAME: <error>" when the connection fails
    // (it is closed then; a command in flight may or may not have been
    // applied), and for a READONLY, MASTERDOWN or LOADING error reply (the
    // node is not, or not yet, a usable primary: the connection is closed and
    // in Sentinel mode the primary is rediscovered). Any other error reply
    // from Redis is returned as a kError reply.
    absl::StatusOr<RedisReply> Command(absl::Span<const std::string> argv);
    absl::StatusOr<RedisReply> Command(std::initializer_list<absl::string_view> argv);

   private:
    friend class RedisClient;
    Connection(RedisClient* client, size_t slot) : client_(client), slot_(slot) {}
    absl::StatusOr<RedisReply> CommandArgv(const std::vector<const char*>& args,
                                           const std::vector<size_t>& lens);

    RedisClient* client_;
    size_t slot_;
    bool watching_ = false;
    bool in_multi_ = false;
    bool broken_ = false;
  };

  // INVALID_ARGUMENT (see ValidateRedisOptions). Does not connect.
  static absl::StatusOr<std::unique_ptr<RedisClient>> Create(const RedisOptions& options);
  ~RedisClient();
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  // A connection of the pool, connected. Waits at most
  // options.acquire_timeout for one to be free; UNAVAILABLE naming the
  // address when none frees up, when connecting fails, or during the
  // reconnect backoff; PERMISSION_DENIED when Redis refuses the password.
  absl::StatusOr<Connection> Acquire();

  // Acquire() + Connection::Command() in one call.
  absl::StatusOr<RedisReply> Command(absl::Span<const std::string> argv);
  absl::StatusOr<RedisReply> Command(std::initializer_list<absl::string_view> argv);

  // Command() for a read (a command with no effect): when the first attempt
  // fails with UNAVAILABLE (a failover closed the connection), tries once
  // more on a fresh connection, to the new primary if one was discovered.
  absl::StatusOr<RedisReply> Read(std::initializer_list<absl::string_view> argv);

  // After a successful write, waits for options.wait_replicas replica
  // acknowledgements (Redis WAIT) on `connection`; OK at once when
  // wait_replicas is 0. UNAVAILABLE when fewer acknowledged in time: the
  // message says the write is stored on the primary but not on enough
  // replicas (a failover may lose it; repeating the write is safe).
  absl::Status WaitForReplicas(Connection& connection);

  // Sentinel mode: asks each sentinel in turn for the primary of
  // options.sentinel_master and checks with ROLE that it is one; the first
  // that is becomes the client's primary, and its HOST:PORT is returned.
  // UNAVAILABLE naming the master and what each sentinel answered when none
  // named a reachable primary. Not in Sentinel mode: options.address.
  absl::StatusOr<std::string> DiscoverPrimary();
  bool sentinel_mode() const { return !sentinels_.empty(); }
  // HOST:PORT of the primary in use (Sentinel mode: the last discovered, ""
  // before the first discovery).
  std::string primary_address() const;
  // Tells the client that a connection to the primary failed outside the
  // pool (the change feed's subscriber): in Sentinel mode the next connect
  // rediscovers the primary. Pool connections do this themselves.
  void SuspectPrimary() const;
  // Times the discovered primary changed (a followed failover).
  int64_t failover_count() const { return failovers_.load(std::memory_order_relaxed); }

  const RedisOptions& options() const { return options_; }
  // options().key_prefix + `name`.
  std::string Key(absl::string_view name) const;

  // Counters for metrics: commands sent, and failed calls (connect, I/O,
  // pool exhaustion).
  int64_t command_count() const { return commands_.load(std::memory_order_relaxed); }
  int64_t error_count() const { return errors_.load(std::memory_order_relaxed); }

  // Opens a connection outside the pool, with the configured connect and
  // command timeouts and AUTH (the change feed's subscriber uses one), to
  // the primary (in Sentinel mode rediscovered first when the last
  // connection to it failed). UNAVAILABLE or PERMISSION_DENIED as for
  // Acquire(). The caller frees it with redisFree().
  absl::StatusOr<redisContext*> Connect() const;

 private:
  struct Endpoint {
    std::string host;
    int port = 0;
    std::string ToString() const;
    bool operator==(const Endpoint& o) const { return host == o.host && port == o.port; }
  };
  struct Slot {
    redisContext* context = nullptr;
    bool in_use = false;
    uint64_t generation = 0;  // of the primary it is connected to
  };
  struct Opened {
    redisContext* context;
    uint64_t generation;
  };

  RedisClient(RedisOptions options, Endpoint fixed, std::vector<Endpoint> sentinels);
  void Release(size_t slot, bool close);
  absl::Status Unavailable(absl::string_view what, absl::string_view error) const;
  // Why a command on `c` got no reply: its I/O error, a timeout named as
  // such (hiredis words it "Resource temporarily unavailable"), or "no reply".
  std::string FailedReply(const redisContext* c) const;
  // A connection to `at` with timeouts, keep-alive and AUTH; in Sentinel
  // mode also checked with ROLE.
  absl::StatusOr<redisContext*> Open(const Endpoint& at) const;
  absl::StatusOr<Opened> OpenPrimary() const;
  // Sentinel mode: finds the primary, connects to it (the connection is
  // returned) and makes it the current one.
  absl::StatusOr<Opened> Discover() const;
  // The primary `sentinel` names, or nullopt with *failure set.
  std::optional<Endpoint> AskSentinel(const Endpoint& sentinel, std::string* failure) const;
  // The watcher thread (Sentinel mode): every options.sentinel_poll_interval
  // asks a sentinel for the primary and rediscovers when it changed, or at
  // once when a connection failed since. Once it has connected to the
  // primary, calls connect again at once (EndReconnectBackoff).
  void WatchSentinels();
  // Forgets failed connects: the next Acquire() connects without waiting out
  // the backoff (after a failover it was earned against the old primary).
  void EndReconnectBackoff() ABSL_LOCKS_EXCLUDED(mu_);

  const RedisOptions options_;
  const std::vector<Endpoint> sentinels_;

  // The primary's address: fixed, or as last discovered through Sentinel
  // (a cache, hence mutable). generation_ changes with it.
  mutable absl::Mutex endpoint_mu_;
  mutable Endpoint endpoint_ ABSL_GUARDED_BY(endpoint_mu_);
  mutable bool suspect_ ABSL_GUARDED_BY(endpoint_mu_) = false;
  mutable std::atomic<uint64_t> generation_{1};
  mutable std::atomic<int64_t> failovers_{0};

  absl::Mutex mu_;
  std::vector<Slot> slots_ ABSL_GUARDED_BY(mu_);
  absl::Time next_connect_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  absl::Duration backoff_ ABSL_GUARDED_BY(mu_);

  std::atomic<int64_t> commands_{0};
  std::atomic<int64_t> errors_{0};

  absl::Mutex watch_mu_;
  bool stopping_ ABSL_GUARDED_BY(watch_mu_) = false;
  std::thread watcher_;
};

}  // namespace edgepass::server

#endif  // EDGEPASS_SERVER_ADAPTERS_REDIS_REDIS_CLIENT_H_
