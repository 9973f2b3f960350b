#include "server/adapters/redis/redis_rotation.h"

#include <cstdint>
#include <optional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/status_macros.h"
#include "server/adapters/redis/redis_reply.h"

namespace edgepass::server {
namespace {

constexpr char kAcquireScript[] = R"lua(
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local fence = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], fence, 'PX', ARGV[1])
return fence
)lua";

constexpr char kRenewScript[] = R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
)lua";

constexpr char kReleaseScript[] = R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
)lua";

// Deletes each field ARGV[2..] whose report names replica ARGV[1].
constexpr char kForgetScript[] = R"lua(
for i = 2, #ARGV do
  local v = redis.call('HGET', KEYS[1], ARGV[i])
  if v and string.match(v, '^%S+ %S+ (%S+)') == ARGV[1] then redis.call('HDEL', KEYS[1], ARGV[i]) end
end
return 0
)lua";

std::string Millis(absl::Duration d) { return absl::StrCat(absl::ToInt64Milliseconds(d)); }

absl::Status Unavailable(const absl::Status& s) {
  return s.ok() ? s : absl::UnavailableError(s.message());
}

}  // namespace

RedisRotationLock::RedisRotationLock(RedisClient& redis)
    : redis_(redis), lock_key_(redis.Key("rotation:lock")), fence_key_(redis.Key("rotation:fence")) {}

absl::StatusOr<std::optional<RotationLease>> RedisRotationLock::Acquire(absl::Duration ttl) {
  EDGEPASS_ASSIGN_OR_RETURN(RedisReply r,
                            redis_.Command({"EVAL", kAcquireScript, "2", lock_key_, fence_key_, Millis(ttl)}));
  if (r.is_error()) return Unavailable(RedisReplyError(r, "EVAL rotation lock"));
  EDGEPASS_ASSIGN_OR_RETURN(int64_t fence, RedisInteger(r, "EVAL rotation lock"));
  if (fence <= 0) return std::nullopt;
  return RotationLease{.fence = static_cast<uint64_t>(fence)};
}

absl::Status RedisRotationLock::Renew(const RotationLease& lease, absl::Duration ttl) {
  EDGEPASS_ASSIGN_OR_RETURN(RedisReply r, redis_.Command({"EVAL", kRenewScript, "1", lock_key_,
                                                          absl::StrCat(lease.fence), Millis(ttl)}));
  if (r.is_error()) return Unavailable(RedisReplyError(r, "EVAL rotation renew"));
  EDGEPASS_ASSIGN_OR_RETURN(int64_t renewed, RedisInteger(r, "EVAL rotation renew"));
  if (renewed != 1) return absl::AbortedError(absl::StrCat("rotation lock lost (fence ", lease.fence, ")"));
  return absl::OkStatus();
}

void RedisRotationLock::Release(const RotationLease& lease) {
  (void)redis_.Command({"EVAL", kReleaseScript, "1", lock_key_, absl::StrCat(lease.fence)});
}

RedisValidatorDirectory::RedisValidatorDirectory(RedisClient& redis)
    : redis_(redis), hash_key_(redis.Key("validators")) {}

absl::Status RedisValidatorDirectory::Publish(absl::string_view replica,
                                              const std::vector<ValidatorAck>& validators) {
  if (validators.empty()) return absl::OkStatus();
  std::vector<std::string> argv = {"HSET", hash_key_};
  argv.reserve(2 + 2 * validators.size());
  for (const ValidatorAck& v : validators) {
    argv.push_back(v.validator_id);
    // Ids and fingerprints hold no spaces (CheckValidatorId, hex).
    argv.push_back(absl::StrCat(absl::ToUnixMillis(v.seen_at), " ", v.acked_version, " ", replica, " ",
                                v.keyring_fingerprint));
  }
  EDGEPASS_ASSIGN_OR_RETURN(RedisReply r, redis_.Command(argv));
  if (r.is_error()) return Unavailable(RedisReplyError(r, "HSET validators"));
  return absl::OkStatus();
}

absl::Status RedisValidatorDirectory::Forget(absl::string_view replica,
                                             const std::vector<std::string>& validator_ids) {
  if (validator_ids.empty()) return absl::OkStatus();
  std::vector<std::string> argv = {"EVAL", kForgetScript, "1", hash_key_, std::string(replica)};
  argv.insert(argv.end(), validator_ids.begin(), validator_ids.end());
  EDGEPASS_ASSIGN_OR_RETURN(RedisReply r, redis_.Command(argv));
  if (r.is_error()) return Unavailable(RedisReplyError(r, "EVAL forget validators"));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<ValidatorAck>> RedisValidatorDirectory::List(absl::Time seen_after) {
  EDGEPASS_ASSIGN_OR_RETURN(RedisReply r, redis_.Command({"HGETALL", hash_key_}));
  if (r.is_error()) return Unavailable(RedisReplyError(r, "HGETALL validators"));
  std::vector<ValidatorAck> out;
  std::vector<std::string> stale = {"HDEL", hash_key_};
  for (size_t i = 0; i + 1 < r.elements.size(); i += 2) {
    const std::string& id = r.elements[i].str;
    std::vector<absl::string_view> parts = absl::StrSplit(r.elements[i + 1].str, absl::MaxSplits(' ', 3));
    int64_t seen_ms = 0;
    uint64_t version = 0;
    if (parts.size() != 4 || !absl::SimpleAtoi(parts[0], &seen_ms) || !absl::SimpleAtoi(parts[1], &version) ||
        absl::FromUnixMillis(seen_ms) <= seen_after) {
      stale.push_back(id);
      continue;
    }
    out.push_back({.validator_id = id,
                   .replica = std::string(parts[2]),
                   .keyring_fingerprint = std::string(parts[3]),
                   .acked_version = version,
                   .seen_at = absl::FromUnixMillis(seen_ms)});
  }
  if (stale.size() > 2) (void)redis_.Command(stale);
  std::sort(out.begin(), out.end(),
            [](const ValidatorAck& a, const ValidatorAck& b) { return a.validator_id < b.validator_id; });
  return out;
}

}  // namespace edgepass::server
