#include "server/adapters/redis/redis_keyring_cache.h"

#include <algorithm>
#include <cstdint>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/random.h"
#include "core/status_macros.h"

namespace edgepass::server {
namespace {

// Deletes the lock only when this replica still holds it.
constexpr char kReleaseScript[] = R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
)lua";

std::string LockToken() {
  uint8_t bytes[16];
  core::SecureRandom().Fill(absl::MakeSpan(bytes));
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(bytes), sizeof(bytes)));
}

std::string Millis(absl::Duration d) { return absl::StrCat(absl::ToInt64Milliseconds(d)); }

}  // namespace

RedisKeyringCache::RedisKeyringCache(RedisClient& redis, SecretStore& store, ChangeFeed* feed,
                                     RedisKeyringCacheOptions options)
    : redis_(redis),
      store_(store),
      feed_(feed),
      options_(std::move(options)),
      copy_key_(redis.Key("keyring")),
      lock_key_(redis.Key("keyring:lock")),
      cache_(feed,
             {.retry_interval = options_.retry_interval,
              .first_wait = options_.first_wait,
              .clock = options_.clock},
             [this](absl::Time, bool have_cached) { return Refresh(have_cached); }) {}

absl::StatusOr<std::shared_ptr<const core::Keyring>> RedisKeyringCache::Current() {
  return cache_.Current();
}

absl::StatusOr<std::optional<RedisKeyringCache::Fetched>> RedisKeyringCache::Refresh(
    bool have_cached) {
  absl::StatusOr<std::optional<Fetched>> copy = ReadCopy();
  if (!copy.ok()) {
    if (have_cached) return copy.status();
    return ReadStoreDirectly();
  }
  if (copy->has_value()) return copy;
  return FillFromStore(have_cached);
}

absl::StatusOr<std::optional<RedisKeyringCache::Fetched>> RedisKeyringCache::ReadCopy() {
  EDGEPASS_ASSIGN_OR_RETURN(RedisReply r, redis_.Read({"GET", copy_key_}));
  if (r.is_error()) return absl::UnavailableError(RedisReplyError(r, "GET keyring").message());
  if (r.type != RedisReply::Type::kString) return std::nullopt;
  // "<refreshed_at unix ms>\n<keyring JSON>"
  const size_t newline = r.str.find('\n');
  int64_t refreshed_ms = 0;
  if (newline == std::string::npos ||
      !absl::SimpleAtoi(absl::string_view(r.str).substr(0, newline), &refreshed_ms)) {
    return std::nullopt;  // unreadable: replaced by the next fill
  }
  const absl::Time now = options_.clock();
  const absl::Time refreshed_at = absl::FromUnixMillis(refreshed_ms);
  if (now >= refreshed_at + options_.ttl) return std::nullopt;
  absl::StatusOr<core::Keyring> keys =
      core::ParseKeyringJson(absl::string_view(r.str).substr(newline + 1));
  if (!keys.ok() || keys->Primary() == nullptr) return std::nullopt;
  return Fetched{std::make_shared<const core::Keyring>(*std::move(keys)),
                 std::min(refreshed_at + options_.ttl, now + options_.ttl)};
}

absl::Status RedisKeyringCache::WriteCopy(const core::Keyring& keyring, absl::Time refreshed_at) {
  const std::string value =
      absl::StrCat(absl::ToUnixMillis(refreshed_at), "\n", core::KeyringToJson(keyring));
  EDGEPASS_ASSIGN_OR_RETURN(RedisReply r,
                            redis_.Command({"SET", copy_key_, value, "PX", Millis(options_.ttl)}));
  if (r.is_error()) return RedisReplyError(r, "SET keyring");
  return absl::OkStatus();
}

absl::StatusOr<std::optional<RedisKeyringCache::Fetched>> RedisKeyringCache::FillFromStore(
    bool have_cached) {
  const std::string token = LockToken();
  absl::StatusOr<RedisReply> locked = redis_.Command(
      {"SET", lock_key_, token, "NX", "PX", Millis(options_.lock_ttl)});
  if (!locked.ok() || locked->is_error()) {
    if (have_cached) {
      return locked.ok() ? RedisReplyError(*locked, "SET keyring lock") : locked.status();
    }
    return ReadStoreDirectly();
  }
  if (locked->type == RedisReply::Type::kStatus) {
    auto release = [&] { (void)redis_.Command({"EVAL", kReleaseScript, "1", lock_key_, token}); };
    // Another replica may have filled the copy just before we took the lock.
    absl::StatusOr<std::optional<Fetched>> copy = ReadCopy();
    if (copy.ok() && copy->has_value()) {
      release();
      return copy;
    }
    absl::StatusOr<core::Keyring> keys = store_.ReadKeyring();
    if (!keys.ok()) {
      release();
      return keys.status();
    }
    const absl::Time now = options_.clock();
    auto shared = std::make_shared<const core::Keyring>(*std::move(keys));
    // A failed write only costs another store read at the next refresh.
    (void)WriteCopy(*shared, now);
    release();
    return Fetched{std::move(shared), now + options_.ttl};
  }
  // Another replica holds the lock and is filling the copy.
  if (have_cached) return std::nullopt;
  const absl::Time deadline = absl::Now() + options_.fill_wait;
  while (absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(20));
    absl::StatusOr<std::optional<Fetched>> copy = ReadCopy();
    if (copy.ok() && copy->has_value()) return copy;
  }
  return absl::UnavailableError(
      "keyring: another replica is loading it from the secrets store; retry");
}

absl::StatusOr<std::optional<RedisKeyringCache::Fetched>> RedisKeyringCache::ReadStoreDirectly() {
  const absl::Time now = options_.clock();
  {
    absl::MutexLock lock(&direct_read_mu_);
    if (now < next_direct_read_) {
      return absl::UnavailableError(absl::StrCat(
          "keyring: redis unreachable and the secrets store was read less than ",
          absl::FormatDuration(options_.store_backoff), " ago"));
    }
    next_direct_read_ = now + options_.store_backoff;
  }
  EDGEPASS_ASSIGN_OR_RETURN(core::Keyring keys, store_.ReadKeyring());
  return Fetched{std::make_shared<const core::Keyring>(std::move(keys)), now + options_.ttl};
}

absl::Status RedisKeyringCache::Share(const core::Keyring& keyring) {
  const absl::Time now = options_.clock();
  auto shared = std::make_shared<const core::Keyring>(keyring);
  cache_.Set(shared, now + options_.ttl);
  EDGEPASS_RETURN_IF_ERROR(WriteCopy(*shared, now));
  if (feed_ != nullptr) feed_->Publish(ChangeKind::kKeyring);
  return absl::OkStatus();
}

}  // namespace edgepass::server
