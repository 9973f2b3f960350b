// JSON over HTTP <-> edgepass.v1 messages: protobuf's canonical JSON
// mapping for bodies and replies, path parameters and GET query parameters
// into request fields, and the JSON error body with the HTTP status of the
// status code.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/url_query.h"
#include "google/protobuf/util/json_util.h"
#include "server/rest/rest_gateway.h"
#include "server/rest/plain_json.h"
#include "server/rest/rest_internal.h"
#include "text/json_string.h"

namespace edgepass::server {

namespace pb = google::protobuf;

int HttpStatusOf(int grpc_code) {
  switch (static_cast<absl::StatusCode>(grpc_code)) {
    case absl::StatusCode::kOk: return 200;
    case absl::StatusCode::kCancelled: return 499;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange: return 400;
    case absl::StatusCode::kDeadlineExceeded: return 504;
    case absl::StatusCode::kNotFound: return 404;
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kAborted: return 409;
    case absl::StatusCode::kPermissionDenied: return 403;
    case absl::StatusCode::kUnauthenticated: return 401;
    case absl::StatusCode::kResourceExhausted: return 429;
    case absl::StatusCode::kFailedPrecondition: return 412;
    case absl::StatusCode::kUnimplemented: return 501;
    case absl::StatusCode::kUnavailable: return 503;
    default: return 500;
  }
}

namespace rest_internal {
namespace {

// Sets the string field at dotted `path` of `message`.
absl::Status SetPathField(pb::Message* message, absl::string_view path, const std::string& value) {
  std::vector<absl::string_view> parts = absl::StrSplit(path, '.');
  for (size_t i = 0; i < parts.size(); ++i) {
    const pb::FieldDescriptor* f = message->GetDescriptor()->FindFieldByName(std::string(parts[i]));
    if (f == nullptr || f->is_repeated()) return absl::InternalError(absl::StrCat("bad route field ", path));
    if (i + 1 < parts.size()) {
      if (f->cpp_type() != pb::FieldDescriptor::CPPTYPE_MESSAGE) {
        return absl::InternalError(absl::StrCat("bad route field ", path));
      }
      message = message->GetReflection()->MutableMessage(message, f);
    } else if (f->cpp_type() == pb::FieldDescriptor::CPPTYPE_STRING) {
      message->GetReflection()->SetString(message, f, value);
    } else {
      return absl::InternalError(absl::StrCat("bad route field ", path));
    }
  }
  return absl::OkStatus();
}

// Sets a top-level scalar field from a query parameter (by proto or JSON name).
absl::Status SetQueryField(pb::Message* message, const std::string& name, const std::string& value) {
  const pb::Descriptor* d = message->GetDescriptor();
  const pb::FieldDescriptor* f = d->FindFieldByName(name);
  if (f == nullptr) f = d->FindFieldByCamelcaseName(name);
  if (f == nullptr || f->is_repeated() || f->cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE) {
    return absl::InvalidArgumentError(absl::StrCat(name, ": unknown query parameter"));
  }
  const pb::Reflection* r = message->GetReflection();
  auto bad = [&] { return absl::InvalidArgumentError(absl::StrCat(name, ": bad value")); };
  switch (f->cpp_type()) {
    case pb::FieldDescriptor::CPPTYPE_STRING: r->SetString(message, f, value); break;
    case pb::FieldDescriptor::CPPTYPE_BOOL:
      if (value == "true" || value == "1" || value.empty()) {
        r->SetBool(message, f, true);
      } else if (value == "false" || value == "0") {
        r->SetBool(message, f, false);
      } else {
        return bad();
      }
      break;
    case pb::FieldDescriptor::CPPTYPE_INT32: {
      int32_t v;
      if (!absl::SimpleAtoi(value, &v)) return bad();
      r->SetInt32(message, f, v);
      break;
    }
    case pb::FieldDescriptor::CPPTYPE_UINT64: {
      uint64_t v;
      if (!absl::SimpleAtoi(value, &v)) return bad();
      r->SetUInt64(message, f, v);
      break;
    }
    default: return bad();
  }
  return absl::OkStatus();
}

bool IsJsonContentType(const http::Request& request) {
  const std::string* type = request.headers.Find("content-type");
  if (type == nullptr) return false;
  absl::string_view media = absl::StripAsciiWhitespace(absl::string_view(*type).substr(0, type->find(';')));
  return absl::EqualsIgnoreCase(media, "application/json");
}


const char* CodeName(absl::StatusCode code) {
  static constexpr const char* kNames[] = {
      "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
      "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",
      "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"};
  const int i = static_cast<int>(code);
  return i >= 0 && i <= 16 ? kNames[i] : "UNKNOWN";
}

// The field a service error names: the message's leading "a.b[0].c:" if any.
std::string FieldOf(absl::string_view message) {
  const size_t colon = message.find(": ");
  if (colon == absl::string_view::npos || colon == 0) return "";
  absl::string_view head = message.substr(0, colon);
  for (char ch : head) {
    // '-' for header names ("x-forwarded-for").
    if (!absl::ascii_isalnum(ch) && ch != '_' && ch != '.' && ch != '[' &&
        ch != ']' && ch != '-')
      return "";
  }
  return std::string(head);
}

}  // namespace

http::Response ErrorResponse(absl::StatusCode code, absl::string_view message) {
  std::string body = absl::StrCat("{\"error\":{\"code\":\"", CodeName(code),
                                  "\",\"message\":", text::JsonString(message));
  if (std::string field = FieldOf(message); !field.empty()) {
    absl::StrAppend(&body, ",\"field\":", text::JsonString(field));
  }
  body += "}}";
  http::Response response = http::Response::Json(HttpStatusOf(static_cast<int>(code)), std::move(body));
  if (code == absl::StatusCode::kUnauthenticated) response.headers.Set("WWW-Authenticate", "Bearer");
  return response;
}

http::Response ErrorResponse(const absl::Status& status) {
  return ErrorResponse(status.code(), status.message());
}

std::optional<http::Response> FillRequest(const Route& route, const http::Request& request,
                                          absl::string_view query_text,
                                          const std::vector<std::pair<std::string, std::string>>& params,
                                          pb::Message* message) {
  if (!route.body.empty() && !request.body.empty()) {
    if (!IsJsonContentType(request)) {
      http::Response r = ErrorResponse(absl::StatusCode::kInvalidArgument, "content-type: must be application/json");
      r.status = 415;
      return r;
    }
    pb::Message* target = message;
    if (route.body != "*") {
      const pb::FieldDescriptor* f = message->GetDescriptor()->FindFieldByName(route.body);
      target = message->GetReflection()->MutableMessage(message, f);
    }
    if (!PlainJsonToMessage(request.body, target)) {  // the usual bodies, without protobuf's type resolution
      target->Clear();
      pb::util::JsonParseOptions parse;
      if (pb::util::Status s = pb::util::JsonStringToMessage(request.body, target, parse); !s.ok()) {
        return ErrorResponse(absl::StatusCode::kInvalidArgument, absl::StrCat("body: ", std::string(s.message())));
      }
    }
  } else if (!request.body.empty()) {
    return ErrorResponse(absl::StatusCode::kInvalidArgument, "body: this route takes none");
  }
  for (const auto& [name, value] : core::ParseQueryString(query_text)) {
    if (request.method != "GET") {
      return ErrorResponse(absl::StatusCode::kInvalidArgument,
                           absl::StrCat(name, ": query parameters only on GET routes"));
    }
    if (absl::Status s = SetQueryField(message, name, value); !s.ok()) return ErrorResponse(s);
  }
  for (const auto& [field, value] : params) {
    if (absl::Status s = SetPathField(message, field, value); !s.ok()) return ErrorResponse(s);
  }
  return std::nullopt;
}

http::Response ReplyResponse(const pb::Message& reply) {
  if (std::optional<std::string> plain = PlainMessageToJson(reply)) {
    return http::Response::Json(200, *std::move(plain));
  }
  std::string json;
  pb::util::JsonPrintOptions print;
  if (pb::util::Status s = pb::util::MessageToJsonString(reply, &json, print); !s.ok()) {
    return ErrorResponse(absl::StatusCode::kInternal, "internal error");
  }
  return http::Response::Json(200, std::move(json));
}

}  // namespace rest_internal
}  // namespace edgepass::server
