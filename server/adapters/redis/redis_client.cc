#include "server/adapters/redis/redis_client.h"

#include <hiredis/hiredis.h>
#include <signal.h>
#include <strings.h>
#include <sys/time.h>

#include <algorithm>
#include <mutex>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

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

}  // namespace

absl::StatusOr<std::unique_ptr<RedisClient>> RedisClient::Create(const RedisOptions& options) {
  if (absl::Status s = ValidateRedisOptions(options); !s.ok()) return s;
  std::string host;
  int port = 0;
  if (absl::Status s = SplitRedisAddress(options.address, &host, &port); !s.ok()) return s;
  static std::once_flag ignore_sigpipe;
  std::call_once(ignore_sigpipe, [] { ::signal(SIGPIPE, SIG_IGN); });
  return std::unique_ptr<RedisClient>(new RedisClient(options, std::move(host), port));
}

RedisClient::RedisClient(RedisOptions options, std::string host, int port)
    : options_(std::move(options)), host_(std::move(host)), port_(port) {
  absl::MutexLock lock(&mu_);
  slots_.resize(options_.pool_size);
  backoff_ = options_.reconnect_backoff;
}

RedisClient::~RedisClient() {
  absl::MutexLock lock(&mu_);
  for (Slot& slot : slots_) {
    if (slot.context != nullptr) redisFree(slot.context);
    slot.context = nullptr;
  }
}

std::string RedisClient::Key(absl::string_view name) const {
  return absl::StrCat(options_.key_prefix, name);
}

absl::Status RedisClient::Unavailable(absl::string_view what, absl::string_view error) const {
  return absl::UnavailableError(absl::StrCat("redis ", options_.address, ": ", what, ": ", error));
}

absl::StatusOr<redisContext*> RedisClient::Connect() const {
  redisContext* c = redisConnectWithTimeout(host_.c_str(), port_, absl::ToTimeval(options_.connect_timeout));
  if (c == nullptr) return Unavailable("connect", "out of memory");
  if (c->err != 0) {
    absl::Status status = Unavailable("connect", c->errstr);
    redisFree(c);
    return status;
  }
  if (redisSetTimeout(c, absl::ToTimeval(options_.command_timeout)) != REDIS_OK ||
      redisEnableKeepAlive(c) != REDIS_OK) {
    absl::Status status = Unavailable("connect", c->err != 0 ? c->errstr : "setsockopt failed");
    redisFree(c);
    return status;
  }
  if (!options_.password.empty()) {
    const char* argv[] = {"AUTH", options_.password.data()};
    const size_t lens[] = {4, options_.password.size()};
    auto* reply = static_cast<redisReply*>(redisCommandArgv(c, 2, argv, lens));
    absl::Status status;
    if (reply == nullptr) {
      status = Unavailable("AUTH", c->err != 0 ? c->errstr : "no reply");
    } else if (reply->type == REDIS_REPLY_ERROR) {
      // Redis' message never contains the password.
      status = absl::PermissionDeniedError(absl::StrCat(
          "redis ", options_.address, ": AUTH: ", absl::string_view(reply->str, reply->len)));
    }
    if (reply != nullptr) freeReplyObject(reply);
    if (!status.ok()) {
      redisFree(c);
      return status;
    }
  }
  return c;
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
    absl::StatusOr<redisContext*> c = Connect();
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
    slots_[index].context = *c;
  }
  return Connection(this, index);
}

void RedisClient::Release(size_t index, bool close) {
  absl::MutexLock lock(&mu_);
  Slot& slot = slots_[index];
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

absl::Status RedisClient::WaitForReplicas(Connection& connection) {
  if (options_.wait_replicas <= 0) return absl::OkStatus();
  absl::StatusOr<RedisReply> r =
      connection.Command({"WAIT", absl::StrCat(options_.wait_replicas),
                          absl::StrCat(absl::ToInt64Milliseconds(options_.wait_timeout))});
  if (!r.ok()) return r.status();
  absl::StatusOr<int64_t> acked = RedisInteger(*r, "WAIT");
  if (!acked.ok()) return acked.status();
  if (*acked < options_.wait_replicas) {
    return Unavailable("WAIT", absl::StrCat("only ", *acked, " of ", options_.wait_replicas,
                                            " replicas acknowledged the write in time"));
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
    absl::Status status =
        client_->Unavailable(label, context->err != 0 ? context->errstr : "no reply");
    if (raw != nullptr) freeReplyObject(raw);
    client_->errors_.fetch_add(1, std::memory_order_relaxed);
    // The connection is unusable: it is closed when returned to the pool
    // and the next Acquire() reopens one.
    watching_ = in_multi_ = false;
    broken_ = true;
    return status;
  }
  RedisReply reply = CopyReply(static_cast<redisReply*>(raw));
  freeReplyObject(raw);
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
