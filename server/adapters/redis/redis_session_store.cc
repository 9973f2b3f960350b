#include "server/adapters/redis/redis_session_store.h"

#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/status_macros.h"

namespace edgepass::server {
namespace {

// Deletes the entry and bumps the version atomically; -1 when absent.
constexpr char kRemoveScript[] = R"lua(
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return -1 end
return redis.call('INCR', KEYS[2])
)lua";

absl::Status CheckSessionId(absl::string_view session_id) {
  if (session_id.empty() || session_id.size() > RedisSessionStore::kMaxSessionIdBytes) {
    return absl::InvalidArgumentError(absl::StrCat("session_id: must be 1..",
                                                   RedisSessionStore::kMaxSessionIdBytes,
                                                   " bytes"));
  }
  return absl::OkStatus();
}

}  // namespace

RedisSessionStore::RedisSessionStore(RedisClient& redis, ChangeFeed* feed)
    : redis_(redis),
      feed_(feed),
      hash_key_(redis.Key("sessions")),
      version_key_(redis.Key("sessions:version")) {}

void RedisSessionStore::Announce() {
  if (feed_ != nullptr) feed_->Publish(ChangeKind::kSessions);
}

absl::StatusOr<uint64_t> RedisSessionStore::Put(const core::RevocationEntry& entry) {
  EDGEPASS_RETURN_IF_ERROR(CheckSessionId(entry.session_id));
  const std::string json = core::RevocationEntryToJson(entry);
  int64_t version = 0;
  absl::Status waited;
  {
    EDGEPASS_ASSIGN_OR_RETURN(RedisClient::Connection c, redis_.Acquire());
    EDGEPASS_ASSIGN_OR_RETURN(RedisReply multi, c.Command({"MULTI"}));
    if (multi.is_error()) return RedisReplyError(multi, "MULTI");
    EDGEPASS_ASSIGN_OR_RETURN(RedisReply hset, c.Command({"HSET", hash_key_, entry.session_id, json}));
    if (hset.is_error()) return RedisReplyError(hset, "HSET");
    EDGEPASS_ASSIGN_OR_RETURN(RedisReply incr, c.Command({"INCR", version_key_}));
    if (incr.is_error()) return RedisReplyError(incr, "INCR");
    EDGEPASS_ASSIGN_OR_RETURN(RedisReply exec, c.Command({"EXEC"}));
    if (exec.type != RedisReply::Type::kArray || exec.elements.size() != 2) {
      return RedisReplyError(exec, "EXEC");
    }
    if (exec.elements[0].is_error()) return RedisReplyError(exec.elements[0], "HSET");
    EDGEPASS_ASSIGN_OR_RETURN(version, RedisInteger(exec.elements[1], "INCR"));
    waited = redis_.WaitForReplicas(c);
  }
  // Stored on the primary even when too few replicas acknowledged it:
  // other replicas load it (and refuse the session) either way.
  Announce();
  if (!waited.ok()) return waited;
  return static_cast<uint64_t>(version);
}

absl::StatusOr<uint64_t> RedisSessionStore::Remove(absl::string_view session_id) {
  EDGEPASS_RETURN_IF_ERROR(CheckSessionId(session_id));
  int64_t version = 0;
  absl::Status waited;
  {
    EDGEPASS_ASSIGN_OR_RETURN(RedisClient::Connection c, redis_.Acquire());
    EDGEPASS_ASSIGN_OR_RETURN(
        RedisReply r, c.Command({"EVAL", kRemoveScript, "2", hash_key_, version_key_, session_id}));
    EDGEPASS_ASSIGN_OR_RETURN(version, RedisInteger(r, "EVAL remove"));
    if (version < 0) {
      return absl::NotFoundError(absl::StrCat("session ", session_id, " is not revoked"));
    }
    waited = redis_.WaitForReplicas(c);
  }
  Announce();  // removed on the primary, acknowledged or not
  if (!waited.ok()) return waited;
  return static_cast<uint64_t>(version);
}

absl::StatusOr<std::vector<core::RevocationEntry>> RedisSessionStore::ParseEntries(
    const RedisReply& hash) const {
  if (hash.type != RedisReply::Type::kArray || hash.elements.size() % 2 != 0) {
    return RedisReplyError(hash, absl::StrCat("HGETALL ", hash_key_));
  }
  std::vector<core::RevocationEntry> entries;
  entries.reserve(hash.elements.size() / 2);
  for (size_t i = 0; i + 1 < hash.elements.size(); i += 2) {
    const std::string& field = hash.elements[i].str;
    const std::string where = absl::StrCat("redis key ", hash_key_, " field \"",
                                           field.substr(0, kMaxSessionIdBytes), "\"");
    absl::StatusOr<core::RevocationEntry> entry =
        core::ParseRevocationEntryJson(hash.elements[i + 1].str);
    if (!entry.ok()) {
      return absl::FailedPreconditionError(absl::StrCat(where, ": ", entry.status().message()));
    }
    if (entry->session_id != field) {
      return absl::FailedPreconditionError(
          absl::StrCat(where, ": session_id: does not match the field"));
    }
    entries.push_back(*std::move(entry));
  }
  return entries;
}

absl::StatusOr<SessionList> RedisSessionStore::List() {
  // A read: once more on a fresh connection when a failover cut the first.
  absl::StatusOr<SessionList> list = TryList();
  if (list.ok() || list.status().code() != absl::StatusCode::kUnavailable) return list;
  return TryList();
}

absl::StatusOr<SessionList> RedisSessionStore::TryList() {
  EDGEPASS_ASSIGN_OR_RETURN(RedisClient::Connection c, redis_.Acquire());
  EDGEPASS_ASSIGN_OR_RETURN(RedisReply multi, c.Command({"MULTI"}));
  if (multi.is_error()) return RedisReplyError(multi, "MULTI");
  EDGEPASS_ASSIGN_OR_RETURN(RedisReply q1, c.Command({"HGETALL", hash_key_}));
  if (q1.is_error()) return RedisReplyError(q1, "HGETALL");
  EDGEPASS_ASSIGN_OR_RETURN(RedisReply q2, c.Command({"GET", version_key_}));
  if (q2.is_error()) return RedisReplyError(q2, "GET");
  EDGEPASS_ASSIGN_OR_RETURN(RedisReply exec, c.Command({"EXEC"}));
  if (exec.type != RedisReply::Type::kArray || exec.elements.size() != 2) {
    return RedisReplyError(exec, "EXEC");
  }
  SessionList out;
  EDGEPASS_ASSIGN_OR_RETURN(out.entries, ParseEntries(exec.elements[0]));
  const RedisReply& version = exec.elements[1];
  if (version.type == RedisReply::Type::kString) {
    if (!absl::SimpleAtoi(version.str, &out.version)) {
      return absl::FailedPreconditionError(
          absl::StrCat("redis key ", version_key_, ": not a version number"));
    }
  } else if (!version.is_nil()) {
    return RedisReplyError(version, absl::StrCat("GET ", version_key_));
  }
  return out;
}

absl::StatusOr<std::optional<size_t>> RedisSessionStore::TryPrune(absl::Time cutoff) {
  EDGEPASS_ASSIGN_OR_RETURN(RedisClient::Connection c, redis_.Acquire());
  EDGEPASS_ASSIGN_OR_RETURN(RedisReply watched, c.Command({"WATCH", hash_key_}));
  if (watched.is_error()) return RedisReplyError(watched, "WATCH");
  EDGEPASS_ASSIGN_OR_RETURN(RedisReply hash, c.Command({"HGETALL", hash_key_}));
  EDGEPASS_ASSIGN_OR_RETURN(std::vector<core::RevocationEntry> entries, ParseEntries(hash));
  std::vector<std::string> argv = {"HDEL", hash_key_};
  for (const core::RevocationEntry& e : entries) {
    if (e.expires_at < cutoff) argv.push_back(e.session_id);
  }
  const size_t dropped = argv.size() - 2;
  if (dropped == 0) return size_t{0};  // the connection's destructor UNWATCHes
  EDGEPASS_ASSIGN_OR_RETURN(RedisReply multi, c.Command({"MULTI"}));
  if (multi.is_error()) return RedisReplyError(multi, "MULTI");
  EDGEPASS_ASSIGN_OR_RETURN(RedisReply hdel, c.Command(argv));
  if (hdel.is_error()) return RedisReplyError(hdel, "HDEL");
  EDGEPASS_ASSIGN_OR_RETURN(RedisReply incr, c.Command({"INCR", version_key_}));
  if (incr.is_error()) return RedisReplyError(incr, "INCR");
  EDGEPASS_ASSIGN_OR_RETURN(RedisReply exec, c.Command({"EXEC"}));
  if (exec.is_nil()) return std::nullopt;
  if (exec.type != RedisReply::Type::kArray || exec.elements.size() != 2) {
    return RedisReplyError(exec, "EXEC");
  }
  EDGEPASS_RETURN_IF_ERROR(redis_.WaitForReplicas(c));
  return dropped;
}

absl::StatusOr<size_t> RedisSessionStore::Prune(absl::Time cutoff) {
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    EDGEPASS_ASSIGN_OR_RETURN(std::optional<size_t> dropped, TryPrune(cutoff));
    if (!dropped.has_value()) continue;
    if (*dropped > 0) Announce();
    return *dropped;
  }
  return absl::AbortedError(absl::StrCat("session prune: ", kMaxAttempts,
                                         " attempts conflicted with concurrent writers; retry"));
}

}  // namespace edgepass::server
