// A bounded pool of blocking hiredis connections to one Redis server, with
// connect and command timeouts, reconnect with backoff, and an owned reply
// type. Everything Redis-specific in the state adapters goes through it.
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
#include <string>
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
    // applied). An error reply from Redis is returned as a kError reply.
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

  // After a successful write, waits for options.wait_replicas replica
  // acknowledgements (Redis WAIT) on `connection`; OK at once when
  // wait_replicas is 0. UNAVAILABLE when fewer acknowledged in time.
  absl::Status WaitForReplicas(Connection& connection);

  const RedisOptions& options() const { return options_; }
  // options().key_prefix + `name`.
  std::string Key(absl::string_view name) const;

  // Counters for metrics: commands sent, and failed calls (connect, I/O,
  // pool exhaustion).
  int64_t command_count() const { return commands_.load(std::memory_order_relaxed); }
  int64_t error_count() const { return errors_.load(std::memory_order_relaxed); }

  // Opens a connection outside the pool, with the configured connect and
  // command timeouts and AUTH (the change feed's subscriber uses one).
  // UNAVAILABLE or PERMISSION_DENIED as for Acquire(). The caller frees it with redisFree().
  absl::StatusOr<redisContext*> Connect() const;

 private:
  struct Slot {
    redisContext* context = nullptr;
    bool in_use = false;
  };

  RedisClient(RedisOptions options, std::string host, int port);
  void Release(size_t slot, bool close);
  absl::Status Unavailable(absl::string_view what, absl::string_view error) const;

  const RedisOptions options_;
  const std::string host_;
  const int port_;

  absl::Mutex mu_;
  std::vector<Slot> slots_ ABSL_GUARDED_BY(mu_);
  absl::Time next_connect_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  absl::Duration backoff_ ABSL_GUARDED_BY(mu_);

  std::atomic<int64_t> commands_{0};
  std::atomic<int64_t> errors_{0};
};

}  // namespace edgepass::server

#endif  // EDGEPASS_SERVER_ADAPTERS_REDIS_REDIS_CLIENT_H_
