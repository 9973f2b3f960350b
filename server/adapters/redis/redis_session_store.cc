#include "server/adapters/redis/redis_session_store.h"

#include <algorithm>
#include <optional>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/revocation_list.h"
#include "core/status_macros.h"
#include "core/token_issuer.h"
#include "core/token_policy.h"

namespace edgepass::server {
namespace {

// Every change: KEYS = hash, version, change log, id index; ARGV = log length, mode,
// prune cutoff, then (put/report) session id, entry JSON pairs or
// (remove/prune) session ids. Each changed session gets one log record at
// the next version (a put that adds a session not stored before carries
// new=1, so replicas can count stored entries); the version moves only when
// something changed. Returns
// {version, records written, {per put/report pair: "" when stored, else the
// entry kept}}. "report" stores only sessions not on the list (so a report
// never replaces a MANUAL entry, nor repeats an AUTO one); "prune" drops only
// entries still expired before the cutoff. A log left from an older version
// counter (the counter was deleted) is dropped, so record ids only grow. The
// id index (a sorted set of the hash's fields, all scored 0) follows the hash.
constexpr char kWriteScript[] = R"lua(
local mode = ARGV[2]
local v = tonumber(redis.call('GET', KEYS[2]) or '0')
local nextv = v + 1
local last = redis.call('XREVRANGE', KEYS[3], '+', '-', 'COUNT', 1)[1]
if last and tonumber(string.match(last[1], '^(%d+)')) >= nextv then redis.call('DEL', KEYS[3]) end
local out = {}
local n = 0
local function log(id, json, created)
  if json and created then
    redis.call('XADD', KEYS[3], 'MAXLEN', ARGV[1], nextv .. '-' .. n, 'id', id, 'entry', json, 'new', '1')
  elseif json then
    redis.call('XADD', KEYS[3], 'MAXLEN', ARGV[1], nextv .. '-' .. n, 'id', id, 'entry', json)
  else
    redis.call('XADD', KEYS[3], 'MAXLEN', ARGV[1], nextv .. '-' .. n, 'id', id)
  end
  n = n + 1
end
if mode == 'put' or mode == 'report' then
  for i = 4, #ARGV, 2 do
    local cur = false
    if mode == 'report' then cur = redis.call('HGET', KEYS[1], ARGV[i]) end
    if cur then
      out[#out + 1] = cur
    else
      local created = redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) == 1
      if created then redis.call('ZADD', KEYS[4], 0, ARGV[i]) end
      log(ARGV[i], ARGV[i + 1], created)
      out[#out + 1] = ''
    end
  end
elseif mode == 'remove' then
  for i = 4, #ARGV do
    if redis.call('HDEL', KEYS[1], ARGV[i]) == 1 then
      redis.call('ZREM', KEYS[4], ARGV[i])
      log(ARGV[i], nil)
    end
  end
elseif mode == 'prune' then
  local cutoff = tonumber(ARGV[3])
  for i = 4, #ARGV do
    local cur = redis.call('HGET', KEYS[1], ARGV[i])
    if cur then
      local e = cjson.decode(cur)
      if e.expires_at and e.expires_at < cutoff then
        redis.call('HDEL', KEYS[1], ARGV[i])
        redis.call('ZREM', KEYS[4], ARGV[i])
        log(ARGV[i], nil)
      end
    end
  end
end
if n > 0 then
  redis.call('SET', KEYS[2], nextv)
  v = nextv
end
return {v, n, out}
)lua";

// KEYS = hash, version, change log; ARGV = the caller's version, most
// records. Returns {version, too_old (0/1), records after the caller's
// version, entries in the hash}. The log covers the caller when its oldest
// record is at or before the caller's version, or is the first record of the
// next one.
constexpr char kChangesScript[] = R"lua(
local have = tonumber(ARGV[1])
local v = tonumber(redis.call('GET', KEYS[2]) or '0')
local count = redis.call('HLEN', KEYS[1])
if v == have then return {v, 0, {}, count} end
if v < have then return {v, 1, {}, count} end
local first = redis.call('XRANGE', KEYS[3], '-', '+', 'COUNT', 1)[1]
if not first then return {v, 1, {}, count} end
local fv, fs = string.match(first[1], '^(%d+)-(%d+)$')
fv = tonumber(fv)
fs = tonumber(fs)
if fv > have + 1 or (fv == have + 1 and fs ~= 0) then return {v, 1, {}, count} end
local limit = tonumber(ARGV[2])
local recs = redis.call('XRANGE', KEYS[3], (have + 1) .. '-0', '+', 'COUNT', limit + 1)
if #recs > limit then return {v, 1, {}, count} end
return {v, 0, recs, count}
)lua";

// One page in id order: KEYS = hash, version, id index; ARGV = the last id
// of the previous page ("" for the first), most entries. Returns {version,
// more (0/1), ids, their entries (nil: gone)}, or {version, -1, {}, {}} when
// the index does not hold as many ids as the hash (data from before the
// index, an edit by hand): kIndexStepScript puts it right first.
constexpr char kPageScript[] = R"lua(
local v = tonumber(redis.call('GET', KEYS[2]) or '0')
if redis.call('ZCARD', KEYS[3]) ~= redis.call('HLEN', KEYS[1]) then return {v, -1, {}, {}} end
local max = tonumber(ARGV[2])
local from = '-'
if ARGV[1] ~= '' then from = '(' .. ARGV[1] end
local ids = redis.call('ZRANGEBYLEX', KEYS[3], from, '+', 'LIMIT', 0, max + 1)
local more = 0
if #ids > max then
  more = 1
  ids[#ids] = nil
end
local entries = {}
if #ids > 0 then entries = redis.call('HMGET', KEYS[1], unpack(ids)) end
return {v, more, ids, entries}
)lua";

// One bounded step of putting the id index right: KEYS = hash, id index;
// ARGV = step ("add" or "drop"), cursor, count. "add" indexes the fields of
// one HSCAN step of the hash, "drop" removes the ids of one ZSCAN step of the
// index that are not in the hash. Returns the next cursor ("0": that pass is
// done). Every write keeps the index in step, so after an "add" pass and a
// "drop" pass it holds the hash's ids exactly, whatever ran meanwhile; two
// replicas doing it at once only repeat each other's work.
constexpr char kIndexStepScript[] = R"lua(
local out = {}
if ARGV[1] == 'add' then
  local r = redis.call('HSCAN', KEYS[1], ARGV[2], 'COUNT', ARGV[3])
  for i = 1, #r[2], 2 do
    out[#out + 1] = 0
    out[#out + 1] = r[2][i]
  end
  if #out > 0 then redis.call('ZADD', KEYS[2], unpack(out)) end
  return r[1]
end
local r = redis.call('ZSCAN', KEYS[2], ARGV[2], 'COUNT', ARGV[3])
for i = 1, #r[2], 2 do
  if redis.call('HEXISTS', KEYS[1], r[2][i]) == 0 then out[#out + 1] = r[2][i] end
end
if #out > 0 then redis.call('ZREM', KEYS[2], unpack(out)) end
return r[1]
)lua";

}  // namespace

RedisSessionStore::RedisSessionStore(RedisClient& redis, ChangeFeed* feed, size_t change_log_length,
                                     size_t prune_scan_count)
    : redis_(redis),
      feed_(feed),
      hash_key_(redis.Key("sessions")),
      version_key_(redis.Key("sessions:version")),
      changes_key_(redis.Key("sessions:changes")),
      index_key_(redis.Key("sessions:ids")),
      prune_claim_key_(redis.Key("sessions:prune-claim")),
      change_log_length_(absl::StrCat(std::max<size_t>(change_log_length, 1))),
      prune_scan_count_(std::max<size_t>(prune_scan_count, 1)) {}

void RedisSessionStore::Announce() {
  if (feed_ != nullptr) feed_->Publish(ChangeKind::kSessions);
}

absl::StatusOr<RedisReply> RedisSessionStore::Write(const std::vector<std::string>& args,
                                                    absl::string_view what) {
  std::vector<std::string> argv = {"EVAL", kWriteScript, "4", hash_key_, version_key_, changes_key_, index_key_,
                                   change_log_length_};
  argv.insert(argv.end(), args.begin(), args.end());
  RedisReply reply;
  absl::Status waited;
  {
    EDGEPASS_ASSIGN_OR_RETURN(RedisClient::Connection c, redis_.Acquire());
    EDGEPASS_ASSIGN_OR_RETURN(reply, c.Command(argv));
    if (reply.is_error()) return RedisReplyError(reply, what);
    if (reply.type != RedisReply::Type::kArray || reply.elements.size() != 3 ||
        reply.elements[0].type != RedisReply::Type::kInteger ||
        reply.elements[1].type != RedisReply::Type::kInteger ||
        reply.elements[2].type != RedisReply::Type::kArray) {
      return RedisReplyError(reply, what);
    }
    if (reply.elements[1].integer == 0) return reply;  // nothing changed: nothing to wait for
    waited = redis_.WaitForReplicas(c);
  }
  // Stored on the primary even when too few replicas acknowledged it:
  // other replicas load it (and refuse the session) either way.
  Announce();
  if (!waited.ok()) return waited;
  return reply;
}

absl::StatusOr<uint64_t> RedisSessionStore::Put(const core::RevocationEntry& entry) {
  // What the readers check (ParseRevocationEntryJson), so no entry stored
  // here stops a replica loading the list.
  EDGEPASS_RETURN_IF_ERROR(core::ValidateRevocationEntry(entry, "entry"));
  EDGEPASS_ASSIGN_OR_RETURN(
      RedisReply r, Write({"put", "0", entry.session_id, core::RevocationEntryToJson(entry)}, "EVAL put"));
  return static_cast<uint64_t>(r.elements[0].integer);
}

absl::StatusOr<uint64_t> RedisSessionStore::Remove(absl::string_view session_id) {
  EDGEPASS_RETURN_IF_ERROR(core::CheckSessionId(session_id, "session_id"));
  EDGEPASS_ASSIGN_OR_RETURN(RedisReply r, Write({"remove", "0", std::string(session_id)}, "EVAL remove"));
  if (r.elements[1].integer == 0) {
    return absl::NotFoundError(absl::StrCat("session ", session_id, " is not revoked"));
  }
  return static_cast<uint64_t>(r.elements[0].integer);
}

absl::StatusOr<ReportResult> RedisSessionStore::Report(absl::Span<const core::RevocationEntry> entries) {
  if (entries.size() > kMaxReportBatch) {
    return absl::InvalidArgumentError(absl::StrCat("sessions: at most ", kMaxReportBatch, " per report"));
  }
  std::vector<std::string> args = {"report", "0"};
  args.reserve(2 + 2 * entries.size());
  for (const core::RevocationEntry& e : entries) {
    EDGEPASS_RETURN_IF_ERROR(core::ValidateRevocationEntry(e, "entry"));
    args.push_back(e.session_id);
    args.push_back(core::RevocationEntryToJson(e));
  }
  ReportResult out;
  if (entries.empty()) {
    EDGEPASS_ASSIGN_OR_RETURN(SessionChanges now, TryChangesSince(UINT64_MAX));
    out.version = now.version;
    return out;
  }
  EDGEPASS_ASSIGN_OR_RETURN(RedisReply r, Write(args, "EVAL report"));
  const std::vector<RedisReply>& kept = r.elements[2].elements;
  if (kept.size() != entries.size()) return RedisReplyError(r, "EVAL report");
  out.version = static_cast<uint64_t>(r.elements[0].integer);
  for (size_t i = 0; i < entries.size(); ++i) {
    if (kept[i].str.empty()) {
      out.outcomes.push_back(ReportOutcome::kStored);
      out.entries.push_back(entries[i]);
      continue;
    }
    absl::StatusOr<core::RevocationEntry> existing = core::ParseRevocationEntryJson(kept[i].str);
    if (!existing.ok()) {
      return absl::FailedPreconditionError(absl::StrCat("redis key ", hash_key_, " field \"",
                                                        entries[i].session_id, "\": ",
                                                        existing.status().message()));
    }
    out.outcomes.push_back(existing->type == core::RevocationType::kManual ? ReportOutcome::kAlreadyManual
                                                                          : ReportOutcome::kAlreadyAuto);
    out.entries.push_back(*std::move(existing));
  }
  return out;
}

absl::StatusOr<SessionChanges> RedisSessionStore::ChangesSince(uint64_t version) {
  absl::StatusOr<SessionChanges> changes = TryChangesSince(version);
  if (changes.ok() || changes.status().code() != absl::StatusCode::kUnavailable) return changes;
  return TryChangesSince(version);
}

absl::StatusOr<SessionChanges> RedisSessionStore::TryChangesSince(uint64_t version) {
  EDGEPASS_ASSIGN_OR_RETURN(RedisClient::Connection c, redis_.Acquire());
  EDGEPASS_ASSIGN_OR_RETURN(
      RedisReply r, c.Command({"EVAL", kChangesScript, "3", hash_key_, version_key_, changes_key_,
                               absl::StrCat(version), absl::StrCat(kMaxChangesPerRead)}));
  const std::string what = absl::StrCat("EVAL changes of ", changes_key_);
  if (r.type != RedisReply::Type::kArray || r.elements.size() != 4 ||
      r.elements[0].type != RedisReply::Type::kInteger || r.elements[1].type != RedisReply::Type::kInteger ||
      r.elements[2].type != RedisReply::Type::kArray || r.elements[3].type != RedisReply::Type::kInteger ||
      r.elements[3].integer < 0) {
    return RedisReplyError(r, what);
  }
  SessionChanges out;
  out.version = static_cast<uint64_t>(r.elements[0].integer);
  out.too_old = r.elements[1].integer != 0;
  out.stored_count = static_cast<size_t>(r.elements[3].integer);
  out.changes.reserve(r.elements[2].elements.size());
  for (const RedisReply& record : r.elements[2].elements) {
    // [id "<version>-<n>", [field, value, ...]]
    if (record.type != RedisReply::Type::kArray || record.elements.size() != 2 ||
        record.elements[1].type != RedisReply::Type::kArray) {
      return RedisReplyError(record, what);
    }
    const std::string& id = record.elements[0].str;
    const std::string where = absl::StrCat("redis key ", changes_key_, " record ", id.substr(0, 64));
    SessionChange change;
    if (!absl::SimpleAtoi(absl::string_view(id).substr(0, id.find('-')), &change.version)) {
      return absl::FailedPreconditionError(absl::StrCat(where, ": not a version"));
    }
    const std::vector<RedisReply>& fields = record.elements[1].elements;
    for (size_t i = 0; i + 1 < fields.size(); i += 2) {
      if (fields[i].str == "id") {
        change.session_id = fields[i + 1].str;
      } else if (fields[i].str == "entry") {
        absl::StatusOr<core::RevocationEntry> entry = core::ParseRevocationEntryJson(fields[i + 1].str);
        if (!entry.ok()) return absl::FailedPreconditionError(absl::StrCat(where, ": ", entry.status().message()));
        change.entry = *std::move(entry);
      } else if (fields[i].str == "new") {
        change.created = fields[i + 1].str == "1";
      }
    }
    if (change.session_id.empty() || (change.entry.has_value() && change.entry->session_id != change.session_id)) {
      return absl::FailedPreconditionError(absl::StrCat(where, ": id: missing or does not match the entry"));
    }
    out.changes.push_back(std::move(change));
  }
  return out;
}

absl::StatusOr<std::vector<core::RevocationEntry>> RedisSessionStore::ParseEntries(
    const RedisReply& hash, absl::string_view what) const {
  if (hash.type != RedisReply::Type::kArray || hash.elements.size() % 2 != 0) {
    return RedisReplyError(hash, what);
  }
  std::vector<core::RevocationEntry> entries;
  entries.reserve(hash.elements.size() / 2);
  for (size_t i = 0; i + 1 < hash.elements.size(); i += 2) {
    const std::string& field = hash.elements[i].str;
    const std::string where = absl::StrCat("redis key ", hash_key_, " field \"",
                                           field.substr(0, core::kMaxSessionIdLength), "\"");
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
  // Pages come in id order, so an entry past the last one is appended; any
  // other visit (a change replayed after the pages) is kept, the last per
  // id, and applied at the end.
  SessionList out;
  absl::flat_hash_map<std::string, std::optional<core::RevocationEntry>> changed;
  EDGEPASS_ASSIGN_OR_RETURN(
      SessionLoad load, Load([&](absl::string_view session_id, const core::RevocationEntry* entry) {
        if (entry != nullptr && (out.entries.empty() || session_id > out.entries.back().session_id)) {
          out.entries.push_back(*entry);
        } else if (entry != nullptr) {
          changed.insert_or_assign(session_id, *entry);
        } else {
          changed.insert_or_assign(session_id, std::nullopt);
        }
      }));
  out.version = load.version;
  if (changed.empty()) return out;
  for (core::RevocationEntry& e : out.entries) {
    auto c = changed.find(e.session_id);
    if (c == changed.end()) continue;
    if (c->second.has_value()) {
      e = *std::move(c->second);
    } else {
      e.session_id.clear();  // removed: dropped below
    }
    changed.erase(c);
  }
  std::erase_if(out.entries, [](const core::RevocationEntry& e) { return e.session_id.empty(); });
  for (auto& [session_id, entry] : changed) {
    if (entry.has_value()) out.entries.push_back(*std::move(entry));
  }
  return out;
}

absl::StatusOr<SessionPage> RedisSessionStore::ListPage(absl::string_view after, size_t max) {
  EDGEPASS_RETURN_IF_ERROR(after.empty() ? absl::OkStatus() : core::CheckSessionId(after, "after"));
  max = std::clamp<size_t>(max, 1, kMaxPageEntries);
  const std::string what = absl::StrCat("EVAL page of ", index_key_);
  RedisReply r;
  for (int attempt = 0;; ++attempt) {
    EDGEPASS_ASSIGN_OR_RETURN(r, redis_.Read({"EVAL", kPageScript, "3", hash_key_, version_key_, index_key_, after,
                                              absl::StrCat(max)}));
    if (r.type != RedisReply::Type::kArray || r.elements.size() != 4 ||
        r.elements[1].type != RedisReply::Type::kInteger || r.elements[1].integer != -1) {
      break;
    }
    if (attempt == 2) {
      return absl::UnavailableError(absl::StrCat("redis key ", index_key_, ": still not the ids of ", hash_key_,
                                                 " after putting it right twice (edited meanwhile?)"));
    }
    EDGEPASS_RETURN_IF_ERROR(RepairIndex());
  }
  if (r.type != RedisReply::Type::kArray || r.elements.size() != 4 ||
      r.elements[0].type != RedisReply::Type::kInteger || r.elements[1].type != RedisReply::Type::kInteger ||
      r.elements[2].type != RedisReply::Type::kArray || r.elements[3].type != RedisReply::Type::kArray ||
      r.elements[2].elements.size() != r.elements[3].elements.size()) {
    return RedisReplyError(r, what);
  }
  SessionPage page{.more = r.elements[1].integer != 0, .version = static_cast<uint64_t>(r.elements[0].integer)};
  const std::vector<RedisReply>& ids = r.elements[2].elements;
  const std::vector<RedisReply>& values = r.elements[3].elements;
  page.entries.reserve(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    if (values[i].is_nil()) continue;  // in the index, not in the hash: gone
    const std::string where =
        absl::StrCat("redis key ", hash_key_, " field \"", ids[i].str.substr(0, core::kMaxSessionIdLength), "\"");
    absl::StatusOr<core::RevocationEntry> entry = core::ParseRevocationEntryJson(values[i].str);
    if (!entry.ok()) return absl::FailedPreconditionError(absl::StrCat(where, ": ", entry.status().message()));
    if (entry->session_id != ids[i].str) {
      return absl::FailedPreconditionError(absl::StrCat(where, ": session_id: does not match the field"));
    }
    page.entries.push_back(*std::move(entry));
  }
  return page;
}

absl::Status RedisSessionStore::RepairIndex() {
  const std::string count = absl::StrCat(prune_scan_count_);
  for (const char* step : {"add", "drop"}) {
    const std::string what = absl::StrCat("EVAL ", step, " step of ", index_key_);
    std::string cursor = "0";
    do {
      EDGEPASS_ASSIGN_OR_RETURN(RedisReply r, redis_.Read({"EVAL", kIndexStepScript, "2", hash_key_, index_key_,
                                                           step, cursor, count}));
      if (r.type != RedisReply::Type::kString) return RedisReplyError(r, what);
      cursor = r.str;
    } while (cursor != "0");
  }
  return absl::OkStatus();
}

absl::StatusOr<SessionLoad> RedisSessionStore::Load(LoadVisitor visit) {
  std::string after;
  std::optional<uint64_t> first_version;
  while (true) {
    EDGEPASS_ASSIGN_OR_RETURN(SessionPage page, ListPage(after, kMaxPageEntries));
    if (!first_version.has_value()) first_version = page.version;
    for (const core::RevocationEntry& e : page.entries) visit(e.session_id, &e);
    if (!page.more || page.entries.empty()) break;
    after = page.entries.back().session_id;
  }
  // An entry unchanged since the first page was seen once, as it is; what
  // changed since is replayed after the pages, in order.
  EDGEPASS_ASSIGN_OR_RETURN(SessionChanges since, ChangesSince(*first_version));
  if (since.too_old || !since.stored_count.has_value()) {
    return absl::UnavailableError(absl::StrCat("redis key ", hash_key_,
                                               ": changed more while it was read than the change log keeps"));
  }
  for (const SessionChange& c : since.changes) visit(c.session_id, c.entry.has_value() ? &*c.entry : nullptr);
  return SessionLoad{.version = since.version, .count = *since.stored_count};
}

absl::StatusOr<bool> RedisSessionStore::ClaimPrune(absl::Duration period) {
  const int64_t ms = std::max<int64_t>(absl::ToInt64Milliseconds(period), 1);
  EDGEPASS_ASSIGN_OR_RETURN(RedisReply r,
                            redis_.Command({"SET", prune_claim_key_, "1", "NX", "PX", absl::StrCat(ms)}));
  if (r.is_error()) return RedisReplyError(r, absl::StrCat("SET ", prune_claim_key_));
  return !r.is_nil();
}

absl::StatusOr<size_t> RedisSessionStore::Prune(absl::Time cutoff) {
  // Stored expiries are whole seconds: before `cutoff` is before its ceiling.
  const int64_t cutoff_seconds =
      absl::ToInt64Seconds(absl::Ceil(cutoff - absl::UnixEpoch(), absl::Seconds(1)));
  const std::string count = absl::StrCat(prune_scan_count_);
  const std::string what = absl::StrCat("HSCAN ", hash_key_);
  size_t dropped = 0;
  std::string cursor = "0";
  // One HSCAN step at a time (about prune_scan_count_ entries held here),
  // each step's expired entries dropped in one script: its own version and
  // one removal record each in the change log, like Remove().
  do {
    EDGEPASS_ASSIGN_OR_RETURN(RedisReply page,
                              redis_.Read({"HSCAN", hash_key_, cursor, "COUNT", count}));
    if (page.type != RedisReply::Type::kArray || page.elements.size() != 2 ||
        page.elements[0].type != RedisReply::Type::kString) {
      return RedisReplyError(page, what);
    }
    cursor = page.elements[0].str;
    EDGEPASS_ASSIGN_OR_RETURN(std::vector<core::RevocationEntry> entries, ParseEntries(page.elements[1], what));
    std::vector<std::string> args = {"prune", absl::StrCat(cutoff_seconds)};
    for (const core::RevocationEntry& e : entries) {
      if (e.expires_at < cutoff) args.push_back(e.session_id);
    }
    if (args.size() == 2) continue;
    // The script checks each again, so an entry replaced meanwhile stays.
    EDGEPASS_ASSIGN_OR_RETURN(RedisReply r, Write(args, "EVAL prune"));
    dropped += static_cast<size_t>(r.elements[1].integer);
  } while (cursor != "0");
  return dropped;
}

}  // namespace edgepass::server
