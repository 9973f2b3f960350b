// Connection settings of the Redis state adapters (one address or a set of
// Sentinels, pool, timeouts, key prefix, WAIT), parsed by the server's
// configuration and passed down by value.
//
//   RedisOptions options{.address = "redis.edge.svc:6379", .pool_size = 16};
//   // or: {.sentinels = {"s1:26379", "s2:26379", "s3:26379"}, .sentinel_master = "mymaster"}
//   EDGEPASS_RETURN_IF_ERROR(ValidateRedisOptions(options));
//   absl::StatusOr<std::unique_ptr<RedisClient>> client = RedisClient::Create(options);
#ifndef EDGEPASS_SERVER_ADAPTERS_REDIS_REDIS_OPTIONS_H_
#define EDGEPASS_SERVER_ADAPTERS_REDIS_REDIS_OPTIONS_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "text/host_port.h"

namespace edgepass::server {

struct RedisOptions {
  // HOST:PORT of the Redis primary (hiredis 0.14: plain TCP, no TLS).
  // Ignored when `sentinels` is set.
  std::string address = "127.0.0.1:6379";
  // Sentinel mode: HOST:PORT of the Redis Sentinels watching
  // `sentinel_master`. The primary is asked of them in turn (SENTINEL
  // get-master-addr-by-name), checked with ROLE, and asked again after a
  // connection error or a READONLY reply (a failover). Sentinels are
  // reached without a password.
  std::vector<std::string> sentinels;
  std::string sentinel_master = "mymaster";
  // How often a client asks a sentinel whether the primary changed.
  absl::Duration sentinel_poll_interval = absl::Seconds(1);
  // Connections kept per process for commands (the change feed's subscriber
  // has one more of its own).
  size_t pool_size = 8;
  absl::Duration connect_timeout = absl::Milliseconds(500);
  // Read/write timeout of one command on an established connection.
  absl::Duration command_timeout = absl::Milliseconds(1000);
  // How long a caller waits for a free pooled connection before UNAVAILABLE.
  absl::Duration acquire_timeout = absl::Milliseconds(500);
  // After a failed connect, no new connect is tried for this long (doubling
  // per consecutive failure up to max_reconnect_backoff): a down Redis is not
  // hammered, and callers fail fast with UNAVAILABLE meanwhile.
  absl::Duration reconnect_backoff = absl::Milliseconds(100);
  absl::Duration max_reconnect_backoff = absl::Seconds(2);
  // Sent with AUTH after each connect when not empty (read it from a secret
  // file or the environment; it is never logged). The Redis copy of the
  // keyring makes this Redis as sensitive as the secrets store.
  std::string password;
  // Prefix of every key and pub/sub channel, so several deployments can share
  // one Redis.
  std::string key_prefix = "edgepass:";
  // Durability of writes beyond the primary's AOF: when > 0, each write also
  // waits (Redis WAIT) until this many replicas acknowledged it, at most
  // wait_timeout; fewer acknowledgements fail the write with UNAVAILABLE.
  int wait_replicas = 0;
  absl::Duration wait_timeout = absl::Milliseconds(500);
};

// INVALID_ARGUMENT naming the field ("redis.address: ...") when the address is
// not HOST:PORT with a port in 1..65535, a sentinel is not (naming
// "redis.sentinels[i]"), there are more than kMaxSentinels of them, the
// master name is empty, over 128 bytes or has spaces or control characters,
// the pool is empty or over 1024, a timeout is not positive, or wait_replicas
// is negative.
absl::Status ValidateRedisOptions(const RedisOptions& options);
inline constexpr size_t kMaxSentinels = 16;

// HOST:PORT ("[::1]:6379" for IPv6) with a port in 1..65535; INVALID_ARGUMENT
// naming `field` ("redis.address", "redis.sentinels[0]") and the address.
absl::StatusOr<text::HostPort> ParseRedisAddress(absl::string_view field, const std::string& address);

}  // namespace edgepass::server

#endif  // EDGEPASS_SERVER_ADAPTERS_REDIS_REDIS_OPTIONS_H_
