#include "server/adapters/redis/redis_client.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <signal.h>
#include <strings.h>
#include <sys/time.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <optional>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "text/host_port.h"

namespace edgepass::server {
namespace {

RedisReply CopyReply(const redisReply* r) {
  RedisReply out;
  switch (r->type) {
    case REDIS_REPLY_STRING:
      out.type = RedisReply::Type::kString;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = RedisReply::Type::kStatus;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = RedisReply::Type::kError;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = RedisReply::Type::kInteger;
      out.integer = r->integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = RedisReply::Type::kArray;
      out.elements.reserve(r->elements);
      for (size_t i = 0; i < r->elements; ++i) out.elements.push_back(CopyReply(r->element[i]));
      break;
    default:
      out.type = RedisReply::Type::kNil;
      break;
  }
  return out;
}

bool NameIs(absl::string_view arg, const char* name) {
  return arg.size() == strlen(name) && strncasecmp(arg.data(), name, arg.size()) == 0;
}

bool NotAPrimary(absl::string_view error) {
  return absl::StartsWith(error, "READONLY") || absl::StartsWith(error, "MASTERDOWN") ||
         absl::StartsWith(error, "LOADING");
}

}  // namespace

absl::StatusOr<std::unique_ptr<RedisClient>> RedisClient::Create(const RedisOptions& options) {
  if (absl::Status s = ValidateRedisOptions(options); !s.ok()) return s;
  Endpoint fixed;
  std::vector<Endpoint> sentinels;
  if (options.sentinels.empty()) {
    absl::StatusOr<text::HostPort> address = ParseRedisAddress("redis.address", options.address);
    if (!address.ok()) return address.status();
    fixed = {.host = std::move(address->host), .port = address->port};
  }
  for (size_t i = 0; i < options.sentinels.size(); ++i) {
    absl::StatusOr<text::HostPort> address =
        ParseRedisAddress(absl::StrCat("redis.sentinels[", i, "]"), options.sentinels[i]);
    if (!address.ok()) return address.status();
    sentinels.push_back({.host = std::move(address->host), .port = address->port});
  }
  static std::once_flag ignore_sigpipe;
  std::call_once(ignore_sigpipe, [] { ::signal(SIGPIPE, SIG_IGN); });
  std::unique_ptr<RedisClient> client(new RedisClient(options, std::move(fixed), std::move(sentinels)));
  if (client->sentinel_mode()) client->watcher_ = std::thread([c = client.get()] { c->WatchSentinels(); });
  return client;
}

RedisClient::RedisClient(RedisOptions options, Endpoint fixed, std::vector<Endpoint> sentinels)
    : options_(std::move(options)), sentinels_(std::move(sentinels)) {
  {
    absl::MutexLock lock(&endpoint_mu_);
    endpoint_ = std::move(fixed);
  }
  absl::MutexLock lock(&mu_);
  slots_.resize(options_.pool_size);
  backoff_ = options_.reconnect_backoff;
}

RedisClient::~RedisClient() {
  {
    absl::MutexLock lock(&watch_mu_);
    stopping_ = true;
  }
  if (watcher_.joinable()) watcher_.join();
  absl::MutexLock lock(&mu_);
  for (Slot& slot : slots_) {
    if (slot.context != nullptr) redisFree(slot.context);
    slot.context = nullptr;
  }
}

std::string RedisClient::Endpoint::ToString() const { return text::JoinHostPort(host, port); }

std::string RedisClient::Key(absl::string_view name) const {
  return absl::StrCat(options_.key_prefix, name);
}

std::string RedisClient::primary_address() const {
  absl::MutexLock lock(&endpoint_mu_);
  return endpoint_.host.empty() ? std::string() : endpoint_.ToString();
}

absl::Status RedisClient::Unavailable(absl::string_view what, absl::string_view error) const {
  if (!sentinel_mode()) {
    return absl::UnavailableError(absl::StrCat("redis ", options_.address, ": ", what, ": ", error));
  }
  std::string primary = primary_address();
  return absl::UnavailableError(absl::StrCat("redis master ", options_.sentinel_master, " (",
                                             primary.empty() ? "not discovered" : primary,
                                             "): ", what, ": ", error));
}

void RedisClient::SuspectPrimary() const {
  if (!sentinel_mode()) return;
  absl::MutexLock lock(&endpoint_mu_);
  suspect_ = true;
}

std::string RedisClient::FailedReply(const redisContext* c) const {
  if (c->err == 0) return "no reply";
  // hiredis reports a read that hit the socket's timeout as EAGAIN's text.
  if (c->err == REDIS_ERR_IO && absl::string_view(c->errstr) == strerror(EAGAIN)) {
    return absl::StrCat("no reply within the command timeout (", absl::FormatDuration(options_.command_timeout),
                        ")");
  }
  return c->errstr;
}

absl::StatusOr<redisContext*> RedisClient::Open(const Endpoint& at) const {
  const std::string where = at.ToString();
  auto unavailable = [&](absl::string_view what, absl::string_view error) {
    return absl::UnavailableError(absl::StrCat("redis ", where, ": ", what, ": ", error));
  };
  redisContext* c = redisConnectWithTimeout(at.host.c_str(), at.port, absl::ToTimeval(options_.connect_timeout));
  if (c == nullptr) return unavailable("connect", "out of memory");
  if (c->err != 0) {
    absl::Status status = unavailable("connect", c->errstr);
    redisFree(c);
    return status;
  }
  if (redisSetTimeout(c, absl::ToTimeval(options_.command_timeout)) != REDIS_OK ||
      redisEnableKeepAlive(c) != REDIS_OK) {
    absl::Status status = unavailable("connect", c->err != 0 ? c->errstr : "setsockopt failed");
    redisFree(c);
    return status;
  }
  if (!options_.password.empty()) {
    const char* argv[] = {"AUTH", options_.password.data()};
    const size_t lens[] = {4, options_.password.size()};
    auto* reply = static_cast<redisReply*>(redisCommandArgv(c, 2, argv, lens));
    absl::Status status;
    if (reply == nullptr) {
      status = unavailable("AUTH", FailedReply(c));
    } else if (reply->type == REDIS_REPLY_ERROR) {
      // Redis' message never contains the password.
      status = absl::PermissionDeniedError(
          absl::StrCat("redis ", where, ": AUTH: ", absl::string_view(reply->str, reply->len)));
    }
    if (reply != nullptr) freeReplyObject(reply);
    if (!status.ok()) {
      redisFree(c);
      return status;
    }
  }
  if (sentinel_mode()) {
    // A sentinel's answer may be stale (a failover under way) and a demoted
    // primary keeps answering: only a node that says it is master is used.
    auto* reply = static_cast<redisReply*>(redisCommand(c, "ROLE"));
    absl::Status status;
    if (reply == nullptr) {
      status = unavailable("ROLE", FailedReply(c));
    } else if (reply->type != REDIS_REPLY_ARRAY || reply->elements == 0 ||
               reply->element[0]->type != REDIS_REPLY_STRING) {
      status = unavailable("ROLE", "unexpected reply");
    } else if (absl::string_view role(reply->element[0]->str, reply->element[0]->len); role != "master") {
      status = unavailable("ROLE", absl::StrCat("is a ", role.substr(0, 32), ", not the primary"));
    }
    if (reply != nullptr) freeReplyObject(reply);
    if (!status.ok()) {
      redisFree(c);
      return status;
    }
  }
  return c;
}

std::optional<RedisClient::Endpoint> RedisClient::AskSentinel(const Endpoint& sentinel,
                                                             std::string* failure) const {
  redisContext* s =
      redisConnectWithTimeout(sentinel.host.c_str(), sentinel.port, absl::ToTimeval(options_.connect_timeout));
  if (s == nullptr) {
    *failure = "out of memory";
    return std::nullopt;
  }
  if (s->err != 0 || redisSetTimeout(s, absl::ToTimeval(options_.command_timeout)) != REDIS_OK) {
    *failure = s->errstr;
    redisFree(s);
    return std::nullopt;
  }
  const char* argv[] = {"SENTINEL", "get-master-addr-by-name", options_.sentinel_master.c_str()};
  const size_t lens[] = {8, 23, options_.sentinel_master.size()};
  auto* reply = static_cast<redisReply*>(redisCommandArgv(s, 3, argv, lens));
  Endpoint named;
  if (reply == nullptr) {
    *failure = FailedReply(s);
  } else if (reply->type == REDIS_REPLY_NIL) {
    *failure = absl::StrCat("does not know master \"", options_.sentinel_master, "\"");
  } else if (reply->type == REDIS_REPLY_ERROR) {
    *failure = std::string(absl::string_view(reply->str, reply->len).substr(0, 200));
  } else if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
             reply->element[0]->type != REDIS_REPLY_STRING || reply->element[1]->type != REDIS_REPLY_STRING ||
             reply->element[0]->len == 0 || reply->element[0]->len > 253 ||
             !absl::SimpleAtoi(absl::string_view(reply->element[1]->str, reply->element[1]->len), &named.port) ||
             named.port < 1 || named.port > 65535) {
    *failure = "unexpected reply to SENTINEL get-master-addr-by-name";
  } else {
    named.host.assign(reply->element[0]->str, reply->element[0]->len);
  }
  if (reply != nullptr) freeReplyObject(reply);
  redisFree(s);
  if (named.host.empty()) return std::nullopt;
  return named;
}

absl::StatusOr<RedisClient::Opened> RedisClient::Discover() const {
  std::string failures;
  for (const Endpoint& sentinel : sentinels_) {
    absl::StrAppend(&failures, failures.empty() ? "" : "; ", "sentinel ", sentinel.ToString(), ": ");
    std::string failure;
    std::optional<Endpoint> asked = AskSentinel(sentinel, &failure);
    if (!asked.has_value()) {
      absl::StrAppend(&failures, failure);
      continue;
    }
    const Endpoint named = *std::move(asked);
    absl::StatusOr<redisContext*> c = Open(named);
    if (!c.ok()) {
      absl::StrAppend(&failures, "names ", named.ToString(), ", but ", c.status().message());
      if (c.status().code() == absl::StatusCode::kPermissionDenied) return c.status();
      continue;
    }
    uint64_t generation;
    {
      absl::MutexLock lock(&endpoint_mu_);
      if (!(endpoint_ == named)) {
        if (!endpoint_.host.empty()) failovers_.fetch_add(1, std::memory_order_relaxed);
        endpoint_ = named;
        generation_.fetch_add(1, std::memory_order_relaxed);
      }
      suspect_ = false;
      generation = generation_.load(std::memory_order_relaxed);
    }
    return Opened{*c, generation};
  }
  return absl::UnavailableError(absl::StrCat("redis master ", options_.sentinel_master,
                                             ": no sentinel named a reachable primary (", failures, ")"));
}

absl::StatusOr<RedisClient::Opened> RedisClient::OpenPrimary() const {
  Endpoint at;
  bool discover;
  {
    absl::MutexLock lock(&endpoint_mu_);
    at = endpoint_;
    discover = sentinel_mode() && (suspect_ || endpoint_.host.empty());
  }
  if (discover) return Discover();
  const uint64_t generation = generation_.load(std::memory_order_relaxed);
  absl::StatusOr<redisContext*> c = Open(at);
  if (!c.ok()) {
    SuspectPrimary();
    return c.status();
  }
  return Opened{*c, generation};
}

absl::StatusOr<redisContext*> RedisClient::Connect() const {
  absl::StatusOr<Opened> opened = OpenPrimary();
  if (!opened.ok()) return opened.status();
  return opened->context;
}

void RedisClient::WatchSentinels() {
  while (true) {
    {
      absl::MutexLock lock(&watch_mu_);
      if (watch_mu_.AwaitWithTimeout(absl::Condition(&stopping_), options_.sentinel_poll_interval)) return;
    }
    Endpoint current;
    bool suspect;
    {
      absl::MutexLock lock(&endpoint_mu_);
      if (endpoint_.host.empty()) continue;  // not started yet: the first connect discovers
      current = endpoint_;
      suspect = suspect_;
    }
    if (suspect) {
      // A connection failed: find the new primary now, so that callers do
      // not wait for their next connect to do it.
      absl::StatusOr<Opened> opened = Discover();
      if (opened.ok()) {
        redisFree(opened->context);
        EndReconnectBackoff();
      }
      continue;
    }
    for (const Endpoint& sentinel : sentinels_) {
      std::string failure;
      std::optional<Endpoint> named = AskSentinel(sentinel, &failure);
      if (!named.has_value()) continue;
      if (!(*named == current)) {
        // Failed over while the old primary still answers: it may accept
        // writes until the sentinels demote it, so move now.
        absl::StatusOr<Opened> opened = Discover();
        if (opened.ok()) {
          redisFree(opened->context);
          EndReconnectBackoff();
        } else {
          SuspectPrimary();
        }
      }
      break;
    }
  }
}

void RedisClient::EndReconnectBackoff() {
  absl::MutexLock lock(&mu_);
  backoff_ = options_.reconnect_backoff;
  next_connect_ = absl::InfinitePast();
}

absl::StatusOr<std::string> RedisClient::DiscoverPrimary() {
  if (!sentinel_mode()) return options_.address;
  absl::StatusOr<Opened> opened = Discover();
  if (!opened.ok()) return opened.status();
  redisFree(opened->context);
  return primary_address();
}

absl::StatusOr<RedisClient::Connection> RedisClient::Acquire() {
  const absl::Time deadline = absl::Now() + options_.acquire_timeout;
  size_t index = 0;
  bool need_connect = false;
  {
    absl::MutexLock lock(&mu_);
    auto free_slot = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
      // Prefer a slot with an open connection.
      size_t candidate = slots_.size();
      for (size_t i = 0; i < slots_.size(); ++i) {
        if (slots_[i].in_use) continue;
        if (slots_[i].context != nullptr) return i;
        if (candidate == slots_.size()) candidate = i;
      }
      return candidate;
    };
    while ((index = free_slot()) == slots_.size()) {
      if (mu_.AwaitWithDeadline(absl::Condition(
                                    +[](std::vector<Slot>* slots) {
                                      for (const Slot& s : *slots) {
                                        if (!s.in_use) return true;
                                      }
                                      return false;
                                    },
                                    &slots_),
                                deadline)) {
        continue;
      }
      errors_.fetch_add(1, std::memory_order_relaxed);
      return Unavailable("pool", absl::StrCat("no free connection within ",
                                              absl::FormatDuration(options_.acquire_timeout),
                                              " (pool of ", slots_.size(), ")"));
    }
    Slot& slot = slots_[index];
    if (slot.context != nullptr && slot.generation != generation_.load(std::memory_order_relaxed)) {
      // Connected to a primary that failed over since.
      redisFree(slot.context);
      slot.context = nullptr;
    }
    if (slot.context == nullptr) {
      if (absl::Now() < next_connect_) {
        errors_.fetch_add(1, std::memory_order_relaxed);
        return Unavailable("connect", "recently failed; waiting before reconnecting");
      }
      need_connect = true;
    }
    slot.in_use = true;
  }
  if (need_connect) {
    absl::StatusOr<Opened> c = OpenPrimary();
    absl::MutexLock lock(&mu_);
    if (!c.ok()) {
      next_connect_ = absl::Now() + backoff_;
      backoff_ = std::min(backoff_ * 2, options_.max_reconnect_backoff);
      slots_[index].in_use = false;
      errors_.fetch_add(1, std::memory_order_relaxed);
      return c.status();
    }
    backoff_ = options_.reconnect_backoff;
    next_connect_ = absl::InfinitePast();
    slots_[index].context = c->context;
    slots_[index].generation = c->generation;
  }
  return Connection(this, index);
}

void RedisClient::Release(size_t index, bool close) {
  absl::MutexLock lock(&mu_);
  Slot& slot = slots_[index];
  if (!close && slot.generation != generation_.load(std::memory_order_relaxed)) close = true;
  if (close && slot.context != nullptr) {
    redisFree(slot.context);
    slot.context = nullptr;
  }
  slot.in_use = false;
}

absl::StatusOr<RedisReply> RedisClient::Command(absl::Span<const std::string> argv) {
  absl::StatusOr<Connection> c = Acquire();
  if (!c.ok()) return c.status();
  return c->Command(argv);
}

absl::StatusOr<RedisReply> RedisClient::Command(std::initializer_list<absl::string_view> argv) {
  absl::StatusOr<Connection> c = Acquire();
  if (!c.ok()) return c.status();
  return c->Command(argv);
}

absl::StatusOr<RedisReply> RedisClient::Read(std::initializer_list<absl::string_view> argv) {
  absl::StatusOr<RedisReply> r = Command(argv);
  if (r.ok() || r.status().code() != absl::StatusCode::kUnavailable) return r;
  return Command(argv);
}

absl::Status RedisClient::WaitForReplicas(Connection& connection) {
  if (options_.wait_replicas <= 0) return absl::OkStatus();
  // WAIT blocks up to wait_timeout before it replies: the read must not time
  // out first.
  redisContext* context = nullptr;
  {
    absl::MutexLock lock(&mu_);
    if (connection.client_ == this) context = slots_[connection.slot_].context;
  }
  if (context != nullptr) redisSetTimeout(context, absl::ToTimeval(options_.command_timeout + options_.wait_timeout));
  absl::StatusOr<RedisReply> r =
      connection.Command({"WAIT", absl::StrCat(options_.wait_replicas),
                          absl::StrCat(absl::ToInt64Milliseconds(options_.wait_timeout))});
  if (r.ok() && context != nullptr) redisSetTimeout(context, absl::ToTimeval(options_.command_timeout));
  if (!r.ok()) return r.status();
  absl::StatusOr<int64_t> acked = RedisInteger(*r, "WAIT");
  if (!acked.ok()) return acked.status();
  if (*acked < options_.wait_replicas) {
    return Unavailable("WAIT", absl::StrCat("the write is stored on the primary, but only ", *acked, " of ",
                                            options_.wait_replicas, " replicas acknowledged it within ",
                                            absl::FormatDuration(options_.wait_timeout),
                                            ": a failover may lose it (repeating the write is safe)"));
  }
  return absl::OkStatus();
}

RedisClient::Connection::Connection(Connection&& other) noexcept
    : client_(std::exchange(other.client_, nullptr)),
      slot_(other.slot_),
      watching_(other.watching_),
      in_multi_(other.in_multi_),
      broken_(other.broken_) {}

RedisClient::Connection::~Connection() {
  if (client_ == nullptr) return;
  bool close = broken_;
  if (!close && (in_multi_ || watching_)) {
    absl::StatusOr<RedisReply> r = Command({in_multi_ ? "DISCARD" : "UNWATCH"});
    close = !r.ok() || r->is_error();
  }
  client_->Release(slot_, close);
}

absl::StatusOr<RedisReply> RedisClient::Connection::Command(absl::Span<const std::string> argv) {
  std::vector<const char*> args;
  std::vector<size_t> lens;
  for (const std::string& a : argv) {
    args.push_back(a.data());
    lens.push_back(a.size());
  }
  return CommandArgv(args, lens);
}

absl::StatusOr<RedisReply> RedisClient::Connection::Command(
    std::initializer_list<absl::string_view> argv) {
  std::vector<const char*> args;
  std::vector<size_t> lens;
  for (absl::string_view a : argv) {
    args.push_back(a.data());
    lens.push_back(a.size());
  }
  return CommandArgv(args, lens);
}

absl::StatusOr<RedisReply> RedisClient::Connection::CommandArgv(
    const std::vector<const char*>& args, const std::vector<size_t>& lens) {
  if (client_ == nullptr || args.empty()) return absl::InternalError("redis: empty command");
  const absl::string_view name(args[0], lens[0]);
  const std::string label(name.substr(0, 32));
  if (broken_) return client_->Unavailable(label, "connection failed earlier");
  redisContext* context;
  {
    absl::MutexLock lock(&client_->mu_);
    context = client_->slots_[slot_].context;
  }
  if (context == nullptr) return client_->Unavailable(label, "connection closed");
  client_->commands_.fetch_add(1, std::memory_order_relaxed);
  void* raw = redisCommandArgv(context, static_cast<int>(args.size()),
                               const_cast<const char**>(args.data()), lens.data());
  if (raw == nullptr || context->err != 0) {
    absl::Status status = client_->Unavailable(label, client_->FailedReply(context));
    if (raw != nullptr) freeReplyObject(raw);
    client_->errors_.fetch_add(1, std::memory_order_relaxed);
    // The connection is unusable: it is closed when returned to the pool
    // and the next Acquire() reopens one.
    watching_ = in_multi_ = false;
    broken_ = true;
    client_->SuspectPrimary();
    return status;
  }
  RedisReply reply = CopyReply(static_cast<redisReply*>(raw));
  freeReplyObject(raw);
  if (reply.is_error() && NotAPrimary(reply.str)) {
    // A demoted primary (READONLY), a replica cut off from its primary
    // (MASTERDOWN) or one still loading: not where writes go. The command
    // did nothing; the caller sees UNAVAILABLE and the next connect goes
    // to the primary (rediscovered in Sentinel mode).
    client_->errors_.fetch_add(1, std::memory_order_relaxed);
    watching_ = in_multi_ = false;
    broken_ = true;
    client_->SuspectPrimary();
    return client_->Unavailable(label, reply.str.substr(0, 200));
  }
  if (NameIs(name, "WATCH")) {
    watching_ = !reply.is_error();
  } else if (NameIs(name, "MULTI")) {
    in_multi_ = !reply.is_error();
  } else if (NameIs(name, "EXEC") || NameIs(name, "DISCARD")) {
    in_multi_ = watching_ = false;
  } else if (NameIs(name, "UNWATCH")) {
    watching_ = false;
  }
  return reply;
}

}  // namespace edgepass::server
