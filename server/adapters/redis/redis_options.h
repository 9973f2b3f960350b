// Connection settings of the Redis state adapters (pool, timeouts, key
// prefix), parsed by the server's configuration and passed down by value.
//
//   RedisOptions options{.address = "redis.edge.svc:6379", .pool_size = 16};
//   EDGEPASS_RETURN_IF_ERROR(ValidateRedisOptions(options));
//   absl::StatusOr<std::unique_ptr<RedisClient>> client = RedisClient::Create(options);
#ifndef EDGEPASS_SERVER_ADAPTERS_REDIS_REDIS_OPTIONS_H_
#define EDGEPASS_SERVER_ADAPTERS_REDIS_REDIS_OPTIONS_H_

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace edgepass::server {

struct RedisOptions {
  // HOST:PORT of the Redis primary (hiredis 0.14: plain TCP, no TLS).
  std::string address = "127.0.0.1:6379";
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
// not HOST:PORT with a port in 1..65535, the pool is empty or over 1024,
// a timeout is not positive, or wait_replicas is negative.
absl::Status ValidateRedisOptions(const RedisOptions& options);

// Splits HOST:PORT ("[::1]:6379" for IPv6). INVALID_ARGUMENT as above.
absl::Status SplitRedisAddress(const std::string& address, std::string* host, int* port);

}  // namespace edgepass::server

#endif  // EDGEPASS_SERVER_ADAPTERS_REDIS_REDIS_OPTIONS_H_
