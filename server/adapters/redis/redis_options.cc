#include "server/adapters/redis/redis_options.h"

#include "absl/strings/str_cat.h"

namespace edgepass::server {

absl::StatusOr<text::HostPort> ParseRedisAddress(absl::string_view field, const std::string& address) {
  absl::StatusOr<text::HostPort> parsed = text::ParseHostPort(address, {.min_port = 1});
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": \"", address.substr(0, 300), "\": ", parsed.status().message()));
  }
  return parsed;
}

absl::Status ValidateRedisOptions(const RedisOptions& options) {
  if (options.sentinels.empty()) {
    if (absl::Status s = ParseRedisAddress("redis.address", options.address).status(); !s.ok()) return s;
  } else {
    if (options.sentinels.size() > kMaxSentinels) {
      return absl::InvalidArgumentError(absl::StrCat("redis.sentinels: more than ", kMaxSentinels));
    }
    for (size_t i = 0; i < options.sentinels.size(); ++i) {
      absl::Status s = ParseRedisAddress(absl::StrCat("redis.sentinels[", i, "]"), options.sentinels[i]).status();
      if (!s.ok()) return s;
    }
    const std::string& name = options.sentinel_master;
    if (name.empty() || name.size() > 128) {
      return absl::InvalidArgumentError("redis.sentinel_master: must be 1..128 bytes");
    }
    for (char c : name) {
      if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) {
        return absl::InvalidArgumentError("redis.sentinel_master: no spaces or control characters");
      }
    }
  }
  if (options.pool_size == 0 || options.pool_size > 1024) {
    return absl::InvalidArgumentError("redis.pool_size: must be 1..1024");
  }
  struct Named {
    const char* name;
    absl::Duration value;
  };
  for (const Named& d : {Named{"connect_timeout", options.connect_timeout},
                         Named{"command_timeout", options.command_timeout},
                         Named{"acquire_timeout", options.acquire_timeout},
                         Named{"reconnect_backoff", options.reconnect_backoff},
                         Named{"max_reconnect_backoff", options.max_reconnect_backoff},
                         Named{"wait_timeout", options.wait_timeout},
                         Named{"sentinel_poll_interval", options.sentinel_poll_interval}}) {
    if (d.value <= absl::ZeroDuration() || d.value == absl::InfiniteDuration()) {
      return absl::InvalidArgumentError(absl::StrCat("redis.", d.name, ": must be positive"));
    }
  }
  if (options.wait_replicas < 0) {
    return absl::InvalidArgumentError("redis.wait_replicas: must not be negative");
  }
  if (options.key_prefix.size() > 256) {
    return absl::InvalidArgumentError("redis.key_prefix: longer than 256 bytes");
  }
  return absl::OkStatus();
}

}  // namespace edgepass::server
