#include "server/adapters/redis/redis_reply.h"

#include "absl/strings/str_cat.h"

namespace edgepass::server {
namespace {

absl::string_view TypeName(RedisReply::Type type) {
  switch (type) {
    case RedisReply::Type::kNil:
      return "nil";
    case RedisReply::Type::kInteger:
      return "integer";
    case RedisReply::Type::kString:
      return "string";
    case RedisReply::Type::kArray:
      return "array";
    case RedisReply::Type::kStatus:
      return "status";
    case RedisReply::Type::kError:
      return "error";
  }
  return "unknown";
}

}  // namespace

absl::Status RedisReplyError(const RedisReply& reply, absl::string_view what) {
  if (reply.is_error()) {
    return absl::InternalError(absl::StrCat(what, ": redis error: ", reply.str.substr(0, 512)));
  }
  return absl::InternalError(
      absl::StrCat(what, ": unexpected redis reply of type ", TypeName(reply.type)));
}

absl::StatusOr<int64_t> RedisInteger(const RedisReply& reply, absl::string_view what) {
  if (reply.type != RedisReply::Type::kInteger) return RedisReplyError(reply, what);
  return reply.integer;
}

}  // namespace edgepass::server
