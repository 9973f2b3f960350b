// An owned copy of one Redis reply (hiredis' redisReply is freed right after
// it is read), so callers never hold hiredis memory.
//
//   absl::StatusOr<RedisReply> r = client.Command({"GET", key});
//   if (r.ok() && r->type == RedisReply::Type::kString) Use(r->str);
//   if (r.ok() && r->is_error()) return RedisReplyError(*r, "GET");
#ifndef EDGEPASS_SERVER_ADAPTERS_REDIS_REDIS_REPLY_H_
#define EDGEPASS_SERVER_ADAPTERS_REDIS_REDIS_REPLY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace edgepass::server {

struct RedisReply {
  enum class Type { kNil, kInteger, kString, kArray, kStatus, kError };

  Type type = Type::kNil;
  int64_t integer = 0;               // kInteger
  std::string str;                   // kString, kStatus ("OK"), kError (message)
  std::vector<RedisReply> elements;  // kArray

  bool is_nil() const { return type == Type::kNil; }
  bool is_error() const { return type == Type::kError; }
};

// INTERNAL "<what>: redis error: <message>" for an error reply (the message
// is Redis' own text, which never contains stored values).
absl::Status RedisReplyError(const RedisReply& reply, absl::string_view what);

// The integer of an integer reply; INTERNAL naming `what` for anything else.
absl::StatusOr<int64_t> RedisInteger(const RedisReply& reply, absl::string_view what);

}  // namespace edgepass::server

#endif  // EDGEPASS_SERVER_ADAPTERS_REDIS_REDIS_REPLY_H_
