#include "aws/aws_error.h"

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "nlohmann/json.hpp"

namespace edgepass::aws {
namespace {

constexpr size_t kMaxMessage = 200;

std::string AfterHash(std::string code) {
  // "com.amazonaws.secretsmanager#ResourceNotFoundException", "Code:..."
  size_t hash = code.rfind('#');
  if (hash != std::string::npos) code = code.substr(hash + 1);
  size_t colon = code.find(':');
  if (colon != std::string::npos) code = code.substr(0, colon);
  return code;
}

}  // namespace

std::optional<std::string> XmlElementText(absl::string_view xml, absl::string_view name) {
  std::string open = absl::StrCat("<", name, ">");
  std::string close = absl::StrCat("</", name, ">");
  size_t start = xml.find(open);
  if (start == absl::string_view::npos) return std::nullopt;
  start += open.size();
  size_t end = xml.find(close, start);
  if (end == absl::string_view::npos) return std::nullopt;
  return absl::StrReplaceAll(xml.substr(start, end - start), {{"&lt;", "<"},
                                                               {"&gt;", ">"},
                                                               {"&quot;", "\""},
                                                               {"&apos;", "'"},
                                                               {"&amp;", "&"}});
}

AwsError ParseAwsError(const HttpResponse& response) {
  AwsError error;
  error.http_status = response.status;
  nlohmann::json json = nlohmann::json::parse(response.body, nullptr, false);
  if (json.is_object()) {
    for (const char* key : {"__type", "code", "Code"}) {
      if (json.contains(key) && json[key].is_string()) {
        error.code = AfterHash(json[key].get<std::string>());
        break;
      }
    }
    for (const char* key : {"message", "Message"}) {
      if (json.contains(key) && json[key].is_string()) {
        error.message = json[key].get<std::string>();
        break;
      }
    }
  } else if (std::optional<std::string> code = XmlElementText(response.body, "Code")) {
    error.code = *code;
    error.message = XmlElementText(response.body, "Message").value_or("");
  }
  if (error.code.empty()) error.code = AfterHash(response.Header("x-amzn-ErrorType"));
  if (error.message.size() > kMaxMessage) error.message.resize(kMaxMessage);
  return error;
}

bool IsRetryable(const AwsError& error) {
  return error.http_status == 429 || error.http_status >= 500 ||
         error.code == "ThrottlingException" || error.code == "Throttling" ||
         error.code == "TooManyRequestsException" || error.code == "RequestLimitExceeded" ||
         error.code == "InternalServiceError" || error.code == "InternalFailure" ||
         error.code == "ServiceUnavailable";
}

absl::Status AwsErrorStatus(absl::string_view operation, const AwsError& error) {
  std::string text = absl::StrCat(operation, ": HTTP ", error.http_status, " ",
                                  error.code.empty() ? "(no error code)" : error.code);
  if (!error.message.empty()) absl::StrAppend(&text, ": ", error.message);
  const std::string& c = error.code;
  if (c == "ResourceNotFoundException") return absl::NotFoundError(text);
  if (c == "ResourceExistsException") return absl::AlreadyExistsError(text);
  if (c == "SignatureDoesNotMatch" || c == "InvalidSignatureException" ||
      c == "IncompleteSignature" || c == "InvalidClientTokenId" ||
      c == "UnrecognizedClientException" || c == "ExpiredTokenException" ||
      c == "ExpiredToken" || c == "InvalidIdentityToken" || c == "MissingAuthenticationToken" ||
      c == "RequestTimeTooSkewed" || c == "SignatureExpired") {
    return absl::UnauthenticatedError(text);
  }
  if (absl::StartsWith(c, "AccessDenied")) return absl::PermissionDeniedError(text);
  if (IsRetryable(error)) return absl::UnavailableError(text);
  if (c == "InvalidRequestException" || c == "DecryptionFailure") {
    return absl::FailedPreconditionError(text);
  }
  if (error.http_status == 401) return absl::UnauthenticatedError(text);
  if (error.http_status == 403) return absl::PermissionDeniedError(text);
  return absl::InvalidArgumentError(text);
}

}  // namespace edgepass::aws
